//! Per-account margin-financing state: securities collateral, interest accrual, call status.
//!
//! The loan itself is not a separate balance: an eligible account's negative USD balance
//! (`free + held < 0`) is its loan. Buying with borrowed USD takes the balance below zero at
//! the fill; any credit (a deposit, sale proceeds) repays it at once. So money is conserved by
//! the balances alone, and "repayment by deposit or by sale" needs no extra step.

use super::rules::MAX_SECURITY_CLASSES;
use crate::engine::types::{RatePpm, TimeNs, Units, PPM};

/// Securities of one class posted by the operator for an account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecurityCollateral {
    /// Market value in USD before haircut.
    pub value: Units,
    pub haircut_ppm: RatePpm,
}

impl SecurityCollateral {
    /// Value after haircut, rounded down.
    pub fn after_haircut(&self) -> Units {
        let kept = self.value.0 as i128 * (PPM - self.haircut_ppm.0) as i128 / PPM as i128;
        Units(kept as i64)
    }
}

/// Where an account stands against the margin thresholds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MarginStatus {
    #[default]
    Normal = 0,
    /// Coverage below `call`: no new borrowing or exposure.
    Call = 1,
    /// Coverage below `close_out`: collateral is being sold.
    CloseOut = 2,
}

impl MarginStatus {
    pub fn from_u8(value: u8) -> Option<MarginStatus> {
        match value {
            0 => Some(MarginStatus::Normal),
            1 => Some(MarginStatus::Call),
            2 => Some(MarginStatus::CloseOut),
            _ => None,
        }
    }
}

/// Margin-financing state of one account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MarginAccount {
    pub securities: [SecurityCollateral; MAX_SECURITY_CLASSES],
    /// Σ securities after haircut (kept with `securities`).
    pub securities_value: Units,
    /// The loan on which interest has run since `accrued_to_ns`.
    pub loan_accruing: Units,
    pub accrued_to_ns: TimeNs,
    /// Interest accrued but below one unit: numerator over `PPM × NS_PER_YEAR`.
    pub interest_carry: i128,
    /// Interest charged so far (reporting).
    pub interest_charged: Units,
    pub status: MarginStatus,
}

impl MarginAccount {
    /// Posts `collateral` for `class`, keeping the sum after haircut.
    pub fn post(&mut self, class: usize, collateral: SecurityCollateral) {
        self.securities[class] = collateral;
        self.securities_value = self
            .securities
            .iter()
            .map(SecurityCollateral::after_haircut)
            .fold(Units::ZERO, |a, b| a + b);
    }
}

impl MarginAccount {
    /// The state as words, for the digest and the snapshot (see `decode`).
    pub fn encode(&self, out: &mut impl FnMut(u64)) {
        for security in &self.securities {
            out(security.value.0 as u64);
            out(security.haircut_ppm.0 as u64);
        }
        out(self.loan_accruing.0 as u64);
        out(self.accrued_to_ns);
        out(self.interest_carry as u64);
        out((self.interest_carry >> 64) as u64);
        out(self.interest_charged.0 as u64);
        out(self.status as u64);
    }

    /// Reads what `encode` wrote; `None` from `next` means the input ended.
    ///
    /// # Errors
    /// The name of the first invalid or missing value.
    pub fn decode(next: &mut impl FnMut() -> Option<u64>) -> Result<MarginAccount, &'static str> {
        let mut word = |what: &'static str| next().ok_or(what);
        let mut margin = MarginAccount::default();
        for class in 0..MAX_SECURITY_CLASSES {
            let value = Units(word("security value")? as i64);
            let haircut_ppm = RatePpm(word("security haircut")? as i64);
            if value.0 < 0 || !(0..=PPM).contains(&haircut_ppm.0) {
                return Err("security collateral");
            }
            margin.post(class, SecurityCollateral { value, haircut_ppm });
        }
        margin.loan_accruing = Units(word("accruing loan")? as i64);
        margin.accrued_to_ns = word("accrual time")?;
        let low = word("interest carry")? as u128;
        let high = word("interest carry")? as u128;
        margin.interest_carry = (high << 64 | low) as i128;
        margin.interest_charged = Units(word("interest charged")? as i64);
        let status = word("margin status")?;
        margin.status = u8::try_from(status)
            .ok()
            .and_then(MarginStatus::from_u8)
            .ok_or("margin status")?;
        Ok(margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_and_decode_round_trip() {
        let mut margin = MarginAccount::default();
        margin.post(
            3,
            SecurityCollateral {
                value: Units(1_000),
                haircut_ppm: RatePpm(300_000),
            },
        );
        margin.loan_accruing = Units(77);
        margin.accrued_to_ns = 99;
        margin.interest_carry = -5 + (1i128 << 70);
        margin.interest_charged = Units(12);
        margin.status = MarginStatus::Call;
        let mut words = Vec::new();
        margin.encode(&mut |w| words.push(w));
        let mut it = words.into_iter();
        let back = MarginAccount::decode(&mut || it.next()).expect("round trip");
        assert_eq!(back, margin);
        assert_eq!(back.securities_value, Units(700));
    }

    #[test]
    fn a_truncated_state_names_what_is_missing() {
        let mut words = vec![0u64; 2 * MAX_SECURITY_CLASSES];
        words.push(1);
        let mut it = words.into_iter();
        assert_eq!(
            MarginAccount::decode(&mut || it.next()),
            Err("accrual time")
        );
    }
}

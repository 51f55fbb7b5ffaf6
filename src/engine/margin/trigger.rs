//! The loan trigger index: which margin accounts an index move can call, clear or close out,
//! without visiting every borrower.
//!
//! A borrower holding only one of BTC and ETH has a coverage that depends on that asset's index
//! alone (securities and the loan are fixed between its own commands). Coverage is
//! non-decreasing in the price, so each threshold it can cross is one price:
//!
//! ```text
//! status Normal: Falls at the highest price where coverage < call       (→ Call)
//! status Call:   Falls at the highest price where coverage < close_out  (→ CloseOut)
//!                Rises at the lowest price where coverage ≥ call        (→ Normal)
//! ```
//!
//! found by bisection over the asset's index domain with the exact coverage function, so a
//! trigger is never late. A move of that asset's index visits only the accounts whose trigger
//! it reached; the exact re-evaluation (`status`) then decides. Borrowers holding both assets,
//! or stuck in a close-out (nothing sellable at a valid price), are "cross" accounts,
//! re-evaluated on every index move; borrowers without BTC or ETH depend on no price. The index
//! is derived state: rebuilt from the accounts on snapshot restore.

use super::account::MarginStatus;
use crate::engine::account::Account;
use crate::engine::asset::Asset;
use crate::engine::liquidation::{LiquidationIndex, Trigger};
use crate::engine::state::Engine;
use crate::engine::types::{AccountId, PriceTicks, Units, PPM, UNITS_PER_WHOLE};

/// The triggers of the borrowers holding one virtual asset.
pub(crate) struct LoanTriggers {
    /// The asset's perpetual, whose index prices it.
    pub perp: u16,
    pub falls: LiquidationIndex,
    pub rises: LiquidationIndex,
    /// The index price the triggers were last visited at.
    pub seen: PriceTicks,
}

/// BTC and ETH, in `Engine::loan_triggers` order.
pub(crate) const VA: [Asset; 2] = [Asset::Btc, Asset::Eth];

impl LoanTriggers {
    pub fn new(perp: u16, min: PriceTicks, max: PriceTicks, max_accounts: u32) -> LoanTriggers {
        LoanTriggers {
            perp,
            falls: LiquidationIndex::new(min, max, max_accounts),
            rises: LiquidationIndex::new(min, max, max_accounts),
            seen: PriceTicks(0),
        }
    }
}

impl Engine {
    /// Files `account` under its current triggers (see the module comment).
    pub(crate) fn refile_loan(&mut self, account: AccountId) {
        for slot in self.loan_triggers.iter_mut().flatten() {
            slot.falls.remove(account.0);
            slot.rises.remove(account.0);
        }
        let (loan, holdings, status) = {
            let acc = &self.accounts[account.0 as usize];
            (
                Self::loan_of(acc),
                Self::va_holdings(acc),
                acc.margin.status,
            )
        };
        let holding = |k: usize| holdings[k] > Units::ZERO;
        let cross =
            loan > Units::ZERO && (status == MarginStatus::CloseOut || (holding(0) && holding(1)));
        self.loan_cross.set(account.0, cross);
        if loan == Units::ZERO || cross {
            return;
        }
        let Some(k) = (0..2).find(|&k| holding(k)) else {
            return;
        };
        let rules = self.limits.margin;
        let acc = &self.accounts[account.0 as usize];
        let (falls, rises) = match status {
            MarginStatus::Normal => (self.threshold_falls(acc, k, rules.call_ratio_ppm.0), None),
            _ => (
                self.threshold_falls(acc, k, rules.close_out_ratio_ppm.0),
                self.threshold_rises(acc, k, rules.call_ratio_ppm.0),
            ),
        };
        let Some(slot) = self.loan_triggers[k].as_mut() else {
            return;
        };
        if let Some(price) = falls {
            slot.falls.set(account.0, Trigger::Falls(price));
        }
        if let Some(price) = rises {
            slot.rises.set(account.0, Trigger::Rises(price));
        }
    }

    /// Coverage (ppm) of `acc` were the index of VA slot `k` at `price`.
    fn coverage_at(&self, acc: &Account, k: usize, price: PriceTicks, loan: i128) -> i128 {
        let Some(slot) = self.loan_triggers[k].as_ref() else {
            return i128::MAX;
        };
        let tick_units = self.instruments[slot.perp as usize].spec.tick_units as i128;
        let units = Self::va_holdings(acc)[k].0 as i128;
        let keep = (PPM - self.limits.risk.haircut_ppm[VA[k].index()].0) as i128;
        let value = units * price.0 as i128 * tick_units / UNITS_PER_WHOLE as i128;
        let mut va = [0i128; 2];
        va[k] = (value * keep).div_euclid(PPM as i128);
        let rules = &self.limits.margin;
        let loanable = super::loanable::loanable_value(
            acc.margin.securities_value.0 as i128,
            va,
            rules.va_share_cap_ppm.0,
            rules.single_asset_cap_ppm.0,
        );
        loanable * PPM as i128 / loan
    }

    /// The index domain of VA slot `k`.
    fn domain(&self, k: usize) -> Option<(i64, i64)> {
        let slot = self.loan_triggers[k].as_ref()?;
        let spec = &self.instruments[slot.perp as usize].spec;
        Some((spec.min_price_ticks.0, spec.max_price_ticks.0))
    }

    /// The highest price at which coverage is below `threshold_ppm`, if any.
    fn threshold_falls(&self, acc: &Account, k: usize, threshold_ppm: i64) -> Option<PriceTicks> {
        let (low, high) = self.domain(k)?;
        let loan = Self::loan_of(acc).0 as i128;
        let below = |p: i64| self.coverage_at(acc, k, PriceTicks(p), loan) < threshold_ppm as i128;
        if !below(low) {
            return None;
        }
        // Invariant: below(lo) holds; the answer is in [lo, hi].
        let (mut lo, mut hi) = (low, high);
        while lo < hi {
            let mid = lo + (hi - lo + 1) / 2;
            if below(mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Some(PriceTicks(lo))
    }

    /// The lowest price at which coverage is at least `threshold_ppm`, if any.
    fn threshold_rises(&self, acc: &Account, k: usize, threshold_ppm: i64) -> Option<PriceTicks> {
        let (low, high) = self.domain(k)?;
        let loan = Self::loan_of(acc).0 as i128;
        let reached =
            |p: i64| self.coverage_at(acc, k, PriceTicks(p), loan) >= threshold_ppm as i128;
        if !reached(high) {
            return None;
        }
        let (mut lo, mut hi) = (low, high);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if reached(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(PriceTicks(lo))
    }

    /// The (falls, rises) triggers `account` is filed under for `asset` (tests, tools).
    pub fn loan_triggers_of(&self, asset: Asset, account: AccountId) -> (Trigger, Trigger) {
        let slot = VA
            .iter()
            .position(|a| *a == asset)
            .and_then(|k| self.loan_triggers[k].as_ref());
        match slot {
            Some(slot) => (slot.falls.trigger(account.0), slot.rises.trigger(account.0)),
            None => (Trigger::Never, Trigger::Never),
        }
    }

    /// After an index move: marks the borrowers whose triggers it reached, and the cross
    /// borrowers, for re-evaluation.
    pub(crate) fn visit_loan_triggers(&mut self) {
        for k in 0..2 {
            let Some(slot) = self.loan_triggers[k].as_ref() else {
                continue;
            };
            let perp = self.instruments[slot.perp as usize]
                .perp
                .as_ref()
                .expect("perp");
            let price = perp.index.price;
            if price == slot.seen || price.0 <= 0 {
                continue;
            }
            self.loan_scratch.clear();
            let scratch = &mut self.loan_scratch;
            slot.falls
                .for_each_triggered(price, |account, _| scratch.push(account));
            slot.rises
                .for_each_triggered(price, |account, _| scratch.push(account));
            self.loan_triggers[k].as_mut().expect("present").seen = price;
            for i in 0..self.loan_scratch.len() {
                let account = AccountId(self.loan_scratch[i]);
                self.mark_loan_dirty(account);
            }
        }
        for i in 0..self.loan_cross.members().len() {
            let account = AccountId(self.loan_cross.members()[i]);
            self.mark_loan_dirty(account);
        }
    }
}

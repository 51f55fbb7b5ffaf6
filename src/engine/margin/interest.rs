//! Interest on margin loans, from journaled time.
//!
//! ```text
//! interest = loan × rate × (now − accrued_to) / (1e6 × NS_PER_YEAR)
//! ```
//!
//! The loan is constant between two updates of the account (every balance change updates it
//! at the end of its command, at the command's time), so the product is exact. The charge is
//! the whole units of the running total; the fraction is carried to the next charge, so
//! rounding never creates or loses money and the total charged is the floor of the exact
//! interest. Interest is debited from the account's USD (it adds to the loan) and credited to
//! the venue's interest income. Besides every loan change, all loans are updated at each
//! multiple of `interest_interval` of journaled time.

use crate::engine::asset::Asset;
use crate::engine::event::{Event, EventSink};
use crate::engine::state::Engine;
use crate::engine::types::{AccountId, TimeNs, Units, PPM};

use super::rules::NS_PER_YEAR;

impl Engine {
    /// Charges `account`'s interest up to now and restarts accrual on its current loan.
    pub(crate) fn accrue_interest(&mut self, account: AccountId, sink: &mut impl EventSink) {
        let rate = self.limits.margin.interest_rate_ppm.0 as i128;
        let now = self.now;
        let acc = &mut self.accounts[account.0 as usize];
        let margin = &mut acc.margin;
        let elapsed = now.saturating_sub(margin.accrued_to_ns) as i128;
        let total = margin.interest_carry + margin.loan_accruing.0 as i128 * rate * elapsed;
        let denominator = PPM as i128 * NS_PER_YEAR;
        let charge = (total / denominator) as i64;
        margin.interest_carry = total % denominator;
        margin.accrued_to_ns = now;
        if charge > 0 {
            margin.interest_charged += Units(charge);
            acc.balance_mut(Asset::Usd).free -= Units(charge);
            self.interest_income += Units(charge);
            sink.event(&Event::InterestCharged {
                account,
                amount: Units(charge),
            });
        }
        let loan = Self::loan_of(&self.accounts[account.0 as usize]);
        self.accounts[account.0 as usize].margin.loan_accruing = loan;
    }

    /// Start of a command: when journaled time crossed a multiple of the interest interval,
    /// every loan is brought up to date at the end of the command.
    pub(crate) fn interest_timer(&mut self, before: TimeNs) {
        let interval = self.limits.margin.interest_interval_ns;
        if before / interval == self.now / interval {
            return;
        }
        for k in 0..self.margin_accounts.len() {
            let id = self.margin_accounts[k];
            if self.accounts[id as usize].margin.loan_accruing > Units::ZERO {
                self.mark_loan_dirty(AccountId(id));
            }
        }
    }

    /// The next multiple of the interest interval after now, when some loan accrues.
    pub(crate) fn next_interest_ns(&self) -> Option<TimeNs> {
        let accruing = self
            .margin_accounts
            .iter()
            .any(|&id| self.accounts[id as usize].margin.loan_accruing > Units::ZERO);
        if !accruing {
            return None;
        }
        let interval = self.limits.margin.interest_interval_ns;
        Some((self.now / interval + 1).saturating_mul(interval))
    }
}

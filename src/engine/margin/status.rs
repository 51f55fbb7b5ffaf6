//! Coverage, the margin thresholds and their transitions.
//!
//! ```text
//! loan      = max(0, −(USD free + USD held))            of an eligible account
//! loanable  = loanable_value(S, V_btc, V_eth) at the last index   (see `loanable`)
//! coverage  = loanable / loan, in ppm, rounded down (no loan: unbounded)
//! status    = CloseOut  if coverage < close_out, or if already CloseOut and < close_out_end
//!             Call      if coverage < call
//!             Normal    otherwise
//! ```
//!
//! At the end of every command the engine re-evaluates the margin accounts whose balances
//! changed, and, when an index moved, the borrowers whose trigger it reached (`trigger`). A change of status is a
//! `MarginCall` event (to the account's session and the journal's replay); a close-out is run
//! by the liquidation engine in the same command.

use super::account::MarginStatus;
use crate::engine::account::Account;
use crate::engine::asset::Asset;
use crate::engine::event::{Event, EventSink};
use crate::engine::state::Engine;
use crate::engine::types::{AccountId, Units, PPM};

/// Most re-evaluation passes over margin accounts in one command.
const MAX_MARGIN_PASSES: usize = 8;

/// An account's loan against its loanable value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoanView {
    pub loan: Units,
    /// Loanable value at the last index, valid or stale (maintenance).
    pub loanable: Units,
    /// Loanable value counting only assets whose index is valid (new borrowing).
    pub loanable_valid: Units,
    /// `loanable / loan` in ppm; `i64::MAX` without a loan.
    pub coverage_ppm: i64,
}

impl Engine {
    /// Whether an account may borrow: a securities-margin client with a credit limit.
    #[inline]
    pub(crate) fn margin_eligible(account: &Account) -> bool {
        account.attrs.securities_margin_client && account.attrs.credit_limit_usd > Units::ZERO
    }

    /// The loan of an eligible account: its negative USD balance.
    #[inline]
    pub(crate) fn loan_of(account: &Account) -> Units {
        if !Self::margin_eligible(account) {
            return Units::ZERO;
        }
        Units((-account.balance(Asset::Usd).total().0).max(0))
    }

    /// Loanable value with the given virtual-asset holdings (BTC, ETH units).
    pub(crate) fn loanable_with(
        &self,
        account: &Account,
        va: [Units; 2],
        valid_only: bool,
    ) -> i128 {
        let rules = &self.limits.margin;
        let values = [
            self.collateral_value(Asset::Btc, va[0], valid_only),
            self.collateral_value(Asset::Eth, va[1], valid_only),
        ];
        super::loanable::loanable_value(
            account.margin.securities_value.0 as i128,
            values,
            rules.va_share_cap_ppm.0,
            rules.single_asset_cap_ppm.0,
        )
    }

    /// Virtual-asset holdings (free + held) of `account`: BTC, ETH.
    pub(crate) fn va_holdings(account: &Account) -> [Units; 2] {
        [
            account.balance(Asset::Btc).total(),
            account.balance(Asset::Eth).total(),
        ]
    }

    /// The loan and loanable value of `account`.
    pub fn loan_view(&self, account: AccountId) -> Option<LoanView> {
        let acc = self.account(account)?;
        let loan = Self::loan_of(acc);
        let va = Self::va_holdings(acc);
        let clip = |v: i128| Units(v.clamp(0, i64::MAX as i128) as i64);
        let loanable = clip(self.loanable_with(acc, va, false));
        let loanable_valid = clip(self.loanable_with(acc, va, true));
        let coverage_ppm = if loan == Units::ZERO {
            i64::MAX
        } else {
            let ratio = loanable.0 as i128 * PPM as i128 / loan.0 as i128;
            ratio.min(i64::MAX as i128) as i64
        };
        Some(LoanView {
            loan,
            loanable,
            loanable_valid,
            coverage_ppm,
        })
    }

    /// The status `coverage` implies for an account now in `current` (see the module comment).
    pub(crate) fn status_for(&self, coverage_ppm: i64, current: MarginStatus) -> MarginStatus {
        let rules = &self.limits.margin;
        let closing = current == MarginStatus::CloseOut;
        if coverage_ppm < rules.close_out_ratio_ppm.0
            || (closing && coverage_ppm < rules.close_out_end_ratio_ppm.0)
        {
            MarginStatus::CloseOut
        } else if coverage_ppm < rules.call_ratio_ppm.0 {
            MarginStatus::Call
        } else {
            MarginStatus::Normal
        }
    }

    /// Notes that a margin account's balances changed in this command.
    #[inline]
    pub(crate) fn mark_loan_dirty(&mut self, account: AccountId) {
        let index = account.0 as usize;
        if self.margin_flag.get(index).copied().unwrap_or(false) {
            self.loan_dirty.insert(account.0);
        }
    }

    /// End of a command: charge interest and re-evaluate the margin accounts concerned (all
    /// those with a loan or a status when an index moved).
    #[inline(never)]
    pub(crate) fn margin_end(&mut self, prices_moved: bool, sink: &mut impl EventSink) {
        if prices_moved {
            self.visit_loan_triggers();
        }
        // A close-out trades with other accounts, which may be margin accounts too: they are
        // marked again and handled in a further pass (bounded; the rest waits a command).
        for _ in 0..MAX_MARGIN_PASSES {
            if self.loan_dirty.is_empty() {
                break;
            }
            // Sorted so that the order of events does not depend on the order of marking.
            self.loan_dirty.sort();
            let batch = self.loan_dirty.members().len();
            for k in 0..batch {
                let account = self.loan_dirty.members()[k];
                self.loan_dirty.leave(account);
                self.margin_update(AccountId(account), sink);
            }
            self.loan_dirty.drop_front(batch);
        }
    }

    /// Interest to now, then the thresholds: a close-out runs at once.
    fn margin_update(&mut self, account: AccountId, sink: &mut impl EventSink) {
        self.accrue_interest(account, sink);
        let Some(view) = self.loan_view(account) else {
            return;
        };
        let current = self.accounts[account.0 as usize].margin.status;
        let mut status = self.status_for(view.coverage_ppm, current);
        if status == MarginStatus::CloseOut {
            self.set_margin_status(account, status, &view, sink);
            status = self.close_out_loan(account, sink);
        }
        let view = self.loan_view(account).expect("the account exists");
        self.set_margin_status(account, status, &view, sink);
        // The close-out changed the loan: interest runs on what is left.
        self.accounts[account.0 as usize].margin.loan_accruing = view.loan;
        self.refile_loan(account);
    }

    fn set_margin_status(
        &mut self,
        account: AccountId,
        status: MarginStatus,
        view: &LoanView,
        sink: &mut impl EventSink,
    ) {
        let margin = &mut self.accounts[account.0 as usize].margin;
        if margin.status == status {
            return;
        }
        margin.status = status;
        sink.event(&Event::MarginCall {
            account,
            status,
            loan: view.loan,
            loanable: view.loanable,
            coverage_ppm: view.coverage_ppm,
        });
    }

    /// Keeps the list of margin accounts in step with an account's attributes.
    pub(crate) fn refresh_margin_membership(&mut self, account: AccountId) {
        let index = account.0 as usize;
        let eligible = self.account(account).is_some_and(Self::margin_eligible);
        if self.margin_flag[index] == eligible {
            return;
        }
        self.margin_flag[index] = eligible;
        match self.margin_accounts.binary_search(&account.0) {
            Ok(at) if !eligible => {
                self.margin_accounts.remove(at);
            }
            Err(at) if eligible => self.margin_accounts.insert(at, account.0),
            _ => {}
        }
    }
}

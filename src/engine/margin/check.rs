//! Pre-trade and withdrawal checks of margin financing.
//!
//! 1. An account in `Call` or `CloseOut` may not buy spot, open or increase a perpetual
//!    position, or withdraw virtual assets (SFC: advances stop at a margin call).
//! 2. A spot buy beyond the free USD borrows the difference. The account's borrowing after the
//!    order, `commitment = −(free USD − hold)` (its loan plus what its open buys would
//!    borrow), must stay within its credit limit and within the loanable value counted at
//!    valid index prices only: no new borrowing on a stale price. The bought asset is not
//!    counted before it is bought (in the venue's favour).
//! 3. A withdrawal of BTC or ETH by an account with a loan must leave the loan within the
//!    loanable value at valid prices. Borrowed USD cannot be withdrawn at all: a USD
//!    withdrawal needs the free balance.

use super::account::MarginStatus;
use crate::engine::account::Account;
use crate::engine::asset::Asset;
use crate::engine::reject::RejectReason;
use crate::engine::state::Engine;
use crate::engine::types::Units;

impl Engine {
    /// Step 1 for orders that add exposure.
    #[inline]
    pub(crate) fn check_no_margin_call(account: &Account) -> Result<(), RejectReason> {
        if account.margin.status != MarginStatus::Normal {
            return Err(RejectReason::MarginCallActive);
        }
        Ok(())
    }

    /// Step 2: a spot buy that needs `hold` USD while the account has less free.
    ///
    /// # Errors
    /// `InsufficientFunds` for an account that may not borrow, `MarginCallActive`,
    /// `CreditLimitExceeded` or `InsufficientCollateral`.
    pub(crate) fn check_borrowing(
        &self,
        account: &Account,
        hold: Units,
    ) -> Result<(), RejectReason> {
        if !Self::margin_eligible(account) {
            return Err(RejectReason::InsufficientFunds);
        }
        Self::check_no_margin_call(account)?;
        let commitment = hold.0 as i128 - account.balance(Asset::Usd).free.0 as i128;
        if commitment > account.attrs.credit_limit_usd.0 as i128 {
            return Err(RejectReason::CreditLimitExceeded);
        }
        let loanable = self.loanable_with(account, Self::va_holdings(account), true);
        if commitment > loanable {
            return Err(RejectReason::InsufficientCollateral);
        }
        Ok(())
    }

    /// Step 3: withdrawing `amount` of `asset`.
    ///
    /// # Errors
    /// `MarginCallActive`, or `InsufficientCollateral` when the rest would not cover the loan.
    pub(crate) fn check_margin_withdrawal(
        &self,
        account: &Account,
        asset: Asset,
        amount: Units,
    ) -> Result<(), RejectReason> {
        let loan = Self::loan_of(account);
        if asset == Asset::Usd || loan == Units::ZERO {
            return Ok(());
        }
        Self::check_no_margin_call(account)?;
        let mut va = Self::va_holdings(account);
        va[asset.index() - 1] -= amount;
        if (loan.0 as i128) > self.loanable_with(account, va, true) {
            return Err(RejectReason::InsufficientCollateral);
        }
        Ok(())
    }
}

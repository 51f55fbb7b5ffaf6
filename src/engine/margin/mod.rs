//! Margin financing (SPEC §2, §6): securities-margin clients borrow USD to buy BTC and ETH
//! against securities and virtual-asset collateral, pay interest from journaled time, and are
//! called and closed out below configured coverage ratios. The close-out itself runs in the
//! liquidation engine (`liquidation::loan`).

pub mod account;
mod check;
mod interest;
pub mod loanable;
pub mod rules;
mod status;
pub(crate) mod trigger;

pub use account::{MarginAccount, MarginStatus, SecurityCollateral};
pub use loanable::loanable_value;
pub use rules::{MarginRules, MAX_SECURITY_CLASSES, NS_PER_YEAR};
pub use status::LoanView;

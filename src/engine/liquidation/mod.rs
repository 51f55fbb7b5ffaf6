//! The liquidation engine for perpetual positions: trigger prices, the candidate index, the
//! liquidation sequence, the insurance funds and auto-deleveraging.

mod adl;
pub mod index;
mod loan;
pub mod price;
mod run;

pub use index::LiquidationIndex;
pub use price::Trigger;

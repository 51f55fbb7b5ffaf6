//! Linear USD-margined perpetuals: positions, index, mark, funding, tiered margin and
//! volatility controls. Formulas are in each module's documentation.

pub mod breaker;
pub(crate) mod entry;
pub mod funding;
pub mod index;
pub mod margin;
pub mod mark;
pub mod market;
pub mod persist;
pub mod position;
mod pricing;
mod settle;
pub mod spec;

pub use index::Constituent;
pub use market::PerpMarket;
pub use position::Position;
pub use pricing::IndexUpdate;
pub use spec::{MarginTier, PerpSpec};

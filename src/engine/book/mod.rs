//! The price-time priority order book of one instrument.

pub(crate) mod bitmap;
mod level;
mod order_book;
mod pool;

pub use bitmap::PriceBitmap;
pub use level::Level;
pub use order_book::{BookFull, OrderBook};
pub use pool::OrderPool;

//! The feed handler: joins the market-data channels, detects gaps, recovers them over TCP (or
//! from the snapshot channel), and rebuilds L2 and L3 books per instrument, with the index,
//! mark and funding rate of perpetuals.

pub mod book;
pub mod check;
pub mod handler;
pub mod net;
pub mod top;

pub use book::{FundingQuote, InstrumentBook, L2Book, L3Book, LevelQty, PerpPrices};
pub use handler::{FeedHandler, FeedStats};
pub use net::{Feed, FeedEndpoints, RecoveryError};

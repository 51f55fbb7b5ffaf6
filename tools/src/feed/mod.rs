//! The feed handler: joins the market-data channels, detects gaps, recovers them over TCP (or
//! from the snapshot channel), and rebuilds L2 and L3 books per instrument.

pub mod book;
pub mod check;
pub mod handler;
pub mod net;
pub mod top;

pub use book::{InstrumentBook, L2Book, L3Book, LevelQty};
pub use handler::{FeedHandler, FeedStats};
pub use net::{Feed, FeedEndpoints, RecoveryError};

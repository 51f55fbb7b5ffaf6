//! The order books compared on the shared stream, each behind one adapter trait: ours, the two
//! published peers, and a bare array-indexed book as the floor that matching alone costs.

mod bare;
mod lobster;
mod orderbook_rs;
mod ours;

pub use self::bare::BareBookAdapter;
pub use self::lobster::LobsterAdapter;
pub use self::orderbook_rs::OrderbookRsAdapter;
pub use self::ours::OursAdapter;

use crate::shared_stream::{StreamConfig, StreamOp};

/// One order book running the shared stream.
///
/// `prepare` does everything that is not matching (building the book, funding accounts,
/// converting the stream into the book's native commands) and is not timed; `run` submits
/// every prepared command in order and is timed. Each adapter submits a limit order as a
/// limit order and a market order as a market order, and keeps each book's output alive with
/// `black_box` so the optimiser cannot skip the work.
pub trait BookAdapter: Sized {
    /// The name in reports.
    const NAME: &'static str;

    /// A fresh book with `stream` converted to native commands.
    fn prepare(config: &StreamConfig, stream: &[StreamOp]) -> Self;

    /// Runs every prepared command once; returns the number of trades (fills) produced.
    fn run(&mut self) -> u64;
}

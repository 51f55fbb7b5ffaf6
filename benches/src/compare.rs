//! The peer comparison: every adapter runs the identical stream in the same process, runs
//! interleaved (ours, lobster, orderbook-rs, bare, ours, ...) so that machine noise falls on
//! all. The bare book is the floor: what price-time matching alone costs on this machine, with
//! none of an exchange's work, so that ours can be read against it as well as against the peers.

use std::time::Instant;

use crate::peers::{BareBookAdapter, BookAdapter, LobsterAdapter, OrderbookRsAdapter, OursAdapter};
use crate::shared_stream::{self, StreamConfig, StreamOp};

/// One book's result.
#[derive(Clone, Debug, Default)]
pub struct PeerResult {
    pub name: &'static str,
    /// Nanoseconds per operation of each timed repetition.
    pub runs_ns_per_op: Vec<f64>,
    pub median_ns_per_op: f64,
    /// Trades the stream produced (identical in every repetition).
    pub trades: u64,
}

/// All books' results on one stream.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    pub ops: usize,
    pub repeats: usize,
    pub ours: PeerResult,
    pub lobster: PeerResult,
    pub orderbook_rs: PeerResult,
    /// The bare array-indexed book: the floor, not a peer.
    pub bare: PeerResult,
}

impl Comparison {
    /// How many times more time per operation lobster takes than ours.
    pub fn ratio_vs_lobster(&self) -> f64 {
        self.lobster.median_ns_per_op / self.ours.median_ns_per_op
    }

    /// How many times more time per operation orderbook-rs takes than ours.
    pub fn ratio_vs_orderbook_rs(&self) -> f64 {
        self.orderbook_rs.median_ns_per_op / self.ours.median_ns_per_op
    }

    /// How many times more time per operation lobster takes than the bare book.
    pub fn ratio_bare_vs_lobster(&self) -> f64 {
        self.lobster.median_ns_per_op / self.bare.median_ns_per_op
    }

    /// How many times more time per operation ours takes than the bare book: the price of our
    /// checks, accounts and events over matching alone.
    pub fn ours_vs_bare(&self) -> f64 {
        self.ours.median_ns_per_op / self.bare.median_ns_per_op
    }
}

/// Runs the stream of `config` through every book: one warm-up run each, then `repeats`
/// timed runs each, interleaved; each run on a freshly prepared book.
pub fn compare(config: &StreamConfig, repeats: usize) -> Comparison {
    let stream = shared_stream::generate(config);
    let mut ours = PeerResult {
        name: OursAdapter::NAME,
        ..PeerResult::default()
    };
    let mut lobster = PeerResult {
        name: LobsterAdapter::NAME,
        ..PeerResult::default()
    };
    let mut orderbook_rs = PeerResult {
        name: OrderbookRsAdapter::NAME,
        ..PeerResult::default()
    };
    let mut bare = PeerResult {
        name: BareBookAdapter::NAME,
        ..PeerResult::default()
    };
    for round in 0..=repeats {
        let warm_up = round == 0;
        time_one::<OursAdapter>(config, &stream, &mut ours, warm_up);
        time_one::<LobsterAdapter>(config, &stream, &mut lobster, warm_up);
        time_one::<OrderbookRsAdapter>(config, &stream, &mut orderbook_rs, warm_up);
        time_one::<BareBookAdapter>(config, &stream, &mut bare, warm_up);
    }
    for result in [&mut ours, &mut lobster, &mut orderbook_rs, &mut bare] {
        let mut sorted = result.runs_ns_per_op.clone();
        sorted.sort_by(f64::total_cmp);
        result.median_ns_per_op = sorted[sorted.len() / 2];
    }
    Comparison {
        ops: stream.len(),
        repeats,
        ours,
        lobster,
        orderbook_rs,
        bare,
    }
}

/// Prepares a fresh book (untimed), runs the stream (timed) and drops the book (untimed).
fn time_one<A: BookAdapter>(
    config: &StreamConfig,
    stream: &[StreamOp],
    result: &mut PeerResult,
    warm_up: bool,
) {
    let mut book = A::prepare(config, stream);
    let start = Instant::now();
    let trades = book.run();
    let elapsed = start.elapsed();
    drop(book);
    if warm_up {
        result.trades = trades;
    } else {
        assert_eq!(
            result.trades,
            trades,
            "{}: a rerun of the same stream produced different trades",
            A::NAME
        );
        result
            .runs_ns_per_op
            .push(elapsed.as_nanos() as f64 / stream.len() as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trades<A: BookAdapter>(config: &StreamConfig, stream: &[StreamOp]) -> u64 {
        A::prepare(config, stream).run()
    }

    /// Limit orders never cross and market orders come from a separate account, so every book
    /// with price-time priority produces exactly the same trades.
    #[test]
    fn every_adapter_fills_and_all_agree_on_the_trade_count() {
        let config = StreamConfig::standard(20_000);
        let stream = shared_stream::generate(&config);
        let ours = trades::<OursAdapter>(&config, &stream);
        let lobster = trades::<LobsterAdapter>(&config, &stream);
        let orderbook_rs = trades::<OrderbookRsAdapter>(&config, &stream);
        let bare = trades::<BareBookAdapter>(&config, &stream);
        assert!(ours > 0);
        assert_eq!(ours, lobster);
        assert_eq!(ours, orderbook_rs);
        assert_eq!(ours, bare);
    }

    #[test]
    fn comparison_reports_a_time_for_every_repeat() {
        let comparison = compare(&StreamConfig::standard(2_000), 3);
        for result in [
            &comparison.ours,
            &comparison.lobster,
            &comparison.orderbook_rs,
            &comparison.bare,
        ] {
            assert_eq!(result.runs_ns_per_op.len(), 3);
            assert!(result.median_ns_per_op > 0.0);
            assert!(result.trades > 0);
        }
    }
}

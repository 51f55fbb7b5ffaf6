//! What the feeder publishes and when: one trait, with the random walk (`walk.rs`) and the CSV
//! replay (`csv.rs`) as its two implementations.

use std::time::Duration;

/// One source's price in an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourcePrice {
    /// ConstituentSourceID.
    pub source_id: u16,
    /// ConstituentPx in 1e-8 USD (the wire's mantissa).
    pub price_units: i64,
}

/// One IndexConstituents message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// When to send it, counted from the start of the run.
    pub due: Duration,
    /// The perpetual whose index it feeds.
    pub security_id: i32,
    /// The constituents, at most the wire's group limit (16).
    pub prices: Vec<SourcePrice>,
}

/// A schedule of updates, in the order they are due.
pub trait UpdateSource {
    /// The next update; `None` when the source has no more (a random walk never ends).
    fn next_update(&mut self) -> Option<Update>;
}

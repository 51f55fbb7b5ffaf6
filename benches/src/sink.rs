//! An event sink for benchmarks that touches every event, so the optimiser cannot drop the
//! work that produced it, while costing a few instructions per event.

use exchange::engine::{Event, EventSink};

/// Counts events, counts fills, and folds one identifying field of each event into a checksum.
#[derive(Clone, Copy, Debug, Default)]
pub struct FoldSink {
    /// Events received.
    pub events: u64,
    /// `Event::Fill`s received (trades).
    pub fills: u64,
    /// A rolling fold of one field per event; only its dependence on every event matters.
    pub checksum: u64,
}

impl EventSink for FoldSink {
    #[inline]
    fn event(&mut self, event: &Event) {
        let field = match event {
            Event::Accepted { order, .. } => order.0,
            Event::Rested { open, .. } => open.0 as u64,
            Event::Fill(fill) => {
                self.fills += 1;
                fill.qty.0 as u64
            }
            Event::Canceled { open, .. } => open.0 as u64,
            Event::Replaced { price, .. } => price.0 as u64,
            Event::Rejected { reason, .. } | Event::CancelRejected { reason, .. } => *reason as u64,
            _ => 1,
        };
        self.events += 1;
        self.checksum = self.checksum.rotate_left(5) ^ field;
    }
}

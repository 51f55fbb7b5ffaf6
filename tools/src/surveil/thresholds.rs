//! The thresholds of the detectors. Every one is a `surveil` flag; the defaults are those
//! documented in the README and in `surveil --help`.

/// Nanoseconds per millisecond.
const NS_PER_MS: u64 = 1_000_000;

/// Detector thresholds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// Spoofing/layering: smallest order, in lots of its instrument, that counts as large.
    pub spoof_min_qty_lots: i64,
    /// Spoofing/layering: longest time from the cancel of a large order to the same
    /// account's opposite-side fill.
    pub spoof_window_ns: u64,
    /// Layering: fewest distinct price levels of the cancelled large orders.
    pub layering_min_levels: usize,
    /// Quote stuffing: most messages an account may send in one calendar second.
    pub stuffing_max_msgs_per_sec: u64,
    /// Quote stuffing: highest order-to-trade ratio (messages per fill) in a day ...
    pub stuffing_max_order_to_trade: u64,
    /// ... counted only once the account sent at least this many messages that day.
    pub stuffing_min_msgs_for_ratio: u64,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            spoof_min_qty_lots: 100_000,
            spoof_window_ns: 2_000 * NS_PER_MS,
            layering_min_levels: 3,
            stuffing_max_msgs_per_sec: 500,
            stuffing_max_order_to_trade: 1_000,
            stuffing_min_msgs_for_ratio: 5_000,
        }
    }
}

//! The one stream every order book runs in the peer comparison: 90% passive limit orders
//! around a fixed mid price, 10% market orders that take liquidity.
//!
//! Passive bids lie in `[mid − 50, mid − 1]` and asks in `[mid + 1, mid + 50]`, so a limit order
//! never crosses and every trade comes from a market order; all books that match by price-time
//! priority then produce the same trades. Limit orders come from maker accounts and market
//! orders from one taker account that never rests, so our engine's self-trade prevention never
//! fires (the peers have it off). Limit sizes are 1..=100 lots and market sizes 1..=800 lots:
//! a market order takes about eight limit orders' worth, so the book grows slowly (~20K
//! resting orders after 200K operations) instead of without bound.

use crate::prng::SplitMix64;

/// One operation of the stream, in book-neutral terms (prices in ticks, sizes in lots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamOp {
    /// A passive GTC limit order from maker `maker` (0-based, < `StreamConfig::makers`).
    Limit {
        maker: u32,
        buy: bool,
        price_ticks: i64,
        qty_lots: i64,
    },
    /// A market order from the taker account.
    Market { buy: bool, qty_lots: i64 },
}

/// Parameters of the stream.
#[derive(Clone, Copy, Debug)]
pub struct StreamConfig {
    pub ops: usize,
    /// Maker accounts the limit orders are spread over.
    pub makers: u32,
    /// The mid price in ticks.
    pub mid_ticks: i64,
    /// Limit orders lie within this many ticks of the mid.
    pub depth_ticks: i64,
    pub max_limit_lots: i64,
    pub max_market_lots: i64,
    /// Percentage of operations that are market orders.
    pub market_percent: u64,
    pub seed: u64,
}

impl StreamConfig {
    /// The comparison's stream: `ops` operations, 10% market.
    pub fn standard(ops: usize) -> StreamConfig {
        StreamConfig {
            ops,
            makers: 100,
            mid_ticks: crate::fixture::MID.0,
            depth_ticks: 50,
            max_limit_lots: 100,
            max_market_lots: 800,
            market_percent: 10,
            seed: 0x5EED_0002,
        }
    }
}

/// Generates the stream described by `config`.
pub fn generate(config: &StreamConfig) -> Vec<StreamOp> {
    let mut rng = SplitMix64::new(config.seed);
    (0..config.ops)
        .map(|_| {
            let buy = rng.percent(50);
            if rng.percent(config.market_percent) {
                let qty_lots = rng.range_inclusive(1, config.max_market_lots);
                return StreamOp::Market { buy, qty_lots };
            }
            let distance = rng.range_inclusive(1, config.depth_ticks);
            let price_ticks = if buy {
                config.mid_ticks - distance
            } else {
                config.mid_ticks + distance
            };
            StreamOp::Limit {
                maker: rng.below(config.makers as u64) as u32,
                buy,
                price_ticks,
                qty_lots: rng.range_inclusive(1, config.max_limit_lots),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_one_tenth_market_orders_and_limits_never_cross_the_mid() {
        let config = StreamConfig::standard(50_000);
        let stream = generate(&config);
        let markets = stream
            .iter()
            .filter(|op| matches!(op, StreamOp::Market { .. }))
            .count();
        assert!((4_500..5_500).contains(&markets), "{markets}");
        for op in &stream {
            if let StreamOp::Limit {
                buy, price_ticks, ..
            } = *op
            {
                assert_eq!(buy, price_ticks < config.mid_ticks);
            }
        }
    }
}

//! `quote-bench`: mass-quote throughput of the engine alone. One market maker (MM1 of the
//! default configuration) requotes 10 two-sided MMP-covered levels on BTC-USD per MassQuote;
//! the whole ladder moves 0–2 ticks and each side's size is redrawn (1–10 lots) every round,
//! so entries are a mix of moves (priority lost), in-place size cuts (priority kept), size
//! increases and unchanged sides. Every 16th round MM2 sends an IOC that trades with the
//! ladder, so fills, MMP windows and requotes of partly filled sides are in the stream too.
//! The unit reported is the quote entry (one two-sided quote: up to two order updates).

use std::time::Instant;

use exchange::config::Config;
use exchange::engine::event::{CountingSink, EventSink};
use exchange::engine::{
    AccountId, Asset, Command, Engine, EngineLimits, InstrumentId, MassQuote, MmpConfig, MmpLimits,
    NewOrder, OrdType, PriceTicks, QtyLots, QuoteEntry, Side, StpMode, TimeInForce, Units,
};

use crate::prng::SplitMix64;

/// Levels (entries) per MassQuote.
pub const LEVELS: usize = 10;
/// BTC-USD reference price in ticks in the default configuration.
const REF: i64 = 1_000_000;

/// The pre-generated stream: quote rounds, and the taker sent after every 16th.
pub struct QuoteWorkload {
    rounds: Vec<[QuoteEntry; LEVELS]>,
    takers: Vec<NewOrder>,
}

/// Generates `rounds` MassQuotes with `seed`.
pub fn generate(rounds: usize, seed: u64) -> QuoteWorkload {
    let mut rng = SplitMix64::new(seed);
    let mut quotes = Vec::with_capacity(rounds);
    let mut takers = Vec::with_capacity(rounds / 16 + 1);
    for round in 0..rounds {
        let shift = rng.below(3) as i64;
        let mut entries = [QuoteEntry::default(); LEVELS];
        for (k, entry) in entries.iter_mut().enumerate() {
            let k = k as i64;
            *entry = QuoteEntry {
                instrument: InstrumentId(0),
                quote_set: 0,
                quote_id: k as u32,
                bid_price: PriceTicks(REF - 5 - k + shift),
                bid_qty: QtyLots(1 + rng.below(10) as i64),
                offer_price: PriceTicks(REF + 5 + k + shift),
                offer_qty: QtyLots(1 + rng.below(10) as i64),
                pre_reject: None,
            };
        }
        quotes.push(entries);
        if round % 16 == 15 {
            let side = if rng.below(2) == 0 {
                Side::Buy
            } else {
                Side::Sell
            };
            let price = match side {
                Side::Buy => REF + 7,
                Side::Sell => REF - 7,
            };
            takers.push(NewOrder {
                account: AccountId(2),
                instrument: InstrumentId(0),
                cl_ord_id: 0,
                side,
                ord_type: OrdType::Limit,
                tif: TimeInForce::Ioc,
                price: PriceTicks(price),
                qty: QtyLots(1 + rng.below(8) as i64),
                expire_ns: 0,
                flags: 0,
                stp: StpMode::CancelResting,
            });
        }
    }
    QuoteWorkload {
        rounds: quotes,
        takers,
    }
}

/// An engine on the default configuration with its demo accounts funded, and MM1's MMP on BTC
/// configured with limits the stream never reaches.
pub fn venue() -> (Engine, u64) {
    let config = Config::default_config();
    let limits = EngineLimits {
        max_orders: 100_000,
        max_levels_per_book: 100_000,
        ..config.engine_limits()
    };
    let specs = config
        .instrument_specs()
        .expect("the embedded configuration is valid");
    let mut engine = Engine::new(specs, limits).expect("the embedded configuration is valid");
    let mut sink = CountingSink::default();
    let mut seq = 0;
    let bootstrap = config
        .bootstrap_commands()
        .expect("the embedded configuration is valid");
    for command in bootstrap {
        seq += 1;
        engine.apply(seq, seq, &Command::Admin(command), &mut sink);
    }
    seq += 1;
    let mmp = Command::MmpConfig(MmpConfig {
        account: AccountId(1),
        request_id: 1,
        underlying: Asset::Btc,
        limits: MmpLimits {
            window_ns: 1_000_000_000,
            qty_limit: Units(i64::MAX / 2),
            delta_limit: Units(i64::MAX / 2),
            frozen_ns: 0,
        },
    });
    engine.apply(seq, seq, &mmp, &mut sink);
    (engine, seq)
}

/// Applies the whole workload once from `seq`; returns the next `seq` and the entries sent.
pub fn apply(engine: &mut Engine, workload: &QuoteWorkload, seq: u64) -> (u64, u64) {
    apply_into(engine, workload, seq, &mut CountingSink::default())
}

/// [`apply`], the events going to `sink`.
pub fn apply_into(
    engine: &mut Engine,
    workload: &QuoteWorkload,
    mut seq: u64,
    sink: &mut impl EventSink,
) -> (u64, u64) {
    let mut takers = workload.takers.iter();
    let mut entries = 0;
    for (round, quote) in workload.rounds.iter().enumerate() {
        seq += 1;
        let message = MassQuote {
            account: AccountId(1),
            quote_req_id: seq,
            mmp: true,
            entries: quote,
        };
        engine.apply_mass_quote(seq, seq, &message, sink);
        entries += LEVELS as u64;
        if round % 16 == 15 {
            if let Some(taker) = takers.next() {
                seq += 1;
                engine.apply(seq, seq, &Command::NewOrder(*taker), sink);
            }
        }
    }
    (seq, entries)
}

/// Quote entries per second of each timed run (after one warm-up run), in run order.
pub fn measure(workload: &QuoteWorkload, runs: usize) -> Vec<f64> {
    let (mut engine, mut seq) = venue();
    (seq, _) = apply(&mut engine, workload, seq);
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let (next, entries) = apply(&mut engine, workload, seq);
        seq = next;
        rates.push(entries as f64 / started.elapsed().as_secs_f64());
    }
    rates
}

/// The median of `values` (mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_quotes_trades_and_keeps_every_entry_accepted() {
        use exchange::engine::{Event, VecSink};
        let workload = generate(64, 3);
        let (mut engine, seq) = venue();
        let mut sink = VecSink::default();
        apply_into(&mut engine, &workload, seq, &mut sink);
        let rejected = sink
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::QuoteEntryStatus {
                        rejected: Some(_),
                        ..
                    }
                )
            })
            .count();
        assert_eq!(rejected, 0);
        assert!(sink.events.iter().any(|e| matches!(e, Event::Fill(_))));
        assert!(sink.events.iter().any(|e| matches!(
            e,
            Event::Replaced {
                priority_kept: true,
                ..
            }
        )));
    }
}

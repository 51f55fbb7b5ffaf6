//! `loadgen --quotes`: open-loop mass quoting over the real protocol. Each session streams
//! MassQuotes of `levels` two-sided levels (quote ids 0..levels, bids below 94,000 USD and
//! offers above 106,000 USD, so sessions never trade with each other), the ladder moving by
//! 0–2 ticks per message; latency runs from each MassQuote's planned send time (coordinated
//! omission corrected) to its MassQuoteAck. A MassQuote with any rejected entry counts as
//! rejected.

use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::loadgen::LoadResult;
use crate::prng::SplitMix64;
use crate::wire::{quote_ladder, Session};

/// Streams `count` MassQuotes at `rate_per_sec` across `sessions`, QuoteIDs from `first_id`.
///
/// # Errors
/// Socket errors, a Terminate from the exchange, or acks missing after 30 s.
pub fn run_quotes(
    sessions: &mut [Session],
    rate_per_sec: u64,
    count: u64,
    levels: usize,
    seed: u64,
    first_id: u64,
) -> io::Result<LoadResult> {
    let mut rng = SplitMix64::new(seed);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let interval_ns = 1_000_000_000 / rate_per_sec.max(1);
    let mut pending: HashMap<u64, u64> = HashMap::new();
    let (mut sent, mut answered, mut rejected) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    while answered < count {
        let now = started.elapsed().as_nanos() as u64;
        while sent < count && sent * interval_ns <= now {
            let which = (sent % sessions.len() as u64) as usize;
            let quote_id = first_id + sent;
            let quote = quote_ladder(quote_id, levels, rng.below(3) as i64)?;
            sessions[which].send(&quote)?;
            pending.insert(quote_id, sent * interval_ns);
            sent += 1;
        }
        for session in sessions.iter_mut() {
            session.drain_quote_acks(|quote_id, rejected_entries| {
                let Some(planned) = pending.remove(&quote_id) else {
                    return;
                };
                let elapsed = started.elapsed().as_nanos() as u64;
                let _ = histogram.record(elapsed.saturating_sub(planned).max(1));
                answered += 1;
                if rejected_entries > 0 {
                    rejected += 1;
                }
            })?;
        }
        if sent == count
            && started.elapsed()
                > Duration::from_nanos(count * interval_ns) + Duration::from_secs(30)
        {
            return Err(io::Error::other(format!(
                "{answered} of {count} MassQuotes acknowledged after 30 s"
            )));
        }
    }
    Ok(LoadResult {
        histogram,
        market_data: None,
        achieved_per_sec: count as f64 / started.elapsed().as_secs_f64(),
        sent,
        answered,
        rejected,
    })
}

//! `--check`: rebuild the engine from the journal up to the last command the feed applied (the
//! same `Core` path the sequencer and recovery use) and compare its L2 books with the feed's.

use std::fmt::Write as _;
use std::path::Path;

use exchange::config::Config;
use exchange::engine::event::CountingSink;
use exchange::engine::snapshot::fingerprint;
use exchange::engine::{Engine, InstrumentId, Side};
use exchange::sequencer::Core;
use journal::JournalReader;

use super::book::{L2Book, LevelQty};
use super::handler::FeedHandler;

/// Replays the journal in `dir` through record `upto` on a fresh engine of `config`.
///
/// # Errors
/// The configuration, the journal or a record cannot be used; the text says which.
pub fn replay_to(config: &Config, dir: &Path, upto: u64) -> Result<Engine, String> {
    let specs = config.instrument_specs().map_err(|e| e.to_string())?;
    let limits = config.engine_limits();
    let print = fingerprint(&specs, &limits);
    let engine = Engine::new(specs, limits).map_err(|e| e.to_string())?;
    let mut core = Core::new(engine, print);
    let mut reader =
        JournalReader::open(dir).map_err(|e| format!("journal {}: {e}", dir.display()))?;
    let mut sink = CountingSink::default();
    let mut last = 0;
    while let Some(record) = reader.next().map_err(|e| format!("journal read: {e}"))? {
        if record.header.seq > upto {
            break;
        }
        last = record.header.seq;
        core.apply(&record.header, record.payload, &mut sink)
            .map_err(|e| format!("replay: {e}"))?;
    }
    if last < upto {
        return Err(format!("journal ends at record {last}, before {upto}"));
    }
    Ok(core.engine)
}

/// The engine's L2 book of one instrument in wire units.
pub fn engine_l2(engine: &Engine, instrument: InstrumentId) -> Option<(i32, L2Book)> {
    let state = engine.instrument(instrument)?;
    let spec = &state.spec;
    let mut book = L2Book::default();
    for side in [Side::Buy, Side::Sell] {
        state.book.for_each_level(side, |level| {
            let qty = LevelQty {
                size: level.qty.0 * spec.lot_units,
                orders: level.count as i32,
            };
            let levels = match side {
                Side::Buy => &mut book.bids,
                Side::Sell => &mut book.offers,
            };
            levels.insert(level.price.0 * spec.tick_units, qty);
        });
    }
    Some((spec.security_id, book))
}

/// Differences between the feed's L2 books and the engine's, one line each (empty: equal).
pub fn compare(feed: &FeedHandler, engine: &Engine) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..engine.instrument_count() {
        let Some((security_id, expected)) = engine_l2(engine, InstrumentId(i as u16)) else {
            continue;
        };
        let Some(got) = feed.books.get(&security_id) else {
            out.push(format!("SecurityID {security_id}: no book in the feed"));
            continue;
        };
        for (name, want, have) in [
            ("bid", &expected.bids, &got.l2.bids),
            ("offer", &expected.offers, &got.l2.offers),
        ] {
            for (px, qty) in want {
                if have.get(px) != Some(qty) {
                    let mut line = format!("SecurityID {security_id} {name} {px}: engine {qty:?}");
                    let _ = write!(line, ", feed {:?}", have.get(px));
                    out.push(line);
                }
            }
            for (px, qty) in have {
                if !want.contains_key(px) {
                    out.push(format!(
                        "SecurityID {security_id} {name} {px}: feed {qty:?}, engine has none"
                    ));
                }
            }
        }
    }
    out
}

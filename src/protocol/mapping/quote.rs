//! Market-maker toolkit messages → engine inputs: MassQuote entries (their own entry point,
//! see `sequencer::core`), QuoteCancel, MmpConfig and MmpReset.
//!
//! A MassQuote entry that cannot be converted (unknown SecurityID, price off tick or out of
//! range, size off lot) is not dropped: it reaches the engine with `pre_reject` set, so the ack
//! reports it in its place and the other entries go on.

use crate::engine::command::{Command, MmpConfig, MmpReset};
use crate::engine::event::Event;
use crate::engine::mmp::MmpLimits;
use crate::engine::quote::{QuoteCancel, QuoteEntry, QUOTE_ENTRIES_CAPACITY};
use crate::engine::reject::RejectReason;
use crate::engine::state::{Engine, InstrumentState};
use crate::engine::{AccountId, Asset, InstrumentId, PriceTicks, QtyLots, Units};
use crate::protocol::codec as wire;
use crate::protocol::mapping::Translated;

const NS_PER_MS: u64 = 1_000_000;

/// Converts the entries of a MassQuote into `out`; returns how many (at most the wire's 16).
pub fn mass_quote_entries(
    engine: &Engine,
    view: &wire::MassQuoteView<'_>,
    out: &mut [QuoteEntry; QUOTE_ENTRIES_CAPACITY],
) -> usize {
    let mut count = 0;
    for (slot, e) in out.iter_mut().zip(view.no_quote_entries().iter()) {
        *slot = entry(engine, &e);
        count += 1;
    }
    count
}

fn entry(engine: &Engine, e: &wire::QuoteEntriesEntry) -> QuoteEntry {
    let mut entry = QuoteEntry {
        instrument: InstrumentId(u16::MAX),
        quote_set: e.quote_set_id,
        quote_id: e.quote_entry_id,
        ..QuoteEntry::default()
    };
    let Some(inst) = engine.instrument_by_security_id(e.security_id) else {
        entry.pre_reject = Some(RejectReason::UnknownInstrument);
        return entry;
    };
    entry.instrument = inst.spec.id;
    let sides = side(inst, e.bid_px, e.bid_size).and_then(|bid| {
        let offer = side(inst, e.offer_px, e.offer_size)?;
        Ok((bid, offer))
    });
    match sides {
        Ok(((bid_price, bid_qty), (offer_price, offer_qty))) => QuoteEntry {
            bid_price,
            bid_qty,
            offer_price,
            offer_qty,
            ..entry
        },
        Err(reason) => QuoteEntry {
            pre_reject: Some(reason),
            ..entry
        },
    }
}

/// One side's price and size; a size of 0 (withdraw) ignores the price.
fn side(
    inst: &InstrumentState,
    price: i64,
    size: i64,
) -> Result<(PriceTicks, QtyLots), RejectReason> {
    if size == 0 {
        return Ok((PriceTicks(0), QtyLots::ZERO));
    }
    let qty = inst.spec.qty_to_lots(size)?;
    Ok((inst.spec.price_to_ticks(price)?, qty))
}

/// QuoteCancel → command, or a refusal when the scope needs a filter that is missing.
pub fn quote_cancel(account: AccountId, m: &wire::QuoteCancel, engine: &Engine) -> Translated {
    let refuse = |reason| {
        Translated::Refused(Event::QuoteCancelDone {
            account,
            quote_req_id: m.quote_id,
            canceled: 0,
            rejected: Some(reason),
        })
    };
    let instrument = match m.security_id {
        None => None,
        Some(security_id) => match engine.instrument_by_security_id(security_id) {
            Some(inst) => Some(inst.spec.id),
            None => return refuse(RejectReason::UnknownInstrument),
        },
    };
    let (instrument, quote_set) = match m.quote_cancel_type {
        wire::QuoteCancelType::CancelAllQuotes => (None, None),
        wire::QuoteCancelType::CancelForSecurity if instrument.is_none() => {
            return refuse(RejectReason::UnknownInstrument);
        }
        wire::QuoteCancelType::CancelQuoteSet if m.quote_set_id.is_none() => {
            return refuse(RejectReason::UnsupportedOrder);
        }
        _ => (instrument, m.quote_set_id),
    };
    Translated::Command(Command::QuoteCancel(QuoteCancel {
        account,
        quote_req_id: m.quote_id,
        instrument,
        quote_set,
    }))
}

fn asset(a: wire::Asset) -> Asset {
    match a {
        wire::Asset::Usd => Asset::Usd,
        wire::Asset::Btc => Asset::Btc,
        wire::Asset::Eth => Asset::Eth,
    }
}

/// MmpConfig → command. Limits travel as 1e-8 of the underlying, which is the engine's base
/// unit; durations in ms (saturating: a window of centuries is as good as forever).
pub fn mmp_config(account: AccountId, m: &wire::MmpConfig) -> Translated {
    Translated::Command(Command::MmpConfig(MmpConfig {
        account,
        request_id: m.mmp_req_id,
        underlying: asset(m.underlying),
        limits: MmpLimits {
            window_ns: m.mmp_window.saturating_mul(NS_PER_MS),
            qty_limit: Units(m.mmp_qty_limit),
            delta_limit: Units(m.mmp_delta_limit),
            frozen_ns: m.mmp_frozen_time.saturating_mul(NS_PER_MS),
        },
    }))
}

/// MmpReset → command.
pub fn mmp_reset(account: AccountId, m: &wire::MmpReset) -> Translated {
    Translated::Command(Command::MmpReset(MmpReset {
        account,
        request_id: m.mmp_req_id,
        underlying: asset(m.underlying),
    }))
}

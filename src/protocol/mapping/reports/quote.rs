//! Market-maker toolkit replies: MassQuoteAck (one per MassQuote, gathering the statuses of its
//! entries), QuoteCancelAck, MmpAck and the unsolicited MmpTriggered.
//!
//! Quote sides are orders, but a market maker requoting ten levels wants one ack, not twenty
//! execution reports: `quiet_quote_report` tells `outbound` which order events of quote sides
//! the ack already covers (accepted, replaced, withdrawn or canceled by QuoteCancel). Fills
//! and every other cancel (MMP, self-trade prevention, kill switch, liquidation) are reported.

use crate::engine::event::{CancelReason, Event};
use crate::engine::quote::is_quote_cl_ord_id;
use crate::engine::state::Engine;
use crate::engine::{Asset, InstrumentId};
use crate::protocol::codec as wire;

/// Whether the order event `event` of a quote side is covered by the quote's ack.
pub fn quiet_quote_report(event: &Event) -> bool {
    match *event {
        Event::Accepted { cl_ord_id, .. } | Event::Replaced { cl_ord_id, .. } => {
            is_quote_cl_ord_id(cl_ord_id)
        }
        Event::Canceled {
            cl_ord_id, reason, ..
        } => {
            is_quote_cl_ord_id(cl_ord_id)
                && matches!(reason, CancelReason::Requested | CancelReason::MassCancel)
        }
        _ => false,
    }
}

/// The MassQuoteAck of the MassQuote whose `MassQuoteDone` is `done`; `earlier` are the
/// command's events before it (its entries' statuses among them).
pub fn mass_quote_ack(
    done: &Event,
    earlier: &[Event],
    engine: &Engine,
    time_ns: u64,
) -> Option<wire::MassQuoteAck> {
    let Event::MassQuoteDone {
        account,
        quote_req_id,
        rejected,
        ..
    } = *done
    else {
        return None;
    };
    let mut ack = wire::MassQuoteAck {
        quote_id: quote_req_id,
        transact_time: time_ns,
        quote_status: match rejected {
            None => wire::QuoteStatus::Accepted,
            Some(_) => wire::QuoteStatus::Rejected,
        },
        quote_reject_reason: rejected.map(|r| r.code()),
        ..wire::MassQuoteAck::default()
    };
    for event in earlier {
        let Event::QuoteEntryStatus {
            account: a,
            quote_req_id: q,
            instrument,
            quote_set,
            quote_id,
            rejected,
            ..
        } = *event
        else {
            continue;
        };
        if a != account || q != quote_req_id {
            continue;
        }
        let entry = wire::QuoteEntryAcksEntry {
            quote_entry_id: quote_id,
            security_id: security_id(engine, instrument),
            quote_set_id: quote_set,
            quote_entry_status: match rejected {
                None => wire::QuoteStatus::Accepted,
                Some(_) => wire::QuoteStatus::Rejected,
            },
            quote_entry_reject_reason: rejected.map(|r| r.code()),
        };
        // The group holds the wire's maximum, which bounds a MassQuote's entries too.
        if ack.no_quote_entry_acks.push(entry).is_err() {
            break;
        }
    }
    Some(ack)
}

fn security_id(engine: &Engine, instrument: InstrumentId) -> i32 {
    engine
        .instrument(instrument)
        .map_or(0, |i| i.spec.security_id)
}

pub fn wire_asset(asset: Asset) -> wire::Asset {
    match asset {
        Asset::Usd => wire::Asset::Usd,
        Asset::Btc => wire::Asset::Btc,
        Asset::Eth => wire::Asset::Eth,
    }
}

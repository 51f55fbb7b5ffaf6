//! Mass quotes and market maker protection end to end over loopback TCP: per-entry acks,
//! quote cancel, MMP configuration and trigger, and a quote flood that does not starve another
//! session.

mod common;

use std::time::Duration;

use common::wire::{limit_order, TestServer, WireClient, UNIT};
use exchange::protocol::codec::{self as wire, Encode, Plain};
use exchange::protocol::sofh;
use journal::Durability;

/// One quote entry on BTC-USD (SecurityID 1): prices in whole USD, sizes in 1e-8 BTC.
fn entry(id: u32, bid: i64, offer: i64, size: i64) -> wire::QuoteEntriesEntry {
    wire::QuoteEntriesEntry {
        quote_entry_id: id,
        security_id: 1,
        quote_set_id: 0,
        bid_px: bid * UNIT,
        bid_size: size,
        offer_px: offer * UNIT,
        offer_size: size,
    }
}

fn mass_quote(quote_id: u64, mmp: bool, entries: &[wire::QuoteEntriesEntry]) -> wire::MassQuote {
    let mut exec_inst = wire::ExecInst::default();
    if mmp {
        exec_inst = exec_inst.with_mmp(true);
    }
    wire::MassQuote {
        quote_id,
        exec_inst,
        no_quote_entries: wire::GroupVec::from_slice(entries).expect("at most 16 entries"),
    }
}

/// Ten two-sided levels around 100,000 USD, 0.001 BTC each, shifted by `shift` USD.
fn ten_levels(shift: i64) -> Vec<wire::QuoteEntriesEntry> {
    (0..10)
        .map(|k| {
            entry(
                k as u32,
                99_990 - k - shift,
                100_010 + k - shift,
                UNIT / 1000,
            )
        })
        .collect()
}

fn frame(message: &impl Encode) -> Vec<u8> {
    let mut buf = vec![0u8; sofh::SOFH_LEN + message.encoded_len()];
    let len = message.encode(&mut buf[sofh::SOFH_LEN..]).unwrap();
    sofh::write_header(&mut buf, len).unwrap();
    buf
}

fn quote_ack(quote_id: u64) -> impl Fn(&Plain) -> bool {
    move |m| matches!(m, Plain::MassQuoteAck(a) if a.quote_id == quote_id)
}

#[test]
fn a_mass_quote_is_acknowledged_entry_by_entry_without_order_reports() {
    let server = TestServer::start("quote-ack", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let entries = [
        entry(1, 99_990, 100_010, UNIT / 1000),
        entry(2, 100_010, 99_990, UNIT / 1000),
        wire::QuoteEntriesEntry {
            security_id: 999,
            ..entry(3, 99_980, 100_020, UNIT / 1000)
        },
        entry(4, 99_980, 100_020, UNIT / 1000 + 1),
    ];
    mm1.send(&mass_quote(77, false, &entries));
    let Plain::MassQuoteAck(ack) = mm1.wait_for("ack", quote_ack(77)) else {
        unreachable!()
    };
    assert_eq!(ack.quote_status, wire::QuoteStatus::Accepted);
    let statuses: Vec<(u32, Option<u16>)> = ack
        .no_quote_entry_acks
        .as_slice()
        .iter()
        .map(|e| (e.quote_entry_id, e.quote_entry_reject_reason))
        .collect();
    // 246 crossed quote, 1 unknown instrument, 13 size off lot.
    assert_eq!(
        statuses,
        vec![(1, None), (2, Some(246)), (3, Some(1)), (4, Some(13))]
    );
    assert!(
        mm1.reports().is_empty(),
        "the ack covers accepted quote sides: {:?}",
        mm1.received
    );
    mm1.send(&wire::QuoteCancel {
        quote_id: 78,
        quote_cancel_type: wire::QuoteCancelType::CancelAllQuotes,
        security_id: None,
        quote_set_id: None,
    });
    let Plain::QuoteCancelAck(ack) = mm1.wait_for(
        "cancel ack",
        |m| matches!(m, Plain::QuoteCancelAck(a) if a.quote_id == 78),
    ) else {
        unreachable!()
    };
    assert_eq!(ack.total_affected_orders, 2);
}

#[test]
fn mmp_triggers_over_the_wire_and_cancels_the_quotes() {
    let server = TestServer::start("mmp", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let mut mm2 = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    let config = |qty_limit| wire::MmpConfig {
        mmp_req_id: 5,
        underlying: wire::Asset::Btc,
        mmp_window: 1_000,
        mmp_qty_limit: qty_limit,
        mmp_delta_limit: UNIT,
        mmp_frozen_time: 0,
    };
    mm1.send(&config(0));
    mm1.wait_for(
        "reject",
        |m| matches!(m, Plain::MmpAck(a) if a.mmp_reject_reason == Some(242)),
    );
    mm1.send(&config(UNIT / 1000));
    mm1.wait_for(
        "ack",
        |m| matches!(m, Plain::MmpAck(a) if a.mmp_req_id == 5 && a.mmp_reject_reason.is_none()),
    );
    mm1.send(&mass_quote(1, true, &ten_levels(0)));
    mm1.wait_for("quote ack", quote_ack(1));
    mm2.send(&limit_order(
        9,
        wire::Side::Sell,
        UNIT / 1000,
        99_990 * UNIT,
    ));
    let Plain::MmpTriggered(t) = mm1.wait_for("trigger", |m| matches!(m, Plain::MmpTriggered(_)))
    else {
        unreachable!()
    };
    assert_eq!(t.mmp_breach, wire::MmpBreach::Quantity);
    assert_eq!(t.total_affected_orders, 19);
    assert_eq!(t.mmp_frozen_until, None);
    mm1.send(&mass_quote(2, true, &ten_levels(0)));
    let Plain::MassQuoteAck(ack) = mm1.wait_for("frozen ack", quote_ack(2)) else {
        unreachable!()
    };
    assert!(ack
        .no_quote_entry_acks
        .as_slice()
        .iter()
        .all(|e| e.quote_entry_reject_reason == Some(240)));
    mm1.send(&wire::MmpReset {
        mmp_req_id: 6,
        underlying: wire::Asset::Btc,
    });
    mm1.wait_for(
        "reset",
        |m| matches!(m, Plain::MmpAck(a) if a.mmp_req_id == 6),
    );
    mm1.send(&mass_quote(3, true, &ten_levels(0)));
    let Plain::MassQuoteAck(ack) = mm1.wait_for("ack after reset", quote_ack(3)) else {
        unreachable!()
    };
    assert!(ack
        .no_quote_entry_acks
        .as_slice()
        .iter()
        .all(|e| e.quote_entry_reject_reason.is_none()));
}

/// MM1 floods 2 × 100 ten-level quotes (well inside its rate limit) around one order of MM2.
/// MM2's order must not wait behind the flood sent after it: the gateway takes messages from
/// connections in turn (batches of 8 here), so one session's backlog cannot hold another's
/// messages back. Ordering is asserted through the acks' stamped times, not by timing.
#[test]
fn a_quote_flood_does_not_hold_back_another_sessions_order() {
    const QUOTES: u64 = 100;
    let dir = std::env::temp_dir().join(format!("exchange-e2e-flood-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = TestServer::start_in(dir, Durability::None, |g| g.max_batch_messages = 8);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let mut mm2 = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    let burst = |first: u64| -> Vec<u8> {
        (first..first + QUOTES)
            .flat_map(|q| frame(&mass_quote(q, false, &ten_levels((q % 3) as i64))))
            .collect()
    };
    let (first, second) = (burst(1), burst(1 + QUOTES));
    mm1.send_raw(&first);
    mm2.send(&limit_order(1, wire::Side::Buy, UNIT / 1000, 90_000 * UNIT));
    mm1.send_raw(&second);
    let Plain::ExecutionReport(order_ack) = mm2.wait_for(
        "MM2 ack",
        |m| matches!(m, Plain::ExecutionReport(r) if r.cl_ord_id == 1),
    ) else {
        unreachable!()
    };
    mm1.wait_for("last quote ack", quote_ack(2 * QUOTES));
    let quote_times: Vec<u64> = mm1
        .received
        .iter()
        .filter_map(|m| match m {
            Plain::MassQuoteAck(a) => Some(a.transact_time),
            _ => None,
        })
        .collect();
    assert_eq!(
        quote_times.len() as u64,
        2 * QUOTES,
        "every quote acknowledged"
    );
    let ahead = quote_times
        .iter()
        .filter(|&&t| t < order_ack.transact_time)
        .count() as u64;
    eprintln!(
        "quotes sequenced ahead of MM2's order: {ahead} of {}",
        2 * QUOTES
    );
    // At worst the first burst was read whole before MM2's order arrived, then one batch.
    assert!(
        ahead <= QUOTES + 8,
        "MM2's order waited behind the flood that followed it ({ahead} quotes ahead)"
    );
    assert!(mm2
        .recv(Duration::from_millis(10))
        .is_none_or(|m| !matches!(m, Plain::BusinessMessageReject(_))));
}

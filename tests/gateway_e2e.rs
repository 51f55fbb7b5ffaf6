//! End to end over loopback TCP: logon, orders, fills between two market makers, cancels,
//! amends, mass cancel, queries, retransmission after a reconnect, authentication failures,
//! and malformed input that terminates one session without disturbing another.

mod common;

use std::time::Duration;

use common::wire::{limit_order, now_ns, TestServer, WireClient, UNIT};
use exchange::protocol::codec::{self as wire, Plain};
use journal::Durability;

fn is_report(cl: u64, exec: wire::ExecType) -> impl Fn(&Plain) -> bool {
    move |m| matches!(m, Plain::ExecutionReport(r) if r.cl_ord_id == cl && r.exec_type == exec)
}

#[test]
fn two_market_makers_trade_and_both_get_fills() {
    let server = TestServer::start("trade", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let mut mm2 = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    mm2.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        100_000 * UNIT,
    ));
    mm2.wait_for("MM2 ack", is_report(1, wire::ExecType::New));
    mm1.send(&limit_order(7, wire::Side::Buy, UNIT / 100, 100_010 * UNIT));
    mm1.wait_for("MM1 ack", is_report(7, wire::ExecType::New));
    let Plain::ExecutionReport(taker) =
        mm1.wait_for("MM1 fill", is_report(7, wire::ExecType::Trade))
    else {
        unreachable!()
    };
    assert_eq!(taker.last_px, Some(100_000 * UNIT));
    assert_eq!(taker.last_qty, Some(UNIT / 100));
    assert_eq!(taker.ord_status, wire::OrdStatus::Filled);
    assert_eq!(taker.aggressor_indicator, Some(wire::BooleanFlag::True));
    assert_eq!(taker.commission, UNIT / 2); // 0.05% of 1,000 USD = 0.5 USD
    let Plain::ExecutionReport(maker) =
        mm2.wait_for("MM2 fill", is_report(1, wire::ExecType::Trade))
    else {
        unreachable!()
    };
    assert_eq!(maker.trd_match_id, taker.trd_match_id);
    assert_eq!(maker.commission, UNIT / 10); // 0.01% = 0.1 USD
}

#[test]
fn cancel_amend_and_mass_cancel_round_trip() {
    let server = TestServer::start("cancel", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    for cl in 1..=3 {
        mm1.send(&limit_order(
            cl,
            wire::Side::Buy,
            UNIT / 100,
            (99_000 + cl as i64) * UNIT,
        ));
        mm1.wait_for("ack", is_report(cl, wire::ExecType::New));
    }
    mm1.send(&wire::OrderCancelReplaceRequest {
        cl_ord_id: 11,
        orig_cl_ord_id: 1,
        order_id: None,
        price: 99_500 * UNIT,
        order_qty: UNIT / 50,
        security_id: 1,
        side: wire::Side::Buy,
    });
    let Plain::ExecutionReport(replaced) =
        mm1.wait_for("replaced", is_report(11, wire::ExecType::Replaced))
    else {
        unreachable!()
    };
    assert_eq!(replaced.orig_cl_ord_id, Some(1));
    assert_eq!(replaced.price, Some(99_500 * UNIT));
    mm1.send(&wire::OrderCancelRequest {
        cl_ord_id: 12,
        orig_cl_ord_id: 2,
        order_id: None,
        security_id: 1,
        side: wire::Side::Buy,
    });
    mm1.wait_for("canceled", is_report(2, wire::ExecType::Canceled));
    mm1.send(&wire::OrderCancelRequest {
        cl_ord_id: 13,
        orig_cl_ord_id: 2,
        order_id: None,
        security_id: 1,
        side: wire::Side::Buy,
    });
    mm1.wait_for(
        "cancel reject",
        // 107: the order is already finished (canceled just before).
        |m| {
            matches!(m, Plain::OrderCancelReject(r)
                if r.cl_ord_id == 13 && r.orig_cl_ord_id == 2 && r.cxl_rej_reason == 107)
        },
    );
    mm1.send(&wire::OrderMassCancelRequest {
        cl_ord_id: 14,
        security_id: None,
        mass_cancel_request_type: wire::MassCancelRequestType::CancelAllOrders,
        side: None,
    });
    mm1.wait_for(
        "mass cancel report",
        |m| matches!(m, Plain::OrderMassCancelReport(r) if r.total_affected_orders == 2),
    );
    mm1.send(&wire::CollateralInquiry {
        coll_inquiry_id: 5,
        account: 1,
    });
    let report = mm1.wait_for("collateral", |m| matches!(m, Plain::CollateralReport(_)));
    let Plain::CollateralReport(report) = report else {
        unreachable!()
    };
    assert_eq!(report.no_collateral_amounts.len(), 3);
}

#[test]
fn off_tick_price_and_unknown_instrument_are_rejected_with_their_reason() {
    let server = TestServer::start("reject", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    mm1.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        100_000 * UNIT + 1,
    ));
    let Plain::ExecutionReport(r) = mm1.wait_for("reject", is_report(1, wire::ExecType::Rejected))
    else {
        unreachable!()
    };
    assert_eq!(r.ord_rej_reason, Some(18)); // FIX: incorrect price increment
                                            // The reject echoes the order; a price off the tick has no value in ticks to echo.
    assert_eq!(
        (r.side, r.ord_type, r.time_in_force),
        (
            wire::Side::Sell,
            wire::OrdType::Limit,
            wire::TimeInForce::GoodTillCancel
        )
    );
    assert_eq!((r.price, r.order_qty), (None, UNIT / 100));

    // Refused by the engine (outside the price band): the whole order is echoed.
    mm1.send(&limit_order(
        3,
        wire::Side::Sell,
        2 * UNIT / 100,
        50_000 * UNIT,
    ));
    let Plain::ExecutionReport(r) = mm1.wait_for("band", is_report(3, wire::ExecType::Rejected))
    else {
        unreachable!()
    };
    assert_eq!(r.ord_rej_reason, Some(103), "outside the price band");
    assert_eq!(
        (r.side, r.ord_type),
        (wire::Side::Sell, wire::OrdType::Limit)
    );
    assert_eq!(r.time_in_force, wire::TimeInForce::GoodTillCancel);
    assert_eq!(
        (r.price, r.order_qty),
        (Some(50_000 * UNIT), 2 * UNIT / 100)
    );
    assert_eq!((r.leaves_qty, r.cum_qty, r.order_id), (0, 0, 0));
    let mut order = limit_order(2, wire::Side::Buy, UNIT / 100, 100_000 * UNIT);
    order.security_id = 99;
    mm1.send(&order);
    let Plain::ExecutionReport(r) = mm1.wait_for("reject", is_report(2, wire::ExecType::Rejected))
    else {
        unreachable!()
    };
    assert_eq!(r.ord_rej_reason, Some(1)); // FIX: unknown symbol
}

#[test]
fn reconnecting_client_gets_missed_reports_by_retransmission() {
    let server = TestServer::start("retransmit", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    mm1.send(&limit_order(1, wire::Side::Buy, UNIT / 100, 99_000 * UNIT));
    mm1.wait_for("ack", is_report(1, wire::ExecType::New));
    drop(mm1); // cancel-on-disconnect cancels the order while MM1 is away
    std::thread::sleep(Duration::from_millis(100));
    let mut again = WireClient::connect(server.addr);
    let reply = again.negotiate("MM1", "mm1-demo-key", now_ns());
    let Some(Plain::NegotiationResponse(response)) = reply else {
        panic!("{reply:?}")
    };
    // The ack, then, sent while away: the cancel and the cancel-on-disconnect report.
    assert_eq!(response.previous_seq_no, 3);
    assert!(matches!(
        again.establish("MM1", "mm1-demo-key"),
        Some(Plain::EstablishmentAck(_))
    ));
    again.send(&wire::RetransmitRequest {
        uuid: again.uuid,
        request_timestamp: now_ns(),
        from_seq_no: 1,
        msg_count: 3,
    });
    again.wait_for("retransmission", |m| matches!(m, Plain::Retransmission(_)));
    again.wait_for("the ack again", is_report(1, wire::ExecType::New));
    again.wait_for("the missed cancel", is_report(1, wire::ExecType::Canceled));
    again.wait_for(
        "the missed report",
        |m| matches!(m, Plain::OrderMassCancelReport(r) if r.total_affected_orders == 1),
    );
}

#[test]
fn authentication_failures_have_distinct_reasons() {
    let server = TestServer::start("auth", Durability::None);
    let reject_code = |reply: Option<Plain>| match reply {
        Some(Plain::NegotiationReject(r)) => r.negotiation_reject_code,
        other => panic!("expected NegotiationReject, got {other:?}"),
    };
    let bad_key = reject_code(WireClient::connect(server.addr).negotiate("MM1", "wrong", now_ns()));
    let stale = now_ns() - 60_000_000_000;
    let old = reject_code(WireClient::connect(server.addr).negotiate("MM1", "mm1-demo-key", stale));
    let unknown = reject_code(WireClient::connect(server.addr).negotiate("NOPE", "x", now_ns()));
    let _live = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    let second =
        reject_code(WireClient::connect(server.addr).negotiate("MM2", "mm2-demo-key", now_ns()));
    let codes = [bad_key, old, unknown, second];
    for (i, a) in codes.iter().enumerate() {
        for b in &codes[i + 1..] {
            assert_ne!(a, b, "reasons must differ: {codes:?}");
        }
    }
}

#[test]
fn garbage_terminates_only_the_offending_session() {
    let server = TestServer::start("garbage", Durability::None);
    let mut good = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    let mut bad = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    bad.send_raw(&[
        0, 0, 0, 20, 0xDE, 0xAD, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
    let terminate = bad.wait_for("terminate", |m| matches!(m, Plain::Terminate(_)));
    let Plain::Terminate(t) = terminate else {
        unreachable!()
    };
    assert_eq!(t.termination_code, wire::TerminationCode::InvalidMessage);
    good.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        101_000 * UNIT,
    ));
    good.wait_for(
        "the other session still trades",
        is_report(1, wire::ExecType::New),
    );
}

#[test]
fn application_message_before_establish_is_refused() {
    let server = TestServer::start("early", Durability::None);
    let mut client = WireClient::connect(server.addr);
    client.send(&limit_order(1, wire::Side::Buy, UNIT / 100, 100_000 * UNIT));
    let reply = client.recv(Duration::from_secs(5));
    assert!(
        matches!(reply, Some(Plain::Terminate(_)) | None),
        "{reply:?}"
    );
}

#[test]
fn admin_message_from_a_trading_session_is_not_authorized() {
    let server = TestServer::start("admin", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    mm1.send(&wire::FundsTransfer {
        admin_req_id: 1,
        account: 1,
        transfer_amount: UNIT,
        transfer_type: wire::TransferType::Deposit,
        currency: wire::Asset::Usd,
    });
    mm1.wait_for(
        "business reject",
        |m| matches!(m, Plain::BusinessMessageReject(r) if r.business_reject_reason == 6),
    );
    let mut admin = WireClient::logon(server.addr, "ADMIN", "admin-demo-key");
    admin.send(&wire::FundsTransfer {
        admin_req_id: 9,
        account: 4,
        transfer_amount: UNIT,
        transfer_type: wire::TransferType::Deposit,
        currency: wire::Asset::Usd,
    });
    admin.wait_for(
        "admin ack",
        |m| matches!(m, Plain::AdminAck(a) if a.admin_req_id == 9),
    );
}

#[test]
fn a_flood_beyond_the_rate_limit_is_rejected_and_counted() {
    let dir = std::env::temp_dir().join(format!("exchange-e2e-flood-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = TestServer::start_in(dir, Durability::None, |config| {
        config.rate_limit_per_sec = 10;
        config.rate_limit_burst = 5;
    });
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    for cl in 1..=20 {
        mm1.send(&limit_order(
            cl,
            wire::Side::Buy,
            UNIT / 100,
            90_000 * UNIT + cl as i64 * UNIT,
        ));
    }
    mm1.wait_for(
        "throttle reject",
        |m| matches!(m, Plain::BusinessMessageReject(r) if r.business_reject_reason == 100),
    );
}

#[test]
fn a_slow_reader_is_terminated_without_stalling_others() {
    let dir = std::env::temp_dir().join(format!("exchange-e2e-slow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = TestServer::start_in(dir, Durability::None, |config| {
        config.output_buffer_bytes = 16 * 1024;
        config.rate_limit_per_sec = 10_000_000;
        config.rate_limit_burst = 1_000_000;
    });
    let mut slow = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let mut other = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    // Non-crossing IOC orders: each is answered by New and Canceled, and MM1 never reads.
    let mut order = limit_order(0, wire::Side::Buy, UNIT / 100, 95_000 * UNIT);
    order.time_in_force = wire::TimeInForce::ImmediateOrCancel;
    let mut batch = Vec::new();
    for cl in 1..=60_000u64 {
        order.cl_ord_id = cl;
        let mut frame = vec![0u8; 6 + exchange::protocol::Encode::encoded_len(&order)];
        let len = exchange::protocol::Encode::encode(&order, &mut frame[6..]).unwrap();
        exchange::protocol::sofh::write_header(&mut frame, len).unwrap();
        batch.extend_from_slice(&frame);
        if batch.len() > 64 * 1024 {
            slow.send_raw(&batch);
            batch.clear();
        }
    }
    slow.send_raw(&batch);
    // The other session is served meanwhile.
    other.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        101_000 * UNIT,
    ));
    other.wait_for("the other session's ack", is_report(1, wire::ExecType::New));
    // The slow session's connection ends: reading now drains what the kernel buffered, then
    // finds the end of the stream.
    let mut last = None;
    while let Some(message) = slow.recv(Duration::from_secs(5)) {
        last = Some(message);
    }
    let Some(Plain::Terminate(terminate)) = last else {
        panic!("the slow consumer's stream should end with a Terminate, ended with {last:?}");
    };
    assert_eq!(
        terminate.termination_code,
        wire::TerminationCode::SlowConsumer
    );
}

#[test]
fn a_resent_client_order_id_is_rejected_as_a_duplicate() {
    let server = TestServer::start("duplicate", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let mut order = limit_order(5, wire::Side::Buy, UNIT / 100, 99_000 * UNIT);
    order.time_in_force = wire::TimeInForce::ImmediateOrCancel;
    mm1.send(&order);
    mm1.wait_for("first answer", is_report(5, wire::ExecType::Canceled));
    // The same ClOrdID again, even after that order finished: a duplicate (FIX 6).
    mm1.send(&order);
    let Plain::ExecutionReport(r) =
        mm1.wait_for("duplicate", is_report(5, wire::ExecType::Rejected))
    else {
        unreachable!()
    };
    assert_eq!(r.ord_rej_reason, Some(6));
}

#[test]
fn retransmission_of_messages_that_aged_out_of_the_log_is_refused() {
    let dir = std::env::temp_dir().join(format!("exchange-e2e-aged-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = TestServer::start_in(dir, Durability::None, |config| {
        config.outbound_log_messages = 2;
    });
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    for cl in 1..=3 {
        mm1.send(&limit_order(
            cl,
            wire::Side::Buy,
            UNIT / 100,
            (99_000 + cl as i64) * UNIT,
        ));
        mm1.wait_for("ack", is_report(cl, wire::ExecType::New));
    }
    let request = |from, count| wire::RetransmitRequest {
        uuid: mm1.uuid,
        request_timestamp: now_ns(),
        from_seq_no: from,
        msg_count: count,
    };
    let (aged, kept) = (request(1, 3), request(2, 2));
    mm1.send(&aged);
    mm1.wait_for("retransmit reject", |m| {
        matches!(m, Plain::RetransmitReject(r)
            if r.retransmit_reject_code == wire::RetransmitRejectCode::OutOfRange)
    });
    mm1.send(&kept);
    mm1.wait_for("retransmission", |m| matches!(m, Plain::Retransmission(_)));
    mm1.wait_for("the kept ack", is_report(2, wire::ExecType::New));
}

//! Perpetuals end to end over loopback TCP: the operator publishes an index, two market makers
//! trade 1 BTC on BTC-USD-PERP and each gets its fills and an unsolicited PositionReport;
//! RequestForPositions and CollateralInquiry answer with the real position, equity and
//! margin; a retail account's perpetual order is refused.

mod common;

use common::wire::{index_constituents, now_ns, perp_order, TestServer, WireClient, UNIT};
use exchange::protocol::codec::{self as wire, Plain};
use journal::Durability;

const BTC_PERP: i32 = 3;
const ETH_PERP: i32 = 4;
/// 100 000 USD on the wire.
const PRICE: i64 = 100_000 * UNIT;

fn is_report(cl: u64, exec: wire::ExecType) -> impl Fn(&Plain) -> bool {
    move |m| matches!(m, Plain::ExecutionReport(r) if r.cl_ord_id == cl && r.exec_type == exec)
}

fn unsolicited_position(client: &mut WireClient, who: &str) -> wire::PositionReport {
    let message = client.wait_for(
        who,
        |m| matches!(m, Plain::PositionReport(r) if r.pos_req_id.is_none()),
    );
    let Plain::PositionReport(report) = message else {
        unreachable!()
    };
    report
}

/// ADMIN publishes a 3-source index around 100 000 USD on BTC-USD-PERP.
fn publish_index(server: &TestServer) {
    let mut admin = WireClient::logon(server.addr, "ADMIN", "admin-demo-key");
    let prices = [PRICE, PRICE + 10 * UNIT, PRICE - 10 * UNIT];
    admin.send(&index_constituents(31, BTC_PERP, &prices, now_ns()));
    admin.wait_for(
        "index ack",
        |m| matches!(m, Plain::AdminAck(a) if a.admin_req_id == 31),
    );
}

/// MM2 sells 1 BTC, MM1 buys it: both see the trade, then their new position.
fn trade_one_btc(mm1: &mut WireClient, mm2: &mut WireClient) {
    mm2.send(&perp_order(1, wire::Side::Sell, UNIT, PRICE));
    mm2.wait_for("MM2 ack", is_report(1, wire::ExecType::New));
    mm1.send(&perp_order(2, wire::Side::Buy, UNIT, PRICE));
    mm1.wait_for("MM1 fill", is_report(2, wire::ExecType::Trade));
    mm2.wait_for("MM2 fill", is_report(1, wire::ExecType::Trade));
}

#[test]
fn perp_trade_reports_positions_and_real_collateral() {
    let server = TestServer::start("perp", Durability::None);
    publish_index(&server);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let mut mm2 = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    trade_one_btc(&mut mm1, &mut mm2);

    let long = unsolicited_position(&mut mm1, "MM1 position");
    let short = unsolicited_position(&mut mm2, "MM2 position");
    assert_eq!((long.account, long.security_id), (1, BTC_PERP));
    assert_eq!((long.long_qty, long.short_qty), (UNIT, 0));
    assert_eq!((short.long_qty, short.short_qty), (0, UNIT));
    assert_eq!(long.entry_px, Some(PRICE));
    assert_eq!(short.entry_px, Some(PRICE));
    assert_eq!(long.tot_num_reports, 1);
    let mark = long.mark_px.expect("the index gave a mark");
    assert!(
        (PRICE - 100 * UNIT..=PRICE + 100 * UNIT).contains(&mark),
        "mark {mark}"
    );
    assert_eq!(long.unrealized_pnl, mark - PRICE);
    assert_eq!(short.unrealized_pnl, PRICE - mark);
    assert_eq!((long.realized_pnl, short.realized_pnl), (0, 0));

    mm1.send(&wire::RequestForPositions {
        pos_req_id: 77,
        account: 1,
        security_id: None,
    });
    let mut answered = Vec::new();
    while answered.len() < 2 {
        let message = mm1.wait_for(
            "position answer",
            |m| matches!(m, Plain::PositionReport(r) if r.pos_req_id == Some(77)),
        );
        let Plain::PositionReport(report) = message else {
            unreachable!()
        };
        assert_eq!(report.tot_num_reports, 2);
        answered.push(report);
    }
    let btc = answered
        .iter()
        .find(|r| r.security_id == BTC_PERP)
        .expect("BTC perp");
    assert_eq!(
        (btc.long_qty, btc.short_qty, btc.entry_px),
        (UNIT, 0, Some(PRICE))
    );
    assert_eq!(btc.mark_px, Some(mark));
    assert_eq!(btc.unrealized_pnl, long.unrealized_pnl);
    let eth = answered
        .iter()
        .find(|r| r.security_id == ETH_PERP)
        .expect("ETH perp");
    assert_eq!((eth.long_qty, eth.short_qty, eth.entry_px), (0, 0, None));

    mm1.send(&wire::CollateralInquiry {
        coll_inquiry_id: 78,
        account: 1,
    });
    let message = mm1.wait_for("collateral", |m| matches!(m, Plain::CollateralReport(_)));
    let Plain::CollateralReport(collateral) = message else {
        unreachable!()
    };
    assert_eq!(collateral.coll_inquiry_id, Some(78));
    // 1 BTC at the mark in the first tier (up to 1M USD): IM 2%, MM 1%.
    assert_eq!(collateral.initial_margin, mark / 50);
    assert_eq!(collateral.maintenance_margin, mark / 100);
    assert!((1_990 * UNIT..=2_010 * UNIT).contains(&collateral.initial_margin));
    let entry = |asset| {
        let entries = collateral.no_collateral_amounts.as_slice();
        *entries
            .iter()
            .find(|e| e.currency == asset)
            .expect("every asset")
    };
    // 10M USD less the 0.05% taker fee on 100 000; 100 BTC at the index after a 60% haircut;
    // no ETH index yet.
    let usd = entry(wire::Asset::Usd);
    assert_eq!(
        (usd.balance, usd.collateral_value),
        (9_999_950 * UNIT, 9_999_950 * UNIT)
    );
    let btc = entry(wire::Asset::Btc);
    assert_eq!(
        (btc.balance, btc.collateral_value),
        (100 * UNIT, 4_000_000 * UNIT)
    );
    assert_eq!(entry(wire::Asset::Eth).collateral_value, 0);
    let equity = usd.collateral_value + btc.collateral_value + long.unrealized_pnl;
    assert_eq!(collateral.total_net_value, equity);
    assert_eq!(
        (collateral.loan_amount, collateral.accrued_interest),
        (0, 0)
    );
}

#[test]
fn perp_order_rejected_for_retail_account() {
    let server = TestServer::start("perp-retail", Durability::None);
    publish_index(&server);
    let mut retail = WireClient::logon(server.addr, "RETAIL1", "retail1-demo-key");
    retail.send(&perp_order(5, wire::Side::Buy, UNIT / 100, PRICE));
    let message = retail.wait_for("reject", is_report(5, wire::ExecType::Rejected));
    let Plain::ExecutionReport(reject) = message else {
        unreachable!()
    };
    // 200: perpetuals are for professional investors only.
    assert_eq!(reject.ord_rej_reason, Some(200));
    assert_eq!(reject.security_id, BTC_PERP);
    assert!(
        !retail
            .received
            .iter()
            .any(|m| matches!(m, Plain::PositionReport(_))),
        "a refused order moves no position"
    );
}

/// The circuit breaker over the wire: the operator's index jumps 12%, the mark follows
/// (mean of c1 and c2 before any trade), the instrument halts, and a market maker's new
/// perpetual order is rejected with OrdRejReason 210 while its resting order stays.
#[test]
fn perp_orders_are_rejected_while_the_circuit_breaker_halts_the_instrument() {
    let server = TestServer::start("perp-breaker", Durability::None);
    publish_index(&server);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    mm1.send(&perp_order(1, wire::Side::Buy, UNIT, PRICE - 1_000 * UNIT));
    mm1.wait_for("resting bid", is_report(1, wire::ExecType::New));

    let mut admin = WireClient::logon(server.addr, "ADMIN", "admin-demo-key");
    let jumped = PRICE + 12_000 * UNIT;
    admin.send(&index_constituents(32, BTC_PERP, &[jumped; 3], now_ns()));
    admin.wait_for(
        "index ack",
        |m| matches!(m, Plain::AdminAck(a) if a.admin_req_id == 32),
    );

    mm1.send(&perp_order(2, wire::Side::Buy, UNIT, jumped));
    let reject = mm1.wait_for("breaker reject", is_report(2, wire::ExecType::Rejected));
    let Plain::ExecutionReport(report) = reject else {
        unreachable!()
    };
    assert_eq!(report.ord_rej_reason, Some(210), "{report:?}");
    // The resting bid was not touched: cancelling it still works.
    mm1.send(&wire::OrderCancelRequest {
        cl_ord_id: 3,
        orig_cl_ord_id: 1,
        order_id: None,
        security_id: BTC_PERP,
        side: wire::Side::Buy,
    });
    mm1.wait_for(
        "cancel of the resting bid",
        is_report(1, wire::ExecType::Canceled),
    );
}

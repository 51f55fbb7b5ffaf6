//! Margin financing end to end over loopback TCP: the demo margin client buys BTC with
//! borrowed USD, sees its loan in a CollateralReport, is called when the operator marks its
//! securities down (MarginCallReport), is then refused new exposure, cannot post collateral
//! values itself, and the operator reads the margin-loan fund's balances.

mod common;

use common::wire::{index_constituents, limit_order, now_ns, TestServer, WireClient, UNIT};
use exchange::protocol::codec::{self as wire, Plain};
use journal::Durability;

const BTC_PERP: i32 = 3;
const PRICE: i64 = 100_000 * UNIT;
const CLIENT: u64 = 20;
const LOAN_FUND: u64 = 21;

fn is_report(cl: u64, exec: wire::ExecType) -> impl Fn(&Plain) -> bool {
    move |m| matches!(m, Plain::ExecutionReport(r) if r.cl_ord_id == cl && r.exec_type == exec)
}

fn collateral(client: &mut WireClient, inquiry: u64, account: u64) -> wire::CollateralReport {
    client.send(&wire::CollateralInquiry {
        coll_inquiry_id: inquiry,
        account,
    });
    let message = client.wait_for(
        "collateral report",
        |m| matches!(m, Plain::CollateralReport(r) if r.coll_inquiry_id == Some(inquiry)),
    );
    let Plain::CollateralReport(report) = message else {
        unreachable!()
    };
    report
}

fn securities(admin_req_id: u64, value: i64, haircut_ppm: u32) -> wire::CollateralValueUpdate {
    wire::CollateralValueUpdate {
        admin_req_id,
        account: CLIENT,
        security_collateral_value: value,
        haircut_ppm,
        security_class: 0,
    }
}

#[test]
fn a_margin_client_borrows_is_called_and_stops_advancing() {
    let server = TestServer::start("margin", Durability::None);
    let mut admin = WireClient::logon(server.addr, "ADMIN", "admin-demo-key");
    admin.send(&index_constituents(1, BTC_PERP, &[PRICE; 3], now_ns()));
    admin.wait_for(
        "index",
        |m| matches!(m, Plain::AdminAck(a) if a.admin_req_id == 1),
    );
    let mut mm2 = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    let mut client = WireClient::logon(server.addr, "MARGIN1", "margin1-demo-key");

    // 3 BTC at 100 000 with 50 000 USD of cash: 250 150 USD borrowed (fee included).
    mm2.send(&limit_order(1, wire::Side::Sell, 3 * UNIT, PRICE));
    mm2.wait_for("MM2 ack", is_report(1, wire::ExecType::New));
    client.send(&limit_order(2, wire::Side::Buy, 3 * UNIT, PRICE));
    client.wait_for("client fill", is_report(2, wire::ExecType::Trade));
    let report = collateral(&mut client, 3, CLIENT);
    // Interest may have run for a few microseconds of journaled time since the fill.
    assert!((250_150 * UNIT..250_151 * UNIT).contains(&report.loan_amount));

    // A client may not post collateral values.
    client.send(&securities(4, 10 * UNIT, 0));
    client.wait_for("refusal", |m| {
        matches!(m, Plain::BusinessMessageReject(_) | Plain::AdminReject(_))
    });

    // The broker marks the securities down to 130 000 (no haircut): L = S / (1 − 40%)
    // = 216 666.66666666 (BTC capped at 40% of L), coverage 86.6% < 90%: a margin call.
    admin.send(&securities(5, 130_000 * UNIT, 0));
    admin.wait_for(
        "ack",
        |m| matches!(m, Plain::AdminAck(a) if a.admin_req_id == 5),
    );
    let message = client.wait_for("margin call", |m| matches!(m, Plain::MarginCallReport(_)));
    let Plain::MarginCallReport(call) = message else {
        unreachable!()
    };
    assert_eq!(call.margin_status, wire::MarginStatus::Call);
    assert_eq!(call.account, CLIENT);
    // Interest runs on wall-clock (journaled) time: a few units since the fill.
    let loan = call.loan_amount;
    assert!(
        (250_150 * UNIT..250_151 * UNIT).contains(&loan),
        "loan {loan}"
    );
    assert_eq!(call.loanable_value, 21_666_666_666_666);
    let coverage = call.loanable_value as i128 * 1_000_000 / loan as i128;
    assert_eq!(call.coverage_ratio, Some(coverage as i64));
    assert!(
        (866_000..866_147).contains(&coverage),
        "coverage {coverage}"
    );

    // Under a call no new exposure: OrdRejReason 219.
    mm2.send(&limit_order(6, wire::Side::Sell, UNIT, PRICE));
    mm2.wait_for("MM2 ack", is_report(6, wire::ExecType::New));
    client.send(&limit_order(7, wire::Side::Buy, UNIT, PRICE));
    let message = client.wait_for("reject", is_report(7, wire::ExecType::Rejected));
    let Plain::ExecutionReport(reject) = message else {
        unreachable!()
    };
    assert_eq!(reject.ord_rej_reason, Some(219));

    // The operator reads the margin-loan fund's balances.
    let fund = collateral(&mut admin, 8, LOAN_FUND);
    assert_eq!(fund.account, LOAN_FUND);
    assert_eq!(fund.total_net_value, 1_000_000 * UNIT);
}

//! Affiliate market maker controls over the real gateway on loopback: an affiliate session sees
//! only its own execution reports; self-trade prevention across owner group 100 stops the
//! affiliate trading with a house account (the BTC insurance fund, INSFUND-BTC); the operator's KillSwitch (template 106)
//! mass-cancels and blocks an account or a whole owner group, is journaled and survives a
//! restart; cancel-on-disconnect cancels a market maker's orders (and only where configured).

mod common;

use std::time::Duration;

use common::wire::{limit_order, TestServer, WireClient, UNIT};
use exchange::config::Config;
use exchange::engine::AccountId;
use exchange::protocol::codec::{self as wire, Plain};
use exchange::sequencer::{recover, RecoveryOptions, SequencerOptions};
use journal::{Durability, JournalOptions};

const AFF1: u64 = 3;

fn is_report(cl: u64, exec: wire::ExecType) -> impl Fn(&Plain) -> bool {
    move |m| matches!(m, Plain::ExecutionReport(r) if r.cl_ord_id == cl && r.exec_type == exec)
}

fn kill(admin_req_id: u64, account: Option<u64>, group: u32, kill: bool) -> wire::KillSwitch {
    wire::KillSwitch {
        admin_req_id,
        account,
        owner_group: group,
        kill_switch_action: if kill {
            wire::KillSwitchAction::Kill
        } else {
            wire::KillSwitchAction::Unblock
        },
    }
}

fn admin_ack(admin: &mut WireClient, id: u64) {
    admin.wait_for(
        "admin ack",
        |m| matches!(m, Plain::AdminAck(a) if a.admin_req_id == id && a.ref_template_id == 106),
    );
}

/// Drains what arrives within `ms` (the client's `received` keeps it).
fn drain(client: &mut WireClient, ms: u64) {
    while client.recv(Duration::from_millis(ms)).is_some() {}
}

#[test]
fn affiliate_session_receives_only_its_own_execution_reports() {
    let server = TestServer::start("aff-private", Durability::None);
    let mut aff = WireClient::logon(server.addr, "AFF1", "aff1-demo-key");
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    let mut mm2 = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    mm2.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        100_000 * UNIT,
    ));
    mm2.wait_for("MM2 ack", is_report(1, wire::ExecType::New));
    mm1.send(&limit_order(1, wire::Side::Buy, UNIT / 100, 100_000 * UNIT));
    mm1.wait_for("MM1 fill", is_report(1, wire::ExecType::Trade));
    aff.send(&limit_order(77, wire::Side::Buy, UNIT / 100, 99_000 * UNIT));
    aff.wait_for("AFF1 ack", is_report(77, wire::ExecType::New));
    drain(&mut aff, 200);
    let reports = aff.reports();
    assert_eq!(reports.len(), 1, "{reports:#?}");
    assert_eq!(reports[0].cl_ord_id, 77);
    let private = aff.received.iter().filter(|m| {
        matches!(
            m,
            Plain::ExecutionReport(_)
                | Plain::OrderCancelReject(_)
                | Plain::PositionReport(_)
                | Plain::CollateralReport(_)
                | Plain::AdminAck(_)
        )
    });
    assert_eq!(private.count(), 1, "{:#?}", aff.received);
}

#[test]
fn affiliate_and_house_account_in_one_owner_group_never_trade() {
    let server = TestServer::start("aff-stp", Durability::None);
    let mut aff = WireClient::logon(server.addr, "AFF1", "aff1-demo-key");
    let mut house = WireClient::logon(server.addr, "INSFUND-BTC", "insfund-btc-demo-key");
    aff.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        100_000 * UNIT,
    ));
    aff.wait_for("AFF1 ack", is_report(1, wire::ExecType::New));
    house.send(&limit_order(1, wire::Side::Buy, UNIT / 100, 100_000 * UNIT));
    house.wait_for("house ack", is_report(1, wire::ExecType::New));
    // Self-trade prevention (cancel resting, the default) removes the affiliate's order.
    aff.wait_for("AFF1 STP cancel", is_report(1, wire::ExecType::Canceled));
    drain(&mut house, 200);
    let trades = |c: &WireClient| {
        c.reports()
            .iter()
            .filter(|r| r.exec_type == wire::ExecType::Trade)
            .count()
    };
    assert_eq!(trades(&aff), 0);
    assert_eq!(trades(&house), 0);
}

#[test]
fn kill_switch_on_an_owner_group_cancels_and_blocks_every_member_until_unblocked() {
    let mut server = TestServer::start("kill-group", Durability::None);
    let mut admin = WireClient::logon(server.addr, "ADMIN", "admin-demo-key");
    let mut aff = WireClient::logon(server.addr, "AFF1", "aff1-demo-key");
    let mut house = WireClient::logon(server.addr, "INSFUND-BTC", "insfund-btc-demo-key");
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    for (client, cl) in [(&mut aff, 1), (&mut house, 2), (&mut mm1, 3)] {
        client.send(&limit_order(cl, wire::Side::Buy, UNIT / 100, 99_000 * UNIT));
        client.wait_for("ack", is_report(cl, wire::ExecType::New));
    }
    admin.send(&kill(10, None, 100, true));
    admin_ack(&mut admin, 10);
    aff.wait_for("AFF1 killed", is_report(1, wire::ExecType::Canceled));
    house.wait_for(
        "house account killed",
        is_report(2, wire::ExecType::Canceled),
    );
    aff.send(&limit_order(4, wire::Side::Buy, UNIT / 100, 99_000 * UNIT));
    let Plain::ExecutionReport(reject) =
        aff.wait_for("blocked", is_report(4, wire::ExecType::Rejected))
    else {
        unreachable!()
    };
    assert_eq!(
        reject.ord_rej_reason,
        Some(114),
        "account blocked by the operator"
    );
    mm1.send(&limit_order(5, wire::Side::Buy, UNIT / 100, 99_001 * UNIT));
    mm1.wait_for("MM1 unaffected", is_report(5, wire::ExecType::New));
    drain(&mut mm1, 100);
    assert!(mm1
        .reports()
        .iter()
        .all(|r| r.exec_type != wire::ExecType::Canceled));

    admin.send(&kill(11, Some(AFF1), 0, false));
    admin_ack(&mut admin, 11);
    aff.send(&limit_order(6, wire::Side::Buy, UNIT / 100, 99_000 * UNIT));
    aff.wait_for("AFF1 unblocked", is_report(6, wire::ExecType::New));
    house.send(&limit_order(7, wire::Side::Buy, UNIT / 100, 99_000 * UNIT));
    house.wait_for(
        "house account still blocked",
        is_report(7, wire::ExecType::Rejected),
    );

    // The kill switch is in the journal: a restart replays it (INSFUND-BTC still blocked).
    let dir = server.dir.clone();
    drop((admin, aff, house, mm1));
    server.stop();
    let options = RecoveryOptions {
        journal_dir: dir,
        journal: JournalOptions {
            segment_size_bytes: 8 << 20,
            ..JournalOptions::default()
        },
        sequencer: SequencerOptions {
            digest_every: 100,
            snapshot_every: 0,
        },
        snapshots_kept: 2,
    };
    let (sequencer, _) = recover(&Config::default_config(), &options).expect("recover");
    let blocked = |id: u32| {
        sequencer
            .engine()
            .account(AccountId(id))
            .expect("configured account")
            .attrs
            .blocked
    };
    assert!(blocked(6), "INSFUND-BTC stays blocked after replay");
    assert!(!blocked(3), "AFF1 was unblocked");
    assert!(!blocked(1));
}

#[test]
fn kill_switch_on_an_unknown_group_or_from_a_trading_session_is_refused() {
    let server = TestServer::start("kill-refused", Durability::None);
    let mut admin = WireClient::logon(server.addr, "ADMIN", "admin-demo-key");
    admin.send(&kill(20, None, 4242, true));
    admin.wait_for("unknown group", |m| {
        matches!(m, Plain::AdminReject(r) if r.admin_req_id == 20 && r.admin_reject_reason == 230)
    });
    admin.send(&kill(21, None, 0, true));
    admin.wait_for("group 0", |m| {
        matches!(m, Plain::AdminReject(r) if r.admin_req_id == 21 && r.admin_reject_reason == 230)
    });
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    mm1.send(&kill(22, Some(2), 0, true));
    mm1.wait_for(
        "business reject",
        |m| matches!(m, Plain::BusinessMessageReject(r) if r.business_reject_reason == 6),
    );
}

#[test]
fn cancel_on_disconnect_cancels_a_market_makers_orders_but_not_a_retail_clients() {
    let server = TestServer::start("cod", Durability::None);
    let mut mm1 = WireClient::logon(server.addr, "MM1", "mm1-demo-key");
    mm1.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        100_000 * UNIT,
    ));
    mm1.wait_for("MM1 ack", is_report(1, wire::ExecType::New));
    let mut retail = WireClient::logon(server.addr, "RETAIL1", "retail1-demo-key");
    retail.send(&limit_order(
        1,
        wire::Side::Sell,
        UNIT / 100,
        100_001 * UNIT,
    ));
    retail.wait_for("RETAIL1 ack", is_report(1, wire::ExecType::New));
    drop(mm1);
    drop(retail);
    std::thread::sleep(Duration::from_millis(300));
    let mut mm2 = WireClient::logon(server.addr, "MM2", "mm2-demo-key");
    let mut ioc = limit_order(5, wire::Side::Buy, UNIT / 50, 100_001 * UNIT);
    ioc.time_in_force = wire::TimeInForce::ImmediateOrCancel;
    mm2.send(&ioc);
    mm2.wait_for("IOC remainder", is_report(5, wire::ExecType::Canceled));
    let fills: Vec<i64> = mm2
        .reports()
        .iter()
        .filter(|r| r.exec_type == wire::ExecType::Trade)
        .filter_map(|r| r.last_px)
        .collect();
    assert_eq!(
        fills,
        [100_001 * UNIT],
        "only the retail order was left to trade"
    );
}

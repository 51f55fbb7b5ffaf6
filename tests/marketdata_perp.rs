//! Perpetual prices on the incremental channel: an index update publishes IndexPrice and the
//! MarkPrice it moves, a premium sample publishes the running FundingRate and a settlement the
//! settled one, a stale index is not published, and RptSeq and EndOfEvent follow the same rules
//! as book messages.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use common::{Harness, BTC_PERP};
use exchange::config::MarketDataConfig;
use exchange::engine::{Command, Event};
use exchange::marketdata::codec::Plain;
use exchange::marketdata::{messages, socket, Publisher};

const USD: i64 = 100_000_000;

/// A publisher sending inline to one unicast receiver for all three channels, with the loops
/// slowed so that only incremental packets arrive.
fn publisher(h: &Harness) -> (UdpSocket, Publisher) {
    let receiver = socket::unicast_receiver(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let port = receiver.local_addr().unwrap().port();
    let md = MarketDataConfig {
        destination: "unicast".into(),
        incremental_port: port,
        snapshot_port: port,
        definition_port: port,
        snapshot_interval_ms: 3_600_000,
        definition_interval_ms: 3_600_000,
        send_thread: false,
        ..MarketDataConfig::default()
    };
    let publisher = Publisher::new(&md, &h.engine).unwrap();
    (receiver, publisher)
}

/// Every message of the incremental packets received (loop packets are left out).
fn received(receiver: &UdpSocket) -> Vec<Plain> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(len) = receiver.recv(&mut buf) {
        for message in messages(&buf[..len]) {
            match message.unwrap().to_plain() {
                Plain::SnapshotFullRefresh(_) | Plain::MDInstrumentDefinition(_) => {}
                other => out.push(other),
            }
        }
    }
    out
}

#[test]
fn an_index_update_publishes_index_and_mark_prices() {
    let mut h = Harness::new();
    let (receiver, mut publisher) = publisher(&h);
    let events = h.publish_index(BTC_PERP, [100_000, 100_010, 99_990]);
    publisher.publish_command(h.seq, h.time_ns, &events);
    publisher.flush(&h.engine);
    let got = received(&receiver);
    let [Plain::IndexPrice(index), Plain::MarkPrice(mark)] = got.as_slice() else {
        panic!("expected IndexPrice then MarkPrice, got {got:#?}");
    };
    assert_eq!(index.security_id, 3);
    assert_eq!(index.index_px, 100_000 * USD);
    assert_eq!(index.num_constituents, 3);
    assert_eq!((index.engine_seq, index.transact_time), (h.seq, h.time_ns));
    let engine_mark = h.engine.perp(BTC_PERP).unwrap().mark.price.0;
    assert_eq!(mark.mark_px, engine_mark * 10_000_000);
    assert_eq!(mark.engine_seq, h.seq);
    // RptSeq counts these messages per instrument like book messages.
    assert_eq!((index.rpt_seq, mark.rpt_seq), (1, 2));
    // Only the command's last message ends the event.
    assert!(!index.match_event_indicator.end_of_event());
    assert!(mark.match_event_indicator.end_of_event());
}

#[test]
fn a_premium_sample_publishes_the_running_rate_and_a_stale_index_stays_off_the_feed() {
    let mut h = Harness::new();
    let (receiver, mut publisher) = publisher(&h);
    // Funding started at the first command (t = 1 s): premium samples fall on whole minutes.
    h.time_ns = 55_000_000_000;
    let events = h.publish_index(BTC_PERP, [100_000, 100_010, 99_990]);
    publisher.publish_command(h.seq, h.time_ns, &events);
    let events = h.at(60_000_000_001, Command::Tick);
    publisher.publish_command(h.seq, h.time_ns, &events);
    // 10 s after its constituents the index turns stale: an event, but no message.
    let events = h.at(66_000_000_000, Command::Tick);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::IndexPrice { valid: false, .. })),
        "{events:?}"
    );
    publisher.publish_command(h.seq, h.time_ns, &events);
    publisher.flush(&h.engine);
    let got = received(&receiver);
    let rates: Vec<_> = got
        .iter()
        .filter_map(|m| match m {
            Plain::FundingRate(r) => Some(*r),
            _ => None,
        })
        .collect();
    let [rate] = rates.as_slice() else {
        panic!("expected one FundingRate, got {got:#?}");
    };
    assert_eq!(rate.security_id, 3);
    assert_eq!(rate.settled_time, 0, "a running estimate");
    assert_eq!(rate.next_funding_time, 28_800_000_000_000);
    // No book: a zero premium, so the rate is the 0.01% interest, 100 000 ppb.
    assert_eq!(rate.funding_rate_value, 100_000);
    assert!(rate.match_event_indicator.end_of_event());
    let indices = got
        .iter()
        .filter(|m| matches!(m, Plain::IndexPrice(_)))
        .count();
    assert_eq!(indices, 1, "the stale index is not published: {got:#?}");
}

#[test]
fn a_funding_settlement_publishes_the_settled_rate() {
    let mut h = Harness::new();
    let (receiver, mut publisher) = publisher(&h);
    // The first settlement is 8 h after the epoch; the index must be fresh then.
    let settle_ns = 28_800_000_000_000;
    h.time_ns = settle_ns - 5_000_000_000;
    let events = h.publish_index(BTC_PERP, [100_000, 100_010, 99_990]);
    publisher.publish_command(h.seq, h.time_ns, &events);
    let events = h.at(settle_ns + 1, Command::Tick);
    publisher.publish_command(h.seq, h.time_ns, &events);
    publisher.flush(&h.engine);
    let got = received(&receiver);
    let rates: Vec<_> = got
        .iter()
        .filter_map(|m| match m {
            Plain::FundingRate(r) if r.security_id == 3 => Some(*r),
            _ => None,
        })
        .collect();
    // BTC-USD-PERP: the sample at the settlement instant, then the settlement.
    let [estimate, settled] = rates.as_slice() else {
        panic!("expected two FundingRate messages, got {rates:#?}");
    };
    assert_eq!(estimate.settled_time, 0);
    assert_eq!(settled.settled_time, settle_ns);
    assert_eq!(settled.next_funding_time, 2 * settle_ns);
    assert_eq!(settled.funding_rate_value, 100_000);
    assert_eq!(settled.rpt_seq, estimate.rpt_seq + 1);
    // ETH-USD-PERP, without an index, skips its settlement (SettledTime 0); the new interval
    // moves BTC-USD-PERP's mark, whose message ends the command.
    let eth_skipped = got.iter().any(|m| {
        matches!(m, Plain::FundingRate(r)
            if r.security_id == 4 && r.settled_time == 0 && r.next_funding_time == 2 * settle_ns)
    });
    assert!(eth_skipped, "{got:#?}");
    assert!(!settled.match_event_indicator.end_of_event());
    let ends: Vec<bool> = got.iter().map(ends_event).collect();
    assert_eq!(
        ends.iter().filter(|e| **e).count(),
        2,
        "one per command: {got:#?}"
    );
    assert_eq!(ends.last(), Some(&true));
}

/// Whether a perpetual price message has EndOfEvent set.
fn ends_event(message: &Plain) -> bool {
    match message {
        Plain::IndexPrice(m) => m.match_event_indicator.end_of_event(),
        Plain::MarkPrice(m) => m.match_event_indicator.end_of_event(),
        Plain::FundingRate(m) => m.match_event_indicator.end_of_event(),
        other => panic!("unexpected {other:?}"),
    }
}

/// A liquidation goes out as anonymous Liquidation messages: the insurance fund's takeover of
/// a long that the (empty) book could not absorb, with its price and size and no account.
#[test]
fn a_liquidation_is_published_without_the_account() {
    use exchange::engine::{Asset, Side, Units};
    use exchange::marketdata::codec::LiquidationStage;
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000, 100_000, 100_000]);
    let trader = h.add_trader(9, &[(Asset::Usd, Units(3_000 * USD))]);
    h.place(common::perp_limit(
        common::MM2,
        Side::Sell,
        1_000_000,
        100_000,
        1,
    ));
    h.place(common::perp_limit(trader, Side::Buy, 1_000_000, 100_000, 2));
    let (receiver, mut publisher) = publisher(&h);
    let events = h.publish_index(BTC_PERP, [97_000, 97_000, 97_000]);
    publisher.publish_command(h.seq, h.time_ns, &events);
    publisher.flush(&h.engine);
    let got = received(&receiver);
    let liquidations: Vec<_> = got
        .iter()
        .filter_map(|m| match m {
            Plain::Liquidation(l) => Some(*l),
            _ => None,
        })
        .collect();
    let [fund] = liquidations.as_slice() else {
        panic!("expected one liquidation step, got {got:#?}");
    };
    // Equity 2 950 − 3 000 = −50 at 97 000: bp = 97 050, the fund takes 1 BTC there.
    assert_eq!(fund.liquidation_stage, LiquidationStage::InsuranceFund);
    assert_eq!(fund.md_entry_px, 97_050 * USD);
    assert_eq!(fund.md_entry_size, USD);
    assert_eq!(fund.liquidation_id, h.seq * 1_000 + 1);
    // The liquidation is the command's last message: it ends the event.
    assert!(
        matches!(got.last(), Some(Plain::Liquidation(_))),
        "{got:#?}"
    );
    assert!(fund.match_event_indicator.end_of_event());
}

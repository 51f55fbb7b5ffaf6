//! The feed rebuilds the engine's books: through dropped packets (TCP recovery, or the
//! snapshot channel when recovery is refused) and when it joins late.

mod common;

use std::time::Duration;

use common::{assert_books_equal, feed_and_config, settle, sync, Sim};
use exchange::marketdata::RecoveryLimits;

const LIMITS: RecoveryLimits = RecoveryLimits {
    request_packets_max: 4096,
    requests_per_sec: 1000,
    connections_max: 4,
};

/// Drives `commands` random commands, flushing every `per_flush` like loop turns, letting the
/// feed receive along the way.
fn drive(sim: &mut Sim, feed: &mut exchange_tools::feed::Feed, commands: usize, per_flush: usize) {
    for i in 0..commands {
        sim.random_command();
        if i % per_flush == per_flush - 1 {
            sim.flush();
            feed.poll_once();
        }
    }
    sim.flush();
}

#[test]
fn dropped_packets_are_recovered_over_tcp_to_an_identical_book() {
    let (mut feed, md) = feed_and_config(50);
    let mut sim = Sim::new(&md, 7);
    let recovery = sim.recovery(LIMITS);
    feed.set_recovery(recovery.local_addr());
    // Let the feed sync on the (empty) books first.
    assert!(sync(&mut sim, &mut feed, 200), "feed never synced");
    feed.drop_filter = Some(Box::new(|seq| seq % 7 == 3 || (40..50).contains(&seq)));
    drive(&mut sim, &mut feed, 20_000, 16);
    let last = sim.publisher.last_incremental_seq();
    assert!(last > 100, "the flow made only {last} packets");
    assert!(
        settle(&mut feed, last, Duration::from_secs(20)),
        "feed did not catch up"
    );
    let stats = feed.handler.stats;
    assert!(stats.gaps > 0 && stats.recovered_packets > 0, "{stats:?}");
    assert_eq!(stats.resyncs, 0);
    assert_books_equal(&feed, &sim.engine);
}

#[test]
fn without_recovery_the_feed_resyncs_from_snapshots() {
    let (mut feed, md) = feed_and_config(20);
    let mut sim = Sim::new(&md, 11);
    feed.use_recovery = false;
    assert!(sync(&mut sim, &mut feed, 200), "feed never synced");
    // A packet a little after the ones the sync consumed (how many that was depends on time:
    // the publisher's heartbeats run on the wall clock).
    let dropped = u32::try_from(sim.publisher.last_incremental_seq() + 10).expect("small");
    feed.drop_filter = Some(Box::new(move |seq| seq == dropped));
    drive(&mut sim, &mut feed, 5_000, 16);
    let last = sim.publisher.last_incremental_seq();
    // The filter stays: the feed may read the dropped packet's neighbours only in the sync
    // below (datagrams still in flight when `drive` ends).
    assert!(last > u64::from(dropped));
    // Snapshots loop only while the publisher flushes: keep turning the loop.
    let synced = sync(&mut sim, &mut feed, 400);
    assert!(synced, "feed did not resync: {:?}", feed.handler.stats);
    assert!(
        feed.handler.stats.resyncs >= 1,
        "dropped {dropped}, last {last}: {:?}",
        feed.handler.stats
    );
    assert_books_equal(&feed, &sim.engine);
}

#[test]
fn a_late_joiner_syncs_from_the_snapshot_channel() {
    let (mut early, md) = feed_and_config(20);
    let mut sim = Sim::new(&md, 23);
    // Book activity before the feed listens: its packets are gone for it.
    drive(&mut sim, &mut early, 3_000, 16);
    drop(early);
    let (mut late, _) = {
        // Rebind the same ports: the publisher keeps sending there.
        let endpoints = exchange_tools::feed::FeedEndpoints {
            multicast: None,
            unicast_host: std::net::Ipv4Addr::LOCALHOST,
            incremental_port: md.incremental_port,
            snapshot_port: md.snapshot_port,
            definition_port: md.definition_port,
            recovery: "127.0.0.1:1".parse().unwrap(),
        };
        (
            exchange_tools::feed::Feed::open(&endpoints, 1 << 16).unwrap(),
            (),
        )
    };
    late.use_recovery = false;
    let mut synced = false;
    for round in 0..400 {
        if round % 2 == 0 {
            sim.random_command();
        }
        sim.flush();
        let last = sim.publisher.last_incremental_seq();
        if settle(&mut late, last, Duration::from_millis(25)) {
            synced = true;
            break;
        }
    }
    assert!(synced, "late joiner never synced: {:?}", late.handler.stats);
    assert!(late.handler.stats.snapshots_applied >= 4);
    let btc = late.handler.books.values().next().unwrap();
    assert!(
        !btc.l2.bids.is_empty() || !btc.l2.offers.is_empty(),
        "snapshot carried no book"
    );
    assert_books_equal(&late, &sim.engine);
}

#[test]
fn a_restarted_publisher_resets_the_channel_and_the_feed_resyncs() {
    let (mut feed, md) = feed_and_config(20);
    let mut first = Sim::new(&md, 31);
    assert!(sync(&mut first, &mut feed, 200), "feed never synced");
    drive(&mut first, &mut feed, 2_000, 16);
    assert!(
        sync(&mut first, &mut feed, 200),
        "feed did not follow the first run"
    );
    drop(first);
    // A new exchange on the same channels: sequence numbers start again at 1.
    let mut second = Sim::new(&md, 37);
    feed.use_recovery = false;
    for _ in 0..50 {
        second.random_command();
    }
    assert!(
        sync(&mut second, &mut feed, 400),
        "{:?}",
        feed.handler.stats
    );
    assert_eq!(feed.handler.stats.channel_resets, 1);
    assert_books_equal(&feed, &second.engine);
}

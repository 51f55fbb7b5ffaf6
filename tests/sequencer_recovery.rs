//! The sequencer journals before applying, and recovery rebuilds the same state: from zero,
//! from a snapshot, and after a torn tail.

use std::path::Path;

use exchange::config::Config;
use exchange::engine::event::CountingSink;
use exchange::engine::{AccountId, Asset};
use exchange::protocol::codec::{self as wire, Encode};
use exchange::sequencer::{recover, RecordKind, RecoveryOptions, Sequencer, SequencerOptions};
use journal::{Durability, JournalOptions};

fn options(dir: &Path) -> RecoveryOptions {
    RecoveryOptions {
        journal_dir: dir.to_path_buf(),
        journal: JournalOptions {
            segment_size_bytes: 1 << 20,
            durability: Durability::None,
            ..JournalOptions::default()
        },
        sequencer: SequencerOptions {
            digest_every: 7,
            snapshot_every: 0,
        },
        snapshots_kept: 2,
    }
}

fn order(cl_ord_id: u64, side: wire::Side, price_usd: i64) -> Vec<u8> {
    let message = wire::NewOrderSingle {
        cl_ord_id,
        price: Some(price_usd * 100_000_000),
        order_qty: 1_000_000, // 0.01 BTC
        security_id: 1,
        side,
        ord_type: wire::OrdType::Limit,
        time_in_force: wire::TimeInForce::GoodTillCancel,
        ..Default::default()
    };
    let mut buf = vec![0u8; message.encoded_len()];
    message.encode(&mut buf).unwrap();
    buf
}

fn trade_some(sequencer: &mut Sequencer, first_cl: u64, count: u64) {
    let mut sink = CountingSink::default();
    for i in 0..count {
        let cl = first_cl + i;
        let (account, side, price) = match i % 2 {
            0 => (1, wire::Side::Buy, 100_000 - (i as i64 % 5)),
            _ => (2, wire::Side::Sell, 99_998 + (i as i64 % 5)),
        };
        let payload = order(cl, side, price);
        sequencer
            .submit(RecordKind::Message, account, 0, &payload, &mut sink)
            .unwrap();
    }
    assert!(sink.count >= count);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("exchange-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn new_journal_starts_with_genesis_and_the_funded_demo_accounts() {
    let dir = temp_dir("genesis");
    let config = Config::default_config();
    let (sequencer, summary) = recover(&config, &options(&dir)).unwrap();
    assert!(summary.created);
    let mm1 = sequencer.engine().account(AccountId(1)).unwrap();
    assert_eq!(mm1.balance(Asset::Usd).free.0, 10_000_000 * 100_000_000);
    assert!(sequencer.last_seq() > 10);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restart_replays_the_journal_to_the_same_digest() {
    let dir = temp_dir("restart");
    let config = Config::default_config();
    let (mut sequencer, _) = recover(&config, &options(&dir)).unwrap();
    trade_some(&mut sequencer, 1, 200);
    let digest = sequencer.engine().digest();
    let last_seq = sequencer.last_seq();
    drop(sequencer);
    let (sequencer, summary) = recover(&config, &options(&dir)).unwrap();
    assert!(!summary.created);
    assert_eq!(summary.last_seq, last_seq);
    assert_eq!(summary.records_replayed, last_seq);
    assert!(summary.digests_verified > 20, "{summary}");
    assert_eq!(sequencer.engine().digest(), digest);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn recovery_from_a_snapshot_equals_replay_from_zero() {
    let dir = temp_dir("snapshot");
    let config = Config::default_config();
    let (mut sequencer, _) = recover(&config, &options(&dir)).unwrap();
    trade_some(&mut sequencer, 1, 100);
    sequencer.take_snapshot();
    trade_some(&mut sequencer, 1_000, 50);
    let digest = sequencer.engine().digest();
    drop(sequencer); // joins the snapshot writer
    let (from_snapshot, summary) = recover(&config, &options(&dir)).unwrap();
    assert!(summary.snapshot_seq.is_some(), "{summary}");
    assert!(summary.records_replayed < summary.last_seq);
    assert_eq!(from_snapshot.engine().digest(), digest);
    drop(from_snapshot);
    std::fs::remove_dir_all(dir.join("snapshots")).unwrap();
    let (from_zero, summary) = recover(&config, &options(&dir)).unwrap();
    assert_eq!(summary.snapshot_seq, None);
    assert_eq!(from_zero.engine().digest(), digest);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_journal_of_another_configuration_is_refused() {
    let dir = temp_dir("fingerprint");
    let config = Config::default_config();
    drop(recover(&config, &options(&dir)).unwrap());
    let mut other = config.clone();
    other.engine.max_orders += 1;
    let err = recover(&other, &options(&dir)).err().expect("refused");
    assert!(err.to_string().contains("another configuration"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

//! Market maker protection through the journal: the trigger a live sequencer produced is
//! reproduced by replay from zero and from a snapshot, to the same digest.

use std::path::Path;

use exchange::config::Config;
use exchange::engine::{AccountId, Asset, Event, VecSink};
use exchange::protocol::codec::{self as wire, Encode};
use exchange::sequencer::{recover, RecordKind, RecoveryOptions, Sequencer, SequencerOptions};
use journal::{Durability, JournalOptions};

const UNIT: i64 = 100_000_000;

fn options(dir: &Path) -> RecoveryOptions {
    RecoveryOptions {
        journal_dir: dir.to_path_buf(),
        journal: JournalOptions {
            segment_size_bytes: 1 << 20,
            durability: Durability::None,
            ..JournalOptions::default()
        },
        sequencer: SequencerOptions {
            digest_every: 3,
            snapshot_every: 0,
        },
        snapshots_kept: 2,
    }
}

fn bytes(message: &impl Encode) -> Vec<u8> {
    let mut buf = vec![0u8; message.encoded_len()];
    message.encode(&mut buf).unwrap();
    buf
}

fn submit(sequencer: &mut Sequencer, account: u32, payload: &[u8]) -> Vec<Event> {
    let mut sink = VecSink::default();
    sequencer
        .submit(RecordKind::Message, account, 0, payload, &mut sink)
        .unwrap();
    sink.events
}

/// MM1 configures MMP (0.002 BTC), quotes 3 levels with MMP, MM2 sells through two of them.
fn run(sequencer: &mut Sequencer) -> Vec<Event> {
    let config = wire::MmpConfig {
        mmp_req_id: 1,
        underlying: wire::Asset::Btc,
        mmp_window: 60_000,
        mmp_qty_limit: UNIT / 500,
        mmp_delta_limit: UNIT,
        mmp_frozen_time: 0,
    };
    submit(sequencer, 1, &bytes(&config));
    let entries: Vec<wire::QuoteEntriesEntry> = (0..3)
        .map(|k| wire::QuoteEntriesEntry {
            quote_entry_id: k,
            security_id: 1,
            quote_set_id: 0,
            bid_px: (99_990 - k as i64) * UNIT,
            bid_size: UNIT / 1000,
            offer_px: (100_010 + k as i64) * UNIT,
            offer_size: UNIT / 1000,
        })
        .collect();
    let quote = wire::MassQuote {
        quote_id: 7,
        exec_inst: wire::ExecInst::empty().with_mmp(true),
        no_quote_entries: wire::GroupVec::from_slice(&entries).unwrap(),
    };
    submit(sequencer, 1, &bytes(&quote));
    let sell = wire::NewOrderSingle {
        cl_ord_id: 9,
        price: Some(99_980 * UNIT),
        order_qty: UNIT / 100,
        security_id: 1,
        side: wire::Side::Sell,
        ord_type: wire::OrdType::Limit,
        time_in_force: wire::TimeInForce::ImmediateOrCancel,
        ..Default::default()
    };
    submit(sequencer, 2, &bytes(&sell))
}

#[test]
fn replay_from_the_journal_and_from_a_snapshot_reproduces_an_mmp_trigger() {
    let dir = std::env::temp_dir().join(format!("exchange-test-mmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = Config::default_config();
    let (mut sequencer, _) = recover(&config, &options(&dir)).unwrap();
    let events = run(&mut sequencer);
    let triggers: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::MmpTriggered { .. }))
        .collect();
    assert_eq!(triggers.len(), 1, "{events:?}");
    let fills = events
        .iter()
        .filter(|e| matches!(e, Event::Fill(_)))
        .count();
    assert_eq!(
        fills, 2,
        "the second fill reaches 0.002 BTC and pulls the third bid"
    );
    sequencer.take_snapshot();
    let digest = sequencer.engine().digest();
    drop(sequencer);
    let (replayed, summary) = recover(&config, &options(&dir)).unwrap();
    assert!(summary.snapshot_seq.is_some(), "{summary}");
    assert_eq!(replayed.engine().digest(), digest);
    drop(replayed);
    std::fs::remove_dir_all(dir.join("snapshots")).unwrap();
    let (from_zero, summary) = recover(&config, &options(&dir)).unwrap();
    assert!(summary.digests_verified > 0, "{summary}");
    assert_eq!(from_zero.engine().digest(), digest);
    let state = from_zero
        .engine()
        .mmp_state(AccountId(1), Asset::Btc)
        .expect("configured");
    assert!(state.frozen(from_zero.engine().now()));
    std::fs::remove_dir_all(&dir).unwrap();
}

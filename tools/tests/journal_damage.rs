//! A torn or corrupt tail at the exchange level: the sequencer's recovery cuts it, reports it
//! and keeps the bytes in a side file; the records before it are intact, and the recovered
//! state equals a from-zero replay of the kept records.

use std::path::{Path, PathBuf};

use exchange::config::Config;
use exchange::engine::event::CountingSink;
use exchange::sequencer::{recover, RecordKind, RecoveryOptions, SequencerOptions};
use exchange_tools::order_stream::OrderStream;
use exchange_tools::replay::{replay, ReplayOptions};
use journal::record::{decode_record, Decoded};
use journal::segment::{list_segments, SEGMENT_HEADER_LEN};
use journal::{JournalOptions, JournalReader};

fn options(dir: &Path) -> RecoveryOptions {
    RecoveryOptions {
        journal_dir: dir.to_path_buf(),
        journal: JournalOptions {
            segment_size_bytes: 64 << 10,
            max_payload_bytes: 1024,
            ..JournalOptions::default()
        },
        sequencer: SequencerOptions {
            digest_every: 25,
            snapshot_every: 0,
        },
        snapshots_kept: 2,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jdamage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A journal of genesis, bootstrap and `orders` trading messages; returns its last seq.
fn write_journal(dir: &Path, orders: u64) -> u64 {
    write_journal_with(&options(dir), orders)
}

/// As [`write_journal`], with the given recovery options (snapshots, for one).
fn write_journal_with(options: &RecoveryOptions, orders: u64) -> u64 {
    let (mut sequencer, _) = recover(&Config::default_config(), options).expect("new");
    let mut stream = OrderStream::new(3, 1);
    let mut sink = CountingSink::default();
    for _ in 0..orders {
        let m = stream.next_message();
        let kind = RecordKind::Message;
        sequencer
            .submit(kind, m.account, 0, &m.payload, &mut sink)
            .expect("submit");
    }
    sequencer.last_seq()
}

/// The last segment file and the offset and framed length of its last record.
fn last_record(dir: &Path) -> (PathBuf, usize, usize) {
    let segment = list_segments(dir)
        .expect("segments")
        .pop()
        .expect("one segment");
    let bytes = std::fs::read(&segment.path).expect("read segment");
    let mut offset = SEGMENT_HEADER_LEN;
    let mut last = None;
    while let Decoded::Valid(_, framed) = decode_record(&bytes[offset..]) {
        last = Some((offset, framed));
        offset += framed;
    }
    let (offset, framed) = last.expect("the last segment holds a record");
    (segment.path, offset, framed)
}

/// Recovers the damaged journal and checks the report, the kept records and the digest.
fn recover_and_check(dir: &Path, last_seq: u64) {
    let (sequencer, summary) = recover(&Config::default_config(), &options(dir)).expect("ok");
    assert!(summary.torn_bytes_truncated > 0, "{summary}");
    let side = summary.torn_side_file.clone().expect("side file reported");
    assert!(side.exists(), "side file {} missing", side.display());
    assert_eq!(summary.last_seq, last_seq - 1, "{summary}");
    let digest = sequencer.engine().digest();
    drop(sequencer);
    let mut reader = JournalReader::open(dir).expect("reader");
    let mut expected = 1;
    while let Some(record) = reader.next().expect("kept records are intact") {
        assert_eq!(record.header.seq, expected);
        expected += 1;
    }
    assert_eq!(
        expected, last_seq,
        "records before the damaged one are all there"
    );
    let options = ReplayOptions {
        journal_dir: dir.to_path_buf(),
        from_zero: true,
        allow_torn_tail: false,
    };
    let report = replay(&Config::default_config(), &options).expect("replay of kept records");
    assert_eq!(report.last_seq, last_seq - 1);
    assert_eq!(report.final_digest, digest);
    assert!(report.digests_verified > 0);
}

#[test]
fn tail_truncated_mid_record_is_cut_reported_and_replays_to_the_recovered_digest() {
    let dir = temp_dir("torn");
    let last_seq = write_journal(&dir, 700);
    assert!(
        list_segments(&dir).expect("segments").len() > 1,
        "spans segments"
    );
    let (path, offset, framed) = last_record(&dir);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len((offset + framed / 2) as u64)
        .expect("truncate mid-record");
    drop(file);
    recover_and_check(&dir, last_seq);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn flipped_byte_in_the_last_record_is_cut_reported_and_replays_to_the_recovered_digest() {
    let dir = temp_dir("flip");
    let last_seq = write_journal(&dir, 300);
    let (path, offset, framed) = last_record(&dir);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[offset + framed - 9] ^= 0x40; // inside the payload (padding is at most 7 bytes)
    std::fs::write(&path, bytes).expect("write");
    recover_and_check(&dir, last_seq);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn replay_refuses_a_torn_tail_unless_allowed() {
    let dir = temp_dir("replay-torn");
    let last_seq = write_journal(&dir, 50);
    let (path, offset, _) = last_record(&dir);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[offset + 12] ^= 0x01; // the record's seq field: its CRC no longer matches
    std::fs::write(&path, bytes).expect("write");
    let mut options = ReplayOptions {
        journal_dir: dir.clone(),
        from_zero: true,
        allow_torn_tail: false,
    };
    let err = replay(&Config::default_config(), &options).expect_err("torn tail refused");
    assert!(err.to_string().contains("torn or corrupt tail"), "{err}");
    options.allow_torn_tail = true;
    let report = replay(&Config::default_config(), &options).expect("replays the rest");
    assert_eq!(report.last_seq, last_seq - 1);
    assert!(report.torn_tail.is_some());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn replay_under_another_configuration_is_refused() {
    let dir = temp_dir("replay-config");
    write_journal(&dir, 10);
    let mut other = Config::default_config();
    other.engine.max_orders += 1;
    let options = ReplayOptions {
        journal_dir: dir.clone(),
        from_zero: true,
        allow_torn_tail: false,
    };
    let err = replay(&other, &options).expect_err("fingerprint mismatch");
    assert!(err.to_string().contains("another configuration"), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn replay_reports_a_digest_mismatch() {
    use journal::{JournalWriter, RecordHeader};
    let dir = temp_dir("replay-digest");
    let config = Config::default_config();
    let specs = config.instrument_specs().expect("specs");
    let print = exchange::engine::snapshot::fingerprint(&specs, &config.engine_limits());
    let (mut writer, _) = JournalWriter::open(&dir, options(&dir).journal).expect("writer");
    let record = |seq, kind: RecordKind| RecordHeader {
        seq,
        time_ns: seq,
        kind: kind as u16,
        flags: 0,
        source: 0,
    };
    writer
        .append(&record(1, RecordKind::Genesis), &print.to_le_bytes())
        .expect("genesis");
    writer
        .append(&record(2, RecordKind::Digest), &0xBADu64.to_le_bytes())
        .expect("digest");
    drop(writer);
    let options = ReplayOptions {
        journal_dir: dir.clone(),
        from_zero: true,
        allow_torn_tail: false,
    };
    let err = replay(&config, &options).expect_err("mismatch");
    assert!(
        err.to_string().contains("record 2: digest mismatch"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// Runs the `replay` binary on `dir` with `args`.
fn run_replay(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_replay"))
        .arg("--journal-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("replay runs")
}

#[test]
fn replay_verify_checks_the_records_a_snapshot_covers() {
    let dir = temp_dir("replay-verify");
    let mut options = options(&dir);
    options.sequencer.snapshot_every = 100;
    let last_seq = write_journal_with(&options, 300);

    let clean = run_replay(&dir, &["--verify", "--json"]);
    let stderr = String::from_utf8_lossy(&clean.stderr);
    assert!(clean.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&clean.stdout).expect("one JSON line");
    assert!(report["from_snapshot_seq"].is_u64(), "{report}");
    assert_eq!(report["verified_records"], last_seq, "{report}");
    assert_eq!(report["verified_last_seq"], last_seq, "{report}");
    assert_eq!(report["last_seq"], last_seq, "{report}");

    // Damage record 10, long before the snapshot: its payload's first byte.
    let first = &list_segments(&dir).expect("segments")[0].path;
    let mut bytes = std::fs::read(first).expect("read segment");
    let mut offset = SEGMENT_HEADER_LEN;
    for _ in 1..10 {
        match decode_record(&bytes[offset..]) {
            Decoded::Valid(_, framed) => offset += framed,
            other => panic!("record before 10 unreadable: {other:?}"),
        }
    }
    bytes[offset + 40] ^= 0x01;
    std::fs::write(first, bytes).expect("write segment");

    // Without --verify the replay starts from the snapshot, but it still reads the journal to
    // find its end, so it meets the damage too: whole records follow it, so it is refused as
    // damage, not cut as a torn tail.
    let from_snapshot = run_replay(&dir, &["--json"]);
    let stderr = String::from_utf8_lossy(&from_snapshot.stderr);
    assert!(!from_snapshot.status.success(), "{stderr}");
    assert!(stderr.contains("corrupt record"), "{stderr}");
    assert!(stderr.contains("expected seq 10"), "{stderr}");
    let verified = run_replay(&dir, &["--verify", "--json"]);
    assert!(
        !verified.status.success(),
        "damage before the snapshot must fail --verify"
    );
    let stderr = String::from_utf8_lossy(&verified.stderr);
    assert!(stderr.contains("journal verification failed"), "{stderr}");
    assert!(
        stderr.contains("seq 10"),
        "names the damaged record: {stderr}"
    );
    assert!(
        verified.stdout.is_empty(),
        "no report after a failed verification"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

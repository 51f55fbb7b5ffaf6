//! Start-up refuses a journal it must not serve from, with a message naming the cause: an
//! unusable directory, a journal of another format version, a sequence gap.

use std::path::{Path, PathBuf};

use exchange::config::Config;
use exchange::engine::event::CountingSink;
use exchange::protocol::codec::{self as wire, Encode};
use exchange::sequencer::{recover, RecordKind, RecoveryOptions, SequencerOptions};
use journal::segment::{list_segments, SegmentHeader, SEGMENT_HEADER_LEN};
use journal::JournalOptions;

fn options(dir: &Path) -> RecoveryOptions {
    RecoveryOptions {
        journal_dir: dir.to_path_buf(),
        journal: JournalOptions {
            segment_size_bytes: 16 << 10,
            max_payload_bytes: 1024,
            ..JournalOptions::default()
        },
        sequencer: SequencerOptions {
            digest_every: 10,
            snapshot_every: 0,
        },
        snapshots_kept: 2,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jstartup-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A journal spanning several small segments.
fn write_journal(dir: &Path, orders: u64) {
    let (mut sequencer, _) = recover(&Config::default_config(), &options(dir)).expect("new");
    let mut sink = CountingSink::default();
    for cl_ord_id in 1..=orders {
        let order = wire::NewOrderSingle {
            cl_ord_id,
            price: Some(90_000 * 100_000_000),
            order_qty: 1_000_000,
            security_id: 1,
            side: wire::Side::Buy,
            ord_type: wire::OrdType::Limit,
            time_in_force: wire::TimeInForce::GoodTillCancel,
            ..Default::default()
        };
        let mut buf = vec![0u8; order.encoded_len()];
        order.encode(&mut buf).expect("sized");
        sequencer
            .submit(RecordKind::Message, 1, 0, &buf, &mut sink)
            .expect("submit");
    }
}

#[test]
fn a_journal_directory_that_cannot_be_created_is_refused() {
    let base = temp_dir("unusable");
    std::fs::create_dir_all(&base).expect("base");
    let file = base.join("a-file");
    std::fs::write(&file, b"not a directory").expect("file");
    let err = recover(&Config::default_config(), &options(&file.join("journal")))
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("not usable") && text.contains("a-file"),
        "{text}"
    );
    std::fs::remove_dir_all(&base).expect("cleanup");
}

#[test]
fn a_read_only_journal_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("readonly");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root ignores permission bits; the refusal can only be observed as another user.
    let writable = std::fs::write(dir.join("probe"), b"x").is_ok();
    if !writable {
        let err = recover(&Config::default_config(), &options(&dir))
            .err()
            .expect("refused");
        assert!(err.to_string().contains("not usable"), "{err}");
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_journal_of_another_format_version_is_refused() {
    let dir = temp_dir("version");
    write_journal(&dir, 5);
    let segment = &list_segments(&dir).expect("segments")[0].path;
    let mut bytes = std::fs::read(segment).expect("read");
    let header = SegmentHeader::decode(&bytes[..SEGMENT_HEADER_LEN], segment).expect("header");
    bytes[..SEGMENT_HEADER_LEN].copy_from_slice(&header.encode_with_version(2));
    std::fs::write(segment, bytes).expect("write");
    let err = recover(&Config::default_config(), &options(&dir))
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("format version 2") && text.contains("refusing"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_sequence_gap_between_segments_is_refused() {
    let dir = temp_dir("gap");
    write_journal(&dir, 600);
    let segments = list_segments(&dir).expect("segments");
    assert!(segments.len() >= 3, "{} segments", segments.len());
    std::fs::remove_file(&segments[1].path).expect("remove a middle segment");
    let err = recover(&Config::default_config(), &options(&dir))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("sequence gap"), "{err}");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn a_journal_missing_its_first_segment_is_refused() {
    let dir = temp_dir("headless");
    write_journal(&dir, 600);
    let segments = list_segments(&dir).expect("segments");
    std::fs::remove_file(&segments[0].path).expect("remove the first segment");
    let result = recover(&Config::default_config(), &options(&dir));
    assert!(
        result.is_err(),
        "a journal without its genesis record was served"
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

//! Recovery on open: torn tails are cut and saved, real damage refuses the journal.

mod common;

use common::{
    append_range, fix_crc, header, payload, record_offsets, segment_paths, small_options, TestDir,
};
use journal::{JournalError, JournalReader, JournalWriter};

fn write_journal(dir: &TestDir, last_seq: u64) {
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    append_range(&mut w, 1, last_seq);
}

fn last_segment(dir: &TestDir) -> std::path::PathBuf {
    segment_paths(dir.path())
        .pop()
        .expect("at least one segment")
}

fn torn_side_files(dir: &TestDir) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("torn-"))
        })
        .collect()
}

fn assert_records_intact(dir: &TestDir, last_seq: u64) {
    let mut r = JournalReader::open(dir.path()).expect("reader");
    for seq in 1..=last_seq {
        let rec = r.next().expect("read").expect("record present");
        assert_eq!(rec.header, header(seq));
        assert_eq!(rec.payload, payload(seq).as_slice());
    }
    assert!(
        r.next().expect("read").is_none(),
        "nothing after seq {last_seq}"
    );
}

#[test]
fn file_truncated_mid_record_is_cut_reported_and_saved_to_side_file() {
    let dir = TestDir::new("trunc");
    write_journal(&dir, 120);
    let seg = last_segment(&dir);
    let bytes = std::fs::read(&seg).expect("read");
    let offsets = record_offsets(&bytes);
    let last_off = *offsets.last().expect("records in last segment");
    let last_seq = u64::from_le_bytes(bytes[last_off + 8..last_off + 16].try_into().expect("8"));
    let cut_at = last_off + 20;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .and_then(|f| f.set_len(cut_at as u64))
        .expect("truncate");

    let (mut w, report) = JournalWriter::open(dir.path(), small_options()).expect("recover");
    assert_eq!(report.last_seq, last_seq - 1);
    assert_eq!(
        report.torn_bytes_truncated, 20,
        "the 20 bytes left of the record"
    );
    let side = report.torn_side_file.clone().expect("side file reported");
    let name = side
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&format!("torn-{last_seq}-")) && name.ends_with(".bin"),
        "{name}"
    );
    let saved = std::fs::read(&side).expect("side file");
    assert_eq!(&saved[..20], &bytes[last_off..cut_at]);
    assert_eq!(torn_side_files(&dir).len(), 1);
    assert_eq!(
        std::fs::metadata(&seg).expect("stat").len(),
        16 * 1024,
        "size restored"
    );

    append_range(&mut w, last_seq, 150);
    drop(w);
    assert_records_intact(&dir, 150);
}

#[test]
fn flipped_byte_in_last_record_is_cut_and_earlier_records_stay_intact() {
    let dir = TestDir::new("flip");
    write_journal(&dir, 80);
    let seg = last_segment(&dir);
    let mut bytes = std::fs::read(&seg).expect("read");
    let last_off = *record_offsets(&bytes).last().expect("records");
    bytes[last_off + 12] ^= 0x10; // inside the seq field: CRC no longer matches
    std::fs::write(&seg, &bytes).expect("write back");

    let (w, report) = JournalWriter::open(dir.path(), small_options()).expect("recover");
    assert_eq!(report.last_seq, 79);
    assert_eq!(report.records_found, 79);
    assert!(report.torn_bytes_truncated >= 40, "{report:?}");
    assert!(report.torn_side_file.is_some());
    drop(w);
    assert_records_intact(&dir, 79);
    let v = journal::verify(dir.path()).expect("verify");
    assert_eq!(v.damage, None, "the tail was repaired");
}

#[test]
fn clean_journal_reopens_without_side_file() {
    let dir = TestDir::new("clean");
    write_journal(&dir, 10);
    let (_, report) = JournalWriter::open(dir.path(), small_options()).expect("reopen");
    assert_eq!(report.torn_side_file, None);
    assert!(torn_side_files(&dir).is_empty());
}

#[test]
fn missing_middle_segment_is_a_gap_that_refuses_to_open() {
    let dir = TestDir::new("gapseg");
    write_journal(&dir, 1000);
    let segs = segment_paths(dir.path());
    assert!(segs.len() >= 3);
    std::fs::remove_file(&segs[1]).expect("remove middle segment");
    let err = JournalWriter::open(dir.path(), small_options()).expect_err("gap");
    assert!(matches!(err, JournalError::SequenceGap { .. }), "{err}");
    assert!(err.to_string().contains("refusing"), "{err}");
}

#[test]
fn sequence_jump_inside_a_segment_refuses_to_open() {
    let dir = TestDir::new("gaprec");
    write_journal(&dir, 20);
    let seg = segment_paths(dir.path())[0].clone();
    let mut bytes = std::fs::read(&seg).expect("read");
    let off = record_offsets(&bytes)[5];
    bytes[off + 8..off + 16].copy_from_slice(&99u64.to_le_bytes());
    fix_crc(&mut bytes, off);
    std::fs::write(&seg, &bytes).expect("write back");
    match JournalWriter::open(dir.path(), small_options()) {
        Err(JournalError::SequenceGap {
            expected: 6,
            found: 99,
            ..
        }) => {}
        other => panic!("expected a sequence gap, got {other:?}"),
    }
}

#[test]
fn corrupt_record_followed_by_valid_ones_refuses_to_open() {
    let dir = TestDir::new("midcorrupt");
    write_journal(&dir, 20);
    let seg = last_segment(&dir);
    let mut bytes = std::fs::read(&seg).expect("read");
    let offs = record_offsets(&bytes);
    let victim = offs[offs.len() - 3];
    bytes[victim + 41] ^= 0xFF;
    std::fs::write(&seg, &bytes).expect("write back");
    let err = JournalWriter::open(dir.path(), small_options()).expect_err("corrupt");
    assert!(matches!(err, JournalError::CorruptRecord { .. }), "{err}");
    assert!(torn_side_files(&dir).is_empty(), "nothing was cut");
}

#[test]
fn segment_of_another_format_version_refuses_to_open() {
    let dir = TestDir::new("version");
    write_journal(&dir, 5);
    let seg = segment_paths(dir.path())[0].clone();
    let mut bytes = std::fs::read(&seg).expect("read");
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    std::fs::write(&seg, &bytes).expect("write back");
    match JournalWriter::open(dir.path(), small_options()) {
        Err(
            e @ JournalError::UnsupportedVersion {
                found: 2,
                expected: 1,
                ..
            },
        ) => {
            assert!(e.to_string().contains("refusing"), "{e}");
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    assert!(JournalReader::open(dir.path())
        .and_then(|mut r| r.next().map(|_| ()))
        .is_err());
}

#[test]
fn uncommitted_bytes_after_the_last_record_are_cut() {
    // A crash between writing a record's body and its commit word leaves body bytes behind a
    // zero commit word; recovery zeroes them so later records never sit next to garbage.
    let dir = TestDir::new("uncommitted");
    write_journal(&dir, 10);
    let seg = last_segment(&dir);
    let mut bytes = std::fs::read(&seg).expect("read");
    let offs = record_offsets(&bytes);
    let last = *offs.last().expect("records");
    let end = last + journal::record::framed_len(payload(10).len());
    bytes[end + 8..end + 16].copy_from_slice(&11u64.to_le_bytes());
    std::fs::write(&seg, &bytes).expect("write back");
    let (_, report) = JournalWriter::open(dir.path(), small_options()).expect("recover");
    assert_eq!(report.last_seq, 10);
    assert_eq!(report.torn_bytes_truncated, 16);
    assert_eq!(
        std::fs::read(&seg).expect("read")[end + 8],
        0,
        "garbage zeroed"
    );
}

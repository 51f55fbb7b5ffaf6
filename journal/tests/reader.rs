//! Reading: seeking, tailing a live writer, verifying.

mod common;

use std::time::{Duration, Instant};

use common::{
    append_range, header, payload, record_offsets, segment_paths, small_options, TestDir,
};
use journal::{JournalError, JournalReader, JournalWriter};

#[test]
fn seek_starts_at_the_requested_seq_across_segments() {
    let dir = TestDir::new("seek");
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    append_range(&mut w, 1, 700);
    let mut r = JournalReader::open(dir.path()).expect("reader");
    for start in [1, 2, 250, 699, 700] {
        r.seek(start).expect("seek");
        let rec = r.next().expect("read").expect("record");
        assert_eq!(rec.header.seq, start);
    }
    r.seek(701).expect("seek past end");
    assert!(r.next().expect("read").is_none());
    append_range(&mut w, 701, 702);
    assert_eq!(r.next().expect("read").map(|rec| rec.header.seq), Some(701));
}

#[test]
fn reader_on_empty_directory_waits_for_the_first_segment() {
    let dir = TestDir::new("emptyread");
    let mut r = JournalReader::open(dir.path()).expect("reader");
    assert!(r.next().expect("read").is_none());
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    append_range(&mut w, 1, 1);
    assert_eq!(r.next().expect("read").map(|rec| rec.header.seq), Some(1));
}

#[test]
fn reader_on_a_segment_with_no_records_returns_none_then_follows_the_writer() {
    let dir = TestDir::new("emptyseg");
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    let mut r = JournalReader::open(dir.path()).expect("reader");
    assert!(r.next().expect("read").is_none());
    append_range(&mut w, 1, 2);
    assert_eq!(r.next().expect("read").map(|rec| rec.header.seq), Some(1));
}

#[test]
fn reader_on_missing_directory_is_an_error() {
    let dir = TestDir::new("missing");
    let err = JournalReader::open(dir.path().join("nope")).expect_err("missing");
    assert!(
        matches!(err, JournalError::MissingDirectory { .. }),
        "{err}"
    );
}

#[test]
fn reader_tails_a_writer_in_another_thread_across_roll_overs() {
    const LAST: u64 = 3000;
    let dir = TestDir::new("tail");
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    let path = dir.path().to_path_buf();
    let reader = std::thread::spawn(move || {
        let mut r = JournalReader::open(&path).expect("reader");
        let mut next = 1;
        let deadline = Instant::now() + Duration::from_secs(60);
        while next <= LAST {
            assert!(Instant::now() < deadline, "reader stuck at seq {next}");
            match r.next().expect("no damage while tailing") {
                Some(rec) => {
                    assert_eq!(rec.header, header(next));
                    assert_eq!(rec.payload, payload(next).as_slice());
                    next += 1;
                }
                None => std::thread::yield_now(),
            }
        }
    });
    for seq in 1..=LAST {
        w.append(&header(seq), &payload(seq)).expect("append");
        if seq % 64 == 0 {
            std::thread::yield_now();
        }
    }
    reader
        .join()
        .expect("reader thread saw every record in order");
    assert!(
        segment_paths(dir.path()).len() > 5,
        "the reader crossed roll-overs"
    );
}

/// A closed journal of records `1..=last`.
fn journal_of(tag: &str, last: u64) -> TestDir {
    let dir = TestDir::new(tag);
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    append_range(&mut w, 1, last);
    dir
}

/// Flips the bits `mask` of the byte `at` bytes into the `index`-th record (0-based; `None`:
/// the last) of segment `segment`; returns the segment's path and the record's offset.
fn damage(
    dir: &TestDir,
    segment: usize,
    index: Option<usize>,
    at: usize,
    mask: u8,
) -> (std::path::PathBuf, usize) {
    let seg = segment_paths(dir.path())[segment].clone();
    let mut bytes = std::fs::read(&seg).expect("read");
    let offsets = record_offsets(&bytes);
    let off = index.map_or_else(|| *offsets.last().expect("records"), |i| offsets[i]);
    bytes[off + at] ^= mask;
    std::fs::write(&seg, &bytes).expect("write back");
    (seg, off)
}

#[test]
fn bad_crc_at_the_tail_is_reported_as_suspect_not_error() {
    let dir = journal_of("suspect", 5);
    let (_, last) = damage(&dir, 0, None, 20, 1);
    let mut r = JournalReader::open(dir.path()).expect("reader");
    for _ in 1..=4 {
        assert!(r.next().expect("read").is_some());
    }
    assert!(r.next().expect("tail damage may be in flight").is_none());
    let d = r.suspect_damage().expect("suspect reported");
    assert_eq!((d.seq, d.offset), (5, last as u64));
}

#[test]
fn verify_names_segment_offset_and_seq_of_first_damage() {
    let dir = journal_of("verify", 500);
    let clean = journal::verify(dir.path()).expect("verify");
    assert_eq!(
        (clean.records, clean.first_seq, clean.last_seq),
        (500, Some(1), Some(500))
    );
    assert_eq!(clean.damage, None);

    let (seg, off) = damage(&dir, 1, Some(3), 45, 0x55);
    let bytes = std::fs::read(&seg).expect("read");
    let seq = u64::from_le_bytes(bytes[off + 8..off + 16].try_into().expect("8"));
    let report = journal::verify(dir.path()).expect("verify");
    let d = report.damage.expect("damage found");
    assert_eq!((d.segment.clone(), d.offset, d.seq), (seg, off as u64, seq));
    assert!(d.reason.contains("crc32c"), "{}", d.reason);
    assert_eq!(report.last_seq, Some(seq - 1));
}

#[test]
fn damage_in_an_earlier_segment_is_an_error_not_a_suspect_tail() {
    let dir = journal_of("middamage", 500);
    damage(&dir, 0, Some(10), 16, 0x01);
    let mut r = JournalReader::open(dir.path()).expect("reader");
    for _ in 1..=10 {
        assert!(r.next().expect("read").is_some());
    }
    match r.next() {
        Err(JournalError::CorruptRecord { seq: 11, .. }) => {}
        other => panic!("expected CorruptRecord at seq 11, got {other:?}"),
    }
}

#[test]
fn damage_followed_by_a_whole_record_in_the_last_segment_is_an_error_not_a_suspect_tail() {
    let dir = journal_of("midtail", 5);
    let (_, third) = damage(&dir, 0, Some(2), 20, 1);
    let mut r = JournalReader::open(dir.path()).expect("reader");
    for _ in 1..=2 {
        assert!(r.next().expect("read").is_some());
    }
    // Records 4 and 5 are whole after it: the writer was past record 3, so it is damage.
    match r.next() {
        Err(JournalError::CorruptRecord { seq: 3, offset, .. }) => {
            assert_eq!(offset, third as u64);
        }
        other => panic!("expected CorruptRecord at seq 3, got {other:?}"),
    }
}

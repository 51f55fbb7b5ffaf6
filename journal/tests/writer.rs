//! Writer behaviour: sequencing, limits, roll-over, reopen.

mod common;

use common::{append_range, header, payload, segment_paths, small_options, TestDir};
use journal::{JournalError, JournalOptions, JournalReader, JournalWriter};

#[test]
fn empty_directory_opens_with_empty_report_and_first_seq_one() {
    let dir = TestDir::new("empty");
    let (mut w, report) = JournalWriter::open(dir.path(), small_options()).expect("open");
    assert_eq!(report.records_found, 0);
    assert_eq!(report.last_seq, 0);
    assert_eq!(report.torn_bytes_truncated, 0);
    assert!(w.append(&header(2), b"x").is_err(), "first seq must be 1");
    w.append(&header(1), b"x").expect("seq 1 accepted");
}

#[test]
fn missing_directory_is_created() {
    let dir = TestDir::new("create");
    let nested = dir.path().join("a/b/journal");
    let (w, _) = JournalWriter::open(&nested, small_options()).expect("open creates the dir");
    assert_eq!(w.dir(), nested.as_path());
    assert_eq!(segment_paths(&nested).len(), 1);
}

#[test]
fn unusable_directory_is_a_clear_error() {
    let dir = TestDir::new("unusable");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write file");
    let err = JournalWriter::open(file.join("j"), small_options()).expect_err("must fail");
    assert!(matches!(err, JournalError::Directory { .. }), "{err}");
    assert!(
        err.to_string().contains("not-a-dir"),
        "message names the path: {err}"
    );
}

#[test]
fn out_of_sequence_append_is_rejected_with_expected_seq() {
    let dir = TestDir::new("seq");
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    append_range(&mut w, 1, 3);
    for bad in [3, 5, 0] {
        match w.append(&header(bad), b"") {
            Err(JournalError::OutOfSequence { expected: 4, got }) => assert_eq!(got, bad),
            other => panic!("expected OutOfSequence, got {other:?}"),
        }
    }
    w.append(&header(4), b"").expect("seq 4 still accepted");
}

#[test]
fn oversized_payload_is_rejected() {
    let dir = TestDir::new("big");
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    let err = w.append(&header(1), &[0; 1025]).expect_err("too large");
    assert!(matches!(
        err,
        JournalError::PayloadTooLarge {
            len_bytes: 1025,
            max_bytes: 1024
        }
    ));
    w.append(&header(1), &[0; 1024]).expect("max size fits");
}

#[test]
fn options_that_cannot_hold_a_max_record_are_refused() {
    let dir = TestDir::new("opts");
    let opts = JournalOptions {
        max_payload_bytes: 64 * 1024,
        ..small_options()
    };
    let err = JournalWriter::open(dir.path(), opts).expect_err("segment too small");
    assert!(matches!(err, JournalError::InvalidOptions(_)), "{err}");
}

#[test]
fn second_writer_on_the_same_directory_is_refused() {
    let dir = TestDir::new("lock");
    let (_w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    let err = JournalWriter::open(dir.path(), small_options()).expect_err("locked");
    assert!(matches!(err, JournalError::Locked { .. }), "{err}");
}

#[test]
fn appends_roll_over_into_new_segments_named_by_first_seq() {
    let dir = TestDir::new("roll");
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    append_range(&mut w, 1, 1000);
    let segs = segment_paths(dir.path());
    assert!(
        segs.len() > 3,
        "1000 records of up to 240 bytes fill several 16 KiB segments"
    );
    let names: Vec<String> = segs
        .iter()
        .map(|p| p.file_name().unwrap_or_default().to_string_lossy().into())
        .collect();
    assert_eq!(names[0], "journal-00000000000000000001.seg");
    for p in &segs {
        assert_eq!(
            std::fs::metadata(p).expect("stat").len(),
            16 * 1024,
            "preallocated"
        );
    }
    drop(w);
    let mut r = JournalReader::open(dir.path()).expect("reader");
    for seq in 1..=1000 {
        let rec = r.next().expect("read").expect("record present");
        assert_eq!(rec.header, header(seq));
        assert_eq!(rec.payload, payload(seq).as_slice());
    }
    assert!(r.next().expect("read").is_none());
}

#[test]
fn reopen_reports_records_and_continues_the_sequence() {
    let dir = TestDir::new("reopen");
    {
        let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
        append_range(&mut w, 1, 300);
    }
    let (mut w, report) = JournalWriter::open(dir.path(), small_options()).expect("reopen");
    assert_eq!(report.records_found, 300);
    assert_eq!(report.last_seq, 300);
    assert_eq!(report.last_time_ns, header(300).time_ns);
    assert_eq!(report.torn_bytes_truncated, 0);
    assert_eq!(report.segments, segment_paths(dir.path()).len());
    assert_eq!(w.last_seq(), 300);
    append_range(&mut w, 301, 600);
    drop(w);
    let (_, report) = JournalWriter::open(dir.path(), small_options()).expect("reopen again");
    assert_eq!(report.records_found, 600);
    let v = journal::verify(dir.path()).expect("verify");
    assert_eq!((v.records, v.last_seq, v.damage), (600, Some(600), None));
}

#[test]
fn empty_payload_records_round_trip() {
    let dir = TestDir::new("emptypayload");
    let (mut w, _) = JournalWriter::open(dir.path(), small_options()).expect("open");
    for seq in 1..=50 {
        w.append(&header(seq), &[]).expect("append");
    }
    drop(w);
    let (_, report) = JournalWriter::open(dir.path(), small_options()).expect("reopen");
    assert_eq!(report.records_found, 50);
}

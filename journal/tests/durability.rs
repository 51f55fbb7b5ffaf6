//! Durability modes with both sync backends.

mod common;

use std::time::{Duration, Instant};

use common::{append_range, header, payload, segment_paths, small_options, TestDir};
use journal::{Durability, JournalOptions, JournalReader, JournalWriter, SyncBackendKind};

fn opts(durability: Durability, force_fallback: bool) -> JournalOptions {
    JournalOptions {
        durability,
        force_fallback,
        ..small_options()
    }
}

fn wait_durable(w: &JournalWriter, seq: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while w.durable_seq() < seq {
        assert!(
            Instant::now() < deadline,
            "durable_seq stuck at {}",
            w.durable_seq()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn group_commit(force_fallback: bool) {
    let dir = TestDir::new("sync");
    let (mut w, _) =
        JournalWriter::open(dir.path(), opts(Durability::Sync, force_fallback)).expect("open");
    if force_fallback {
        assert_eq!(w.sync_backend(), SyncBackendKind::Fdatasync);
    }
    assert_eq!(w.durable_seq(), 0);
    let mut seq = 0;
    for _batch in 0..50 {
        append_range(&mut w, seq + 1, seq + 20);
        seq += 20;
        let covers = w.request_sync().expect("request");
        assert_eq!(covers, seq);
    }
    wait_durable(&w, seq);
    assert!(w.durable_seq() <= w.last_seq());
    append_range(&mut w, seq + 1, seq + 5);
    assert_eq!(w.sync_now().expect("sync_now"), seq + 5);
    assert!(
        common::segment_paths(dir.path()).len() > 1,
        "syncs spanned roll-overs"
    );
}

#[test]
fn sync_mode_group_commit_advances_durable_seq_with_io_uring_or_its_fallback() {
    group_commit(false);
}

#[test]
fn sync_mode_group_commit_advances_durable_seq_with_forced_fdatasync() {
    group_commit(true);
}

fn async_mode(force_fallback: bool) {
    let dir = TestDir::new("async");
    let durability = Durability::Async { interval_ms: 5 };
    let (mut w, _) =
        JournalWriter::open(dir.path(), opts(durability, force_fallback)).expect("open");
    append_range(&mut w, 1, 200);
    wait_durable(&w, 200);
    append_range(&mut w, 201, 400);
    wait_durable(&w, 400);
}

#[test]
fn async_mode_syncs_in_the_background_with_io_uring_or_its_fallback() {
    async_mode(false);
}

#[test]
fn async_mode_syncs_in_the_background_with_forced_fdatasync() {
    async_mode(true);
}

#[test]
fn io_uring_backend_syncs_a_file_directly_when_the_kernel_allows() {
    let dir = TestDir::new("uring");
    let path = dir.path().join("f");
    std::fs::write(&path, b"data").expect("write");
    let file = std::fs::File::open(&path).expect("open");
    match journal::sync::UringSync::new() {
        Ok(mut u) => {
            use journal::sync::SyncBackend;
            assert_eq!(u.kind(), SyncBackendKind::IoUring);
            u.sync_data(&file, None)
                .expect("io_uring fsync of a regular file");
            u.sync_data(&file, Some(2)).expect("io_uring ranged fsync");
        }
        Err(e) => eprintln!("io_uring unavailable here ({e}); fallback covered elsewhere"),
    }
}

#[test]
fn reopened_sync_journal_starts_durable_at_its_last_record() {
    let dir = TestDir::new("syncreopen");
    {
        let (mut w, _) =
            JournalWriter::open(dir.path(), opts(Durability::Sync, true)).expect("open");
        append_range(&mut w, 1, 30);
    }
    let (w, _) = JournalWriter::open(dir.path(), opts(Durability::Sync, true)).expect("reopen");
    assert_eq!(w.durable_seq(), 30);
}

#[test]
fn reopened_io_uring_sync_journal_starts_durable_at_its_last_record() {
    let dir = TestDir::new("syncreopenuring");
    {
        let (mut w, _) =
            JournalWriter::open(dir.path(), opts(Durability::Sync, false)).expect("open");
        append_range(&mut w, 1, 30);
        w.request_sync().expect("request");
    }
    let (w, _) = JournalWriter::open(dir.path(), opts(Durability::Sync, false)).expect("reopen");
    assert_eq!(w.durable_seq(), 30);
}

/// One sync covering more rolled-over segments than the ring takes at once: the overflow is
/// synced inline, the rest through the ring, and durable_seq covers all of them.
#[test]
fn one_sync_covers_many_rolled_over_segments() {
    let dir = TestDir::new("syncmanyrolls");
    let (mut w, _) = JournalWriter::open(dir.path(), opts(Durability::Sync, false)).expect("open");
    append_range(&mut w, 1, 3_000);
    let segments = common::segment_paths(dir.path()).len();
    assert!(segments > 20, "only {segments} segments");
    assert_eq!(w.sync_now().expect("sync_now"), 3_000);
    assert_eq!(w.durable_seq(), 3_000);
}

/// In sync mode io_uring syncs are submitted and reaped by the appending thread; a writer
/// moved to another thread, with syncs in flight or not, keeps syncing and never reports a
/// record durable that was not synced.
#[test]
fn sync_mode_keeps_working_when_the_writer_moves_between_threads() {
    let dir = TestDir::new("syncmove");
    let (mut w, _) = JournalWriter::open(dir.path(), opts(Durability::Sync, false)).expect("open");
    append_range(&mut w, 1, 100);
    w.request_sync().expect("request");
    // Moved with the sync possibly still in flight.
    let w = std::thread::spawn(move || {
        let mut w = w;
        wait_durable(&w, 100);
        append_range(&mut w, 101, 200);
        w.request_sync().expect("request on the new thread");
        wait_durable(&w, 200);
        append_range(&mut w, 201, 250);
        w.request_sync().expect("request");
        w
    })
    .join()
    .expect("thread");
    let mut w = w;
    append_range(&mut w, 251, 300);
    assert_eq!(
        w.sync_now().expect("sync_now back on the first thread"),
        300
    );
    assert!(w.durable_seq() <= w.last_seq());
}

/// A journal that syncs rolls over into zero-filled segments prepared ahead when they are
/// ready, and into reserved ones when not: both kinds hold the records, in order, across
/// reopening; no prepared file is left behind.
#[test]
fn sync_mode_rolls_over_into_prepared_and_reserved_segments() {
    let dir = TestDir::new("prepared");
    let options = JournalOptions {
        segment_size_bytes: 64 << 10,
        ..opts(Durability::Sync, false)
    };
    let (mut w, _) = JournalWriter::open(dir.path(), options.clone()).expect("open");
    let mut seq = 0;
    for round in 0..40u64 {
        // Some rounds give the preparer time to finish, others roll over at once.
        if round % 2 == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        append_range(&mut w, seq + 1, seq + 500);
        seq += 500;
        w.request_sync().expect("request sync");
    }
    wait_durable(&w, seq);
    drop(w);
    let segments = segment_paths(dir.path());
    assert!(segments.len() > 20, "only {} segments", segments.len());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");

    let (mut w, report) = JournalWriter::open(dir.path(), options).expect("reopen");
    assert_eq!(report.last_seq, seq);
    append_range(&mut w, seq + 1, seq + 10);
    w.request_sync().expect("request sync");
    wait_durable(&w, seq + 10);
    drop(w);
    let mut reader = JournalReader::open(dir.path()).expect("reader");
    let mut expected = 1;
    while let Some(record) = reader.next().expect("read") {
        assert_eq!(record.header, header(expected));
        assert_eq!(record.payload, &payload(expected)[..]);
        expected += 1;
    }
    assert_eq!(expected, seq + 11);
}

//! A journal that syncs writes back what it appended, not whole page-cache folios around it.
//!
//! The kernel counts a page as written the moment it becomes dirty (`write_bytes` in
//! `/proc/self/io`), so that counter shows what the syncs will write back. This test runs in a
//! binary of its own, and its tests take turns, because the counter is per process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use journal::{Durability, JournalOptions, JournalReader, JournalWriter, Prefault};

mod common;
use common::{header, TestDir};

const PAYLOAD: [u8; 64] = [0x5A; 64];
const BATCH: u64 = 64;
const SEGMENT_BYTES: u64 = 64 << 20;

/// Bytes this process has caused to be written to storage so far.
fn write_bytes() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|line| line.strip_prefix("write_bytes: "))
        .and_then(|n| n.trim().parse().ok())
}

/// How an appender paces its batches.
#[derive(Clone, Copy)]
enum Pace {
    /// Waits until each batch is durable before the next (a `sync`-mode gateway).
    EachBatchDurable,
    /// Pauses `us` microseconds between batches while the background flush runs (`async`).
    Pause { us: u64 },
}

fn options(durability: Durability) -> JournalOptions {
    JournalOptions {
        segment_size_bytes: SEGMENT_BYTES,
        durability,
        // Populating ahead for writing dirties each page once with zeros, which a sync then
        // writes back before the records reach it: a bounded 2x that these tests leave out.
        prefault: Prefault::Off,
        ..JournalOptions::default()
    }
}

/// What one run of appends made dirty.
struct Written {
    batches: u64,
    appended: u64,
    dirtied: u64,
    /// Segment files zero-filled ahead of the writer while it appended (at most).
    prepared_segments: u64,
}

impl Written {
    /// Checks `dirtied` against the records plus what syncs rewrite: each sync rewrites the
    /// page the previous one left part full, so at most two pages per batch beyond the records
    /// (fewer in `async`, where a flush covers many batches). The zeros of segments prepared
    /// ahead are written once each, and counted too.
    fn check(&self, name: &str) {
        let prepared = self.prepared_segments * SEGMENT_BYTES;
        let bound = self.appended + self.batches * 2 * 4096 + prepared;
        let (appended, dirtied) = (self.appended, self.dirtied);
        eprintln!("{name}: appended {appended} bytes, dirtied {dirtied}, bound {bound}");
        assert!(
            dirtied <= bound,
            "{name}: the syncs wrote back {dirtied} bytes for {appended} appended (bound {bound})"
        );
    }
}

/// Appends 48 MiB of records after `last_seq` in 64-record batches.
///
/// 48 MiB: past the ~30 MiB after which read-ahead, left on, cached the pages ahead in large
/// folios and each sync wrote megabytes back.
fn append(w: &mut JournalWriter, last_seq: u64, pace: Pace) -> Written {
    let framed = journal::record::framed_len(PAYLOAD.len()) as u64;
    let batches = (48 << 20) / (BATCH * framed);
    let before = write_bytes().expect("/proc/self/io has write_bytes");
    let mut seq = last_seq;
    for _ in 0..batches {
        for _ in 0..BATCH {
            seq += 1;
            w.append(&header(seq), &PAYLOAD).expect("append");
        }
        match pace {
            Pace::EachBatchDurable => {
                w.request_sync().expect("request sync");
                while w.durable_seq() < seq {
                    std::thread::sleep(Duration::from_micros(20));
                }
            }
            Pace::Pause { us } => std::thread::sleep(Duration::from_micros(us)),
        }
    }
    w.sync_now().expect("final sync");
    let appended = (seq - last_seq) * framed;
    Written {
        batches,
        appended,
        dirtied: write_bytes().expect("/proc/self/io has write_bytes") - before,
        // One segment is prepared at open, and one more at each roll-over.
        prepared_segments: 1 + appended / (SEGMENT_BYTES - 4096),
    }
}

/// The counter is per process: the tests take turns.
fn one_at_a_time() -> Option<MutexGuard<'static, ()>> {
    static TURN: Mutex<()> = Mutex::new(());
    if write_bytes().is_none() {
        eprintln!("skipped: this kernel has no per-process I/O accounting (/proc/self/io)");
        return None;
    }
    Some(TURN.lock().unwrap_or_else(PoisonError::into_inner))
}

#[test]
fn syncing_modes_write_back_about_what_they_append() {
    let Some(_turn) = one_at_a_time() else { return };
    let cases = [
        ("sync", Durability::Sync, Pace::EachBatchDurable),
        (
            "async",
            Durability::Async { interval_ms: 1 },
            Pace::Pause { us: 50 },
        ),
    ];
    for (name, durability, pace) in cases {
        let dir = TestDir::new("writeback");
        let (mut w, _) = JournalWriter::open(dir.path(), options(durability)).expect("open");
        append(&mut w, 0, pace).check(name);
    }
}

/// A writer reopened on a journal appends into the segment that recovery has just read.
#[test]
fn appends_after_a_restart_write_back_about_what_they_append() {
    let Some(_turn) = one_at_a_time() else { return };
    let dir = TestDir::new("writeback-restart");
    let (mut w, _) = JournalWriter::open(dir.path(), options(Durability::Sync)).expect("open");
    for seq in 1..=10_000 {
        w.append(&header(seq), &PAYLOAD).expect("append");
    }
    w.sync_now().expect("sync");
    drop(w);
    let (mut w, report) =
        JournalWriter::open(dir.path(), options(Durability::Sync)).expect("reopen");
    assert_eq!(report.last_seq, 10_000);
    append(&mut w, 10_000, Pace::EachBatchDurable).check("sync after restart");
}

/// A reader following the live segment (`journal tail`) faults in the pages the writer is about
/// to write.
#[test]
fn a_reader_following_the_writer_does_not_change_what_syncs_write() {
    let Some(_turn) = one_at_a_time() else { return };
    let dir = TestDir::new("writeback-follow");
    let (mut w, _) = JournalWriter::open(dir.path(), options(Durability::Sync)).expect("open");
    let done = Arc::new(AtomicBool::new(false));
    let follower = {
        let (path, done) = (dir.path().to_path_buf(), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut reader = JournalReader::open(path).expect("open reader");
            let mut read = 0u64;
            while !done.load(Ordering::Relaxed) {
                match reader.next().expect("read") {
                    Some(_) => read += 1,
                    None => std::thread::sleep(Duration::from_micros(50)),
                }
            }
            read
        })
    };
    let written = append(&mut w, 0, Pace::EachBatchDurable);
    done.store(true, Ordering::Relaxed);
    let read = follower.join().expect("follower");
    assert!(read > 0, "the follower read nothing");
    written.check("sync with a follower");
}

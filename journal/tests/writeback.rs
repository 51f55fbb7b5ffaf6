//! A journal that syncs writes back what it appended, not whole page-cache folios around it.
//!
//! The kernel counts a page as written the moment it becomes dirty (`write_bytes` in
//! `/proc/self/io`), so that counter shows what the syncs will write back. This test runs in a
//! binary of its own because the counter is per process.

use std::time::Duration;

use journal::{Durability, JournalOptions, JournalWriter, Prefault};

mod common;
use common::{header, TestDir};

const PAYLOAD: [u8; 64] = [0x5A; 64];
const BATCH: u64 = 64;

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

/// Appends 48 MiB of records in 64-record batches; returns (batches, bytes appended, bytes
/// dirtied).
///
/// 48 MiB: past the ~30 MiB after which read-ahead, left on, cached the pages ahead in large
/// folios and each sync wrote megabytes back.
fn append(durability: Durability, pace: Pace) -> (u64, u64, u64) {
    let framed = journal::record::framed_len(PAYLOAD.len()) as u64;
    let batches = (48 << 20) / (BATCH * framed);
    let dir = TestDir::new("writeback");
    let opts = JournalOptions {
        segment_size_bytes: 64 << 20,
        durability,
        // Populating ahead for writing dirties each page once with zeros, which a sync then
        // writes back before the records reach it: a bounded 2x that this test leaves out.
        prefault: Prefault::Off,
        ..JournalOptions::default()
    };
    let (mut w, _) = JournalWriter::open(dir.path(), opts).expect("open");
    let before = write_bytes().expect("/proc/self/io has write_bytes");
    let mut seq = 0;
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
    let dirtied = write_bytes().expect("/proc/self/io has write_bytes") - before;
    drop(w);
    (batches, seq * framed, dirtied)
}

#[test]
fn syncing_modes_write_back_about_what_they_append() {
    if write_bytes().is_none() {
        eprintln!("skipped: this kernel has no per-process I/O accounting (/proc/self/io)");
        return;
    }
    let cases = [
        ("sync", Durability::Sync, Pace::EachBatchDurable),
        (
            "async",
            Durability::Async { interval_ms: 1 },
            Pace::Pause { us: 50 },
        ),
    ];
    for (name, durability, pace) in cases {
        let (batches, appended, dirtied) = append(durability, pace);
        // A sync rewrites the page the previous one left part full: at most two pages per
        // batch beyond the records themselves (fewer in `async`, where a flush covers many
        // batches).
        let bound = appended + batches * 2 * 4096;
        eprintln!("{name}: appended {appended} bytes, dirtied {dirtied}, bound {bound}");
        assert!(
            dirtied <= bound,
            "{name}: the syncs wrote back {dirtied} bytes for {appended} appended (bound {bound})"
        );
    }
}

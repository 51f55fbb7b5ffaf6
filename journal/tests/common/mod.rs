//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use journal::{Durability, JournalOptions, JournalWriter, Prefault, RecordHeader};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh directory under the system temp dir, removed on drop.
pub struct TestDir(PathBuf);

impl TestDir {
    pub fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("jt-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir must be creatable for tests");
        Self(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Small segments so tests roll over quickly.
pub fn small_options() -> JournalOptions {
    JournalOptions {
        segment_size_bytes: 16 * 1024,
        max_payload_bytes: 1024,
        durability: Durability::None,
        force_fallback: false,
        prefault: Prefault::Thread,
        prefault_window_bytes: 8 * 1024,
    }
}

pub fn header(seq: u64) -> RecordHeader {
    RecordHeader {
        seq,
        time_ns: 1_000 + seq,
        kind: (seq % 5) as u16,
        flags: 0,
        source: 7,
    }
}

pub fn payload(seq: u64) -> Vec<u8> {
    let len = (seq * 37 % 200) as usize;
    (0..len).map(|i| (seq as usize + i) as u8).collect()
}

/// Appends records `from..=to` with the deterministic header and payload above.
pub fn append_range(w: &mut JournalWriter, from: u64, to: u64) {
    for seq in from..=to {
        w.append(&header(seq), &payload(seq))
            .expect("append must succeed");
    }
}

/// Segment files of `dir`, oldest first.
pub fn segment_paths(dir: &Path) -> Vec<PathBuf> {
    journal::segment::list_segments(dir)
        .expect("list segments")
        .into_iter()
        .map(|s| s.path)
        .collect()
}

/// Offsets of every valid record in a segment file, walking the framing by hand.
pub fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut off = journal::segment::SEGMENT_HEADER_LEN;
    while off + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[off..off + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().expect("4 bytes"));
        if len == 0 && crc == 0 {
            break;
        }
        out.push(off);
        off += journal::record::framed_len(len);
    }
    out
}

/// Rewrites the CRC of the record at `off` so edited contents pass the checksum again.
pub fn fix_crc(bytes: &mut [u8], off: usize) {
    let len = u32::from_le_bytes(bytes[off..off + 4].try_into().expect("4 bytes")) as usize;
    let crc = crc32c_of(&bytes[off + 8..off + 40 + len]);
    bytes[off + 4..off + 8].copy_from_slice(&crc.to_le_bytes());
}

fn crc32c_of(data: &[u8]) -> u32 {
    // Bitwise CRC32C (Castagnoli, reflected 0x82F63B78); slow but dependency-free.
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

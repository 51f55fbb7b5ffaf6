//! A temporary journal for the command tests.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use journal::{JournalOptions, JournalWriter, RecordHeader};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temp directory holding a journal, removed on drop.
pub(crate) struct TempJournal(PathBuf);

impl TempJournal {
    /// A journal with records 1..=n: kind = seq % 3, source = seq % 2, payload = seq bytes.
    pub(crate) fn with_records(n: u64) -> Self {
        let i = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("jcli-{}-{i}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (mut w, _) = JournalWriter::open(&dir, Self::opts()).expect("temp journal opens");
        for seq in 1..=n {
            let h = RecordHeader {
                seq,
                time_ns: seq * 10,
                kind: (seq % 3) as u16,
                flags: 0,
                source: (seq % 2) as u32,
            };
            w.append(&h, &seq.to_le_bytes()).expect("append");
        }
        Self(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Flips the first payload byte of record `seq` (in the first segment: 8-byte payloads
    /// frame to 48 bytes after the 64-byte segment header); returns the segment's path.
    pub(crate) fn damage_record(&self, seq: u64) -> PathBuf {
        let seg = journal::segment::list_segments(&self.0).expect("list")[0]
            .path
            .clone();
        let mut bytes = std::fs::read(&seg).expect("read");
        bytes[64 + (seq as usize - 1) * 48 + 40] ^= 0xFF;
        std::fs::write(&seg, bytes).expect("write");
        seg
    }

    pub(crate) fn opts() -> JournalOptions {
        JournalOptions {
            segment_size_bytes: 16 * 1024,
            max_payload_bytes: 256,
            ..JournalOptions::default()
        }
    }
}

impl Drop for TempJournal {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

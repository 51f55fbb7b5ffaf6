//! Snapshots: opaque state blobs tagged with the journal seq they cover, written atomically.
//!
//! File `snapshot-{seq:020}.snap`:
//!
//! ```text
//! offset  size  field
//!      0     8  magic "EXSNAP01"
//!      8     4  format version
//!     12     4  crc32c over bytes 16.. (seq, len, blob)
//!     16     8  seq
//!     24     8  blob length
//!     32     -  blob
//! ```
//!
//! A snapshot is written to a temp file, synced, renamed into place, and the directory synced,
//! so a crash leaves either the old set or the new one, never a partial file under the name.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"EXSNAP01";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 32;

/// Errors of the snapshot store.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A file-system operation failed.
    #[error("snapshot {op} {path} failed: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// `keep` must be at least 1.
    #[error("snapshot store must keep at least 1 snapshot, asked to keep {keep}")]
    InvalidKeep {
        /// The value given.
        keep: usize,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotError {
    let path = path.to_path_buf();
    move |source| SnapshotError::Io { op, path, source }
}

/// A directory of snapshots keeping the newest `keep`.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    dir: PathBuf,
    keep: usize,
}

impl SnapshotStore {
    /// Opens (creating if needed) a snapshot directory that keeps the newest `keep` snapshots.
    ///
    /// # Errors
    /// [`SnapshotError::InvalidKeep`] for `keep == 0`, [`SnapshotError::Io`] if the
    /// directory cannot be created.
    pub fn open(dir: impl AsRef<Path>, keep: usize) -> Result<Self, SnapshotError> {
        if keep == 0 {
            return Err(SnapshotError::InvalidKeep { keep });
        }
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io_err("create directory", &dir))?;
        Ok(Self { dir, keep })
    }

    /// Writes the snapshot covering journal records up to `seq`, atomically, then prunes
    /// snapshots beyond the newest `keep`. Returns the file written.
    ///
    /// # Errors
    /// [`SnapshotError::Io`] for any write, sync, rename or removal failure.
    pub fn write(&self, seq: u64, blob: &[u8]) -> Result<PathBuf, SnapshotError> {
        let path = self.dir.join(file_name(seq));
        let tmp = self.dir.join(format!("{}.tmp", file_name(seq)));
        let mut body = Vec::with_capacity(16 + blob.len());
        body.extend_from_slice(&seq.to_le_bytes());
        body.extend_from_slice(&(blob.len() as u64).to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&body), blob);
        let mut f = File::create(&tmp).map_err(io_err("create", &tmp))?;
        f.write_all(&MAGIC).map_err(io_err("write", &tmp))?;
        f.write_all(&VERSION.to_le_bytes())
            .map_err(io_err("write", &tmp))?;
        f.write_all(&crc.to_le_bytes())
            .map_err(io_err("write", &tmp))?;
        f.write_all(&body).map_err(io_err("write", &tmp))?;
        f.write_all(blob).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("fsync", &tmp))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(io_err("rename", &tmp))?;
        self.sync_dir()?;
        self.prune()?;
        Ok(path)
    }

    /// The newest snapshot that passes its checksum, as `(seq, blob)`; damaged ones are
    /// skipped (and reported on stderr).
    ///
    /// # Errors
    /// [`SnapshotError::Io`] if the directory cannot be listed.
    pub fn latest_valid(&self) -> Result<Option<(u64, Vec<u8>)>, SnapshotError> {
        for seq in self.list()?.into_iter().rev() {
            let path = self.dir.join(file_name(seq));
            match std::fs::read(&path) {
                Ok(bytes) => match decode(&bytes, seq) {
                    Ok(blob) => return Ok(Some((seq, blob))),
                    Err(why) => eprintln!("journal: skipping snapshot {}: {why}", path.display()),
                },
                Err(e) => eprintln!(
                    "journal: skipping unreadable snapshot {}: {e}",
                    path.display()
                ),
            }
        }
        Ok(None)
    }

    /// Sequence numbers of the snapshots present, oldest first.
    ///
    /// # Errors
    /// [`SnapshotError::Io`] if the directory cannot be listed.
    pub fn list(&self) -> Result<Vec<u64>, SnapshotError> {
        let entries = std::fs::read_dir(&self.dir).map_err(io_err("list", &self.dir))?;
        let mut seqs: Vec<u64> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(parse_name))
            .collect();
        seqs.sort_unstable();
        Ok(seqs)
    }

    fn prune(&self) -> Result<(), SnapshotError> {
        let seqs = self.list()?;
        let excess = seqs.len().saturating_sub(self.keep);
        for seq in &seqs[..excess] {
            let p = self.dir.join(file_name(*seq));
            std::fs::remove_file(&p).map_err(io_err("remove", &p))?;
        }
        if excess > 0 {
            self.sync_dir()?;
        }
        Ok(())
    }

    fn sync_dir(&self) -> Result<(), SnapshotError> {
        let d = File::open(&self.dir).map_err(io_err("open", &self.dir))?;
        d.sync_all().map_err(io_err("fsync", &self.dir))
    }
}

fn file_name(seq: u64) -> String {
    format!("snapshot-{seq:020}.snap")
}

fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("snapshot-")?.strip_suffix(".snap")?;
    if digits.len() != 20 {
        return None;
    }
    digits.parse().ok()
}

/// Checks a snapshot file's framing and returns its blob.
fn decode(bytes: &[u8], seq: u64) -> Result<Vec<u8>, String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!("only {} bytes", bytes.len()));
    }
    if bytes[0..8] != MAGIC {
        return Err("bad magic".into());
    }
    let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if version != VERSION {
        return Err(format!("format version {version}, expected {VERSION}"));
    }
    let stored = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    let computed = crc32c::crc32c(&bytes[16..]);
    if stored != computed {
        return Err(format!("crc32c {stored:#010x}, computed {computed:#010x}"));
    }
    let mut s = [0u8; 8];
    s.copy_from_slice(&bytes[16..24]);
    let mut l = [0u8; 8];
    l.copy_from_slice(&bytes[24..32]);
    let (file_seq, len) = (u64::from_le_bytes(s), u64::from_le_bytes(l));
    if file_seq != seq || len != (bytes.len() - HEADER_LEN) as u64 {
        return Err(format!(
            "header says seq {file_seq} len {len}, file name says seq {seq}"
        ));
    }
    Ok(bytes[HEADER_LEN..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_dir::TestDir;

    #[test]
    fn latest_valid_returns_newest_snapshot() {
        let dir = TestDir::new("snap-latest");
        let store = SnapshotStore::open(dir.path(), 3).expect("open store");
        store.write(10, b"state at 10").expect("write 10");
        store.write(20, b"state at 20").expect("write 20");
        let latest = store.latest_valid().expect("list");
        assert_eq!(latest, Some((20, b"state at 20".to_vec())));
    }

    #[test]
    fn damaged_newest_snapshot_falls_back_to_previous() {
        let dir = TestDir::new("snap-damaged");
        let store = SnapshotStore::open(dir.path(), 3).expect("open store");
        store.write(10, b"state at 10").expect("write 10");
        let newest = store.write(20, b"state at 20").expect("write 20");
        let mut bytes = std::fs::read(&newest).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&newest, bytes).expect("corrupt");
        assert_eq!(
            store.latest_valid().expect("list"),
            Some((10, b"state at 10".to_vec()))
        );
    }

    #[test]
    fn store_keeps_only_the_newest_n() {
        let dir = TestDir::new("snap-prune");
        let store = SnapshotStore::open(dir.path(), 2).expect("open store");
        for seq in [5, 6, 7, 8] {
            store.write(seq, &seq.to_le_bytes()).expect("write");
        }
        assert_eq!(store.list().expect("list"), vec![7, 8]);
        let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
        assert_eq!(leftovers, 2, "no temp files left behind");
    }

    #[test]
    fn empty_store_has_no_latest_and_zero_keep_is_refused() {
        let dir = TestDir::new("snap-empty");
        let store = SnapshotStore::open(dir.path(), 1).expect("open store");
        assert_eq!(store.latest_valid().expect("list"), None);
        assert!(matches!(
            SnapshotStore::open(dir.path(), 0),
            Err(SnapshotError::InvalidKeep { keep: 0 })
        ));
    }
}

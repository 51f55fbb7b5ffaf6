//! Creating, preallocating, opening and mapping segment files.
//!
//! A new segment is built under a temporary name and renamed into place, so a reader that sees
//! `journal-*.seg` always sees a complete header and a fully preallocated file.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use memmap2::{Advice, Mmap, MmapMut};

use super::header::SegmentHeader;
use super::name::segment_file_name;
use crate::error::JournalError;

/// Creates, preallocates and publishes the segment starting at `first_seq`.
///
/// With `durable`, the file and the directory entry are synced before returning.
///
/// # Errors
/// [`JournalError::Preallocate`] when the space cannot be reserved (disk full),
/// [`JournalError::Io`] for any other file-system failure.
pub(crate) fn create_segment(
    dir: &Path,
    first_seq: u64,
    size_bytes: u64,
    durable: bool,
) -> Result<(File, PathBuf), JournalError> {
    let path = dir.join(segment_file_name(first_seq));
    let tmp = dir.join(format!("{}.tmp", segment_file_name(first_seq)));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| JournalError::io("create segment", &tmp, e))?;
    if let Err(e) = preallocate(&file, size_bytes, &tmp) {
        // Do not leave a half-allocated file behind on a full disk.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let header = SegmentHeader {
        first_seq,
        size_bytes,
    }
    .encode();
    file.write_all_at(&header, 0)
        .map_err(|e| JournalError::io("write header", &tmp, e))?;
    if durable {
        file.sync_data()
            .map_err(|e| JournalError::io("fdatasync", &tmp, e))?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| JournalError::io("rename", &tmp, e))?;
    if durable {
        fsync_dir(dir)?;
    }
    Ok((file, path))
}

/// Reserves `size_bytes` of disk blocks for `file` so writes through the mapping cannot fail
/// with ENOSPC (which would be a SIGBUS); falls back to `set_len` where `fallocate` is missing.
fn preallocate(file: &File, size_bytes: u64, path: &Path) -> Result<(), JournalError> {
    let prealloc_err = |source| JournalError::Preallocate {
        path: path.into(),
        size_bytes,
        source,
    };
    let len = libc::off_t::try_from(size_bytes)
        .map_err(|_| prealloc_err(std::io::Error::other("size does not fit off_t")))?;
    // SAFETY: fallocate only reads its integer arguments; the fd is open for writing and owned
    // by `file`, which outlives the call.
    let rc = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len) };
    if rc == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EOPNOTSUPP) {
        eprintln!(
            "journal: fallocate unsupported on the file system of {}; using a sparse file \
             (a full disk would then surface as SIGBUS on write)",
            path.display()
        );
        return file.set_len(size_bytes).map_err(prealloc_err);
    }
    Err(prealloc_err(err))
}

/// Opens an existing segment for reading and writing.
///
/// # Errors
/// [`JournalError::Io`] when the file cannot be opened.
pub(crate) fn open_rw(path: &Path) -> Result<File, JournalError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| JournalError::io("open segment", path, e))
}

/// Maps a segment writable and shared. With `exact_writeback` (a journal that syncs), the
/// mapping has read-ahead off (`MADV_RANDOM`).
///
/// Why: a write fault on a page not yet cached goes through the file's read-ahead, which on
/// kernels with large page-cache folios caches the pages ahead in folios of up to 2 MiB. The
/// kernel tracks dirtiness per folio, so one record written into such a folio makes all of it
/// dirty, and the next sync writes all of it back. Measured on the 2-core development VM (ext4,
/// Linux 6.18), 48 MiB appended in 64-record batches, each followed by a sync: 4.45 GB written
/// back with read-ahead on, 81 MB with it off (`journal/tests/writeback.rs`); past the first
/// ~30 MiB, fdatasync took 570–600 µs instead of 160–230 µs.
///
/// The cost: faults then cache one 4 KiB page at a time, and appending with durability `none`
/// fell from 21–40M to ~11.5M records/s (`journal-bench`). A journal that never syncs writes
/// each folio back about once, so it keeps read-ahead.
///
/// # Errors
/// [`JournalError::Io`] when mmap fails. A kernel that refuses the advice is only logged: the
/// mapping works without it.
pub(crate) fn map_write(
    file: &File,
    path: &Path,
    exact_writeback: bool,
) -> Result<MmapMut, JournalError> {
    // SAFETY: the journal writer is the only writer of its segments (one writer per directory
    // is the documented contract); other processes only read. The mapping is shared so that
    // fdatasync on the fd persists what is written through it.
    let map = unsafe { MmapMut::map_mut(file) }.map_err(|e| JournalError::io("mmap", path, e))?;
    if exact_writeback {
        if let Err(e) = map.advise(Advice::Random) {
            eprintln!(
                "journal: madvise(MADV_RANDOM) on {} failed ({e}); each sync may write back \
                 more than was appended",
                path.display()
            );
        }
    }
    Ok(map)
}

/// Maps a segment read-only and shared; writes by a live writer become visible through it.
///
/// # Errors
/// [`JournalError::Io`] when the file cannot be opened or mapped.
pub(crate) fn map_read(path: &Path) -> Result<Mmap, JournalError> {
    let file = File::open(path).map_err(|e| JournalError::io("open segment", path, e))?;
    // SAFETY: the mapping may change underneath us (a live writer appends). Readers only
    // read published records: the commit word is loaded atomically with acquire ordering and
    // every other byte of a record is immutable once its commit word is published. Files are
    // never truncated by a live writer, so the mapped length stays valid.
    unsafe { Mmap::map(&file) }.map_err(|e| JournalError::io("mmap", path, e))
}

/// Syncs a directory so that created, renamed and removed entries survive a crash.
///
/// # Errors
/// [`JournalError::Io`] when the directory cannot be opened or synced.
pub(crate) fn fsync_dir(dir: &Path) -> Result<(), JournalError> {
    let d = File::open(dir).map_err(|e| JournalError::io("open directory", dir, e))?;
    d.sync_all()
        .map_err(|e| JournalError::io("fsync directory", dir, e))
}

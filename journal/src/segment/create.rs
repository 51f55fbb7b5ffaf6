//! Creating, preallocating, opening and mapping segment files.
//!
//! A new segment is built under a temporary name and renamed into place, so a reader that sees
//! `journal-*.seg` always sees a complete header and a fully preallocated file.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use memmap2::{Advice, Mmap, MmapMut};

use super::header::SegmentHeader;
use super::name::segment_file_name;
use crate::error::JournalError;

/// How a new segment's space is made ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// Reserved only (`fallocate`): quick to create; the first sync of each part of it also
    /// commits file-system metadata (its extents change from unwritten to written).
    Reserve,
    /// Reserved, then written with zeros and synced ([`zero_fill`]): slower to create, and then
    /// a sync writes the records and nothing else.
    Zeros,
}

/// Name of the zero-filled segment prepared ahead of the writer ([`prepare_segment`]). It
/// matches `journal-*.seg.tmp`, so recovery removes one left behind by a crash.
pub(crate) const PREPARED_FILE_NAME: &str = "journal-prepared.seg.tmp";

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
    fill: Fill,
) -> Result<(File, PathBuf), JournalError> {
    let tmp = dir.join(format!("{}.tmp", segment_file_name(first_seq)));
    let file = new_segment_file(&tmp, size_bytes, fill, &AtomicBool::new(false))?;
    publish_segment(dir, file, &tmp, first_seq, size_bytes, durable)
}

/// Makes a zero-filled segment file at [`PREPARED_FILE_NAME`] in `dir`, for
/// [`publish_segment`] to give a header and a name later. Gives up with an error as soon as
/// `cancel` is set.
///
/// # Errors
/// As [`create_segment`].
pub(crate) fn prepare_segment(
    dir: &Path,
    size_bytes: u64,
    cancel: &AtomicBool,
) -> Result<(File, PathBuf), JournalError> {
    let tmp = dir.join(PREPARED_FILE_NAME);
    let file = new_segment_file(&tmp, size_bytes, Fill::Zeros, cancel)?;
    Ok((file, tmp))
}

/// Creates the file at `tmp` with `size_bytes` of space made ready as `fill` says; removes it
/// again on failure.
fn new_segment_file(
    tmp: &Path,
    size_bytes: u64,
    fill: Fill,
    cancel: &AtomicBool,
) -> Result<File, JournalError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(|e| JournalError::io("create segment", tmp, e))?;
    let ready = preallocate(&file, size_bytes, tmp).and_then(|()| match fill {
        Fill::Reserve => Ok(()),
        Fill::Zeros => zero_fill(&file, size_bytes, tmp, cancel),
    });
    if let Err(e) = ready {
        // Do not leave a half-made file behind (on a full disk, or when cancelled).
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    Ok(file)
}

/// Writes zeros over the whole file, one page per write, then syncs it.
///
/// One page per write, so that the page cache holds the file in single pages: a larger write
/// may cache it in large folios, which the writer's records would then dirty whole (see
/// [`map_write`]). Measured on the development VM: 256 MiB in ~0.2 s of writes and ~0.2 s of
/// sync. A scratch test of 64-record batches written through a mapping, each followed by
/// fdatasync, gave p50 122 µs on a file filled this way against 175–218 µs on a reserved one.
fn zero_fill(
    file: &File,
    size_bytes: u64,
    path: &Path,
    cancel: &AtomicBool,
) -> Result<(), JournalError> {
    const PAGE: [u8; 4096] = [0; 4096];
    let mut offset = 0;
    while offset < size_bytes {
        if cancel.load(Ordering::Relaxed) {
            return Err(JournalError::io(
                "zero-fill segment",
                path,
                std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled"),
            ));
        }
        let len = (size_bytes - offset).min(PAGE.len() as u64) as usize;
        file.write_all_at(&PAGE[..len], offset)
            .map_err(|e| JournalError::io("zero-fill segment", path, e))?;
        offset += len as u64;
    }
    file.sync_data()
        .map_err(|e| JournalError::io("fdatasync", path, e))
}

/// Gives the segment file at `tmp` its header for `first_seq` and its final name.
///
/// # Errors
/// [`JournalError::Io`] when the header cannot be written or the file renamed.
pub(crate) fn publish_segment(
    dir: &Path,
    file: File,
    tmp: &Path,
    first_seq: u64,
    size_bytes: u64,
    durable: bool,
) -> Result<(File, PathBuf), JournalError> {
    let path = dir.join(segment_file_name(first_seq));
    let header = SegmentHeader {
        first_seq,
        size_bytes,
    }
    .encode();
    file.write_all_at(&header, 0)
        .map_err(|e| JournalError::io("write header", tmp, e))?;
    if durable {
        file.sync_data()
            .map_err(|e| JournalError::io("fdatasync", tmp, e))?;
    }
    std::fs::rename(tmp, &path).map_err(|e| JournalError::io("rename", tmp, e))?;
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
/// The cost: faults then cache one 4 KiB page at a time. With read-ahead off for every journal,
/// appending with durability `none` fell from 21–40M to ~11.5M records/s (`journal-bench`); a
/// journal that never syncs writes each folio back about once, so it keeps read-ahead.
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

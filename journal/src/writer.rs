//! The single writer of a journal directory.

use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::MmapMut;

use crate::error::JournalError;
use crate::options::{Durability, JournalOptions};
use crate::prefault::{prefetch_for_write, Prefaulter, PREFETCH_AHEAD_BYTES};
use crate::record::{framed_len, write_record, RecordHeader};
use crate::recovery::{recover, RecoveryReport};
use crate::segment::{
    create_segment, map_write, open_rw, publish_segment, Fill, Preparer, SEGMENT_HEADER_LEN,
};
use crate::sync::{SyncBackendKind, SyncDriver};

const LOCK_FILE: &str = "journal.lock";

/// The segment currently appended to.
struct ActiveSegment {
    file: Arc<File>,
    map: MmapMut,
    /// Offset of the next record.
    offset: usize,
}

/// Appends records to a journal directory; one per directory (enforced with a lock file).
///
/// Fields drop in declaration order: the prefaulter and syncer threads stop before the
/// mapping they use is unmapped.
pub struct JournalWriter {
    prefaulter: Prefaulter,
    syncer: SyncDriver,
    /// Zero-filled segments made ahead, for a journal that syncs.
    preparer: Option<Preparer>,
    /// Offset in the current segment from which to prepare the next one (`usize::MAX`: none,
    /// or already started).
    prepare_at: usize,
    segment: ActiveSegment,
    dir: PathBuf,
    options: JournalOptions,
    next_seq: u64,
    last_time_ns: u64,
    _lock: File,
}

impl std::fmt::Debug for JournalWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalWriter")
            .field("dir", &self.dir)
            .field("next_seq", &self.next_seq)
            .field("offset", &self.segment.offset)
            .finish_non_exhaustive()
    }
}

impl JournalWriter {
    /// Opens (creating if needed) the journal in `dir`, recovering its tail.
    ///
    /// Scans every segment, checks CRCs and sequence continuity, and cuts a torn tail after
    /// saving the cut bytes to `torn-{seq}-{unix_ns}.bin` in `dir`.
    ///
    /// # Errors
    /// [`JournalError::Directory`] if `dir` cannot be created or written,
    /// [`JournalError::Locked`] if another writer has it open, [`JournalError::SequenceGap`],
    /// [`JournalError::CorruptRecord`], [`JournalError::UnsupportedVersion`] or
    /// [`JournalError::BadSegmentHeader`] for a journal that must not be appended to,
    /// [`JournalError::InvalidOptions`], and I/O errors with their path.
    pub fn open(
        dir: impl AsRef<Path>,
        options: JournalOptions,
    ) -> Result<(Self, RecoveryReport), JournalError> {
        options.validate()?;
        let dir = dir.as_ref().to_path_buf();
        let lock = lock_dir(&dir)?;
        let recovered = recover(&dir, &options)?;
        let durable = options.durability != Durability::None;
        // A recovered tail may have been reserved or zero-filled: it is treated as reserved.
        let (file, path, offset, next_seq, fill) = match &recovered.tail {
            Some(tail) => {
                let file = open_rw(&tail.path)?;
                let next = (recovered.report.last_seq + 1).max(tail.header.first_seq);
                (
                    file,
                    tail.path.clone(),
                    tail.end_offset,
                    next,
                    Fill::Reserve,
                )
            }
            None => {
                // The first segment of a journal that syncs is zero-filled here, before the
                // writer starts (~0.4 s for 256 MiB); later ones are prepared ahead.
                let fill = if durable { Fill::Zeros } else { Fill::Reserve };
                let size = options.segment_size_bytes;
                let (file, path) = create_segment(&dir, 1, size, durable, fill)?;
                (file, path, SEGMENT_HEADER_LEN, 1, fill)
            }
        };
        let mut map = map_write(&file, &path, durable)?;
        let file = Arc::new(file);
        let last_seq = next_seq - 1;
        // Starting it makes what recovery found durable: after a process crash it may still
        // sit in the page cache, and durable_seq must start out true.
        let syncer = SyncDriver::start(
            options.durability,
            options.force_fallback,
            Arc::clone(&file),
            &path,
            last_seq,
        )?;
        let prefaulter = Prefaulter::start(
            options.prefault,
            options.prefault_window_bytes,
            map.as_mut_ptr(),
            map.len(),
            offset,
            fill == Fill::Reserve,
        );
        let preparer = durable.then(|| Preparer::new(&dir, options.segment_size_bytes));
        let prepare_at = if durable { map.len() / 2 } else { usize::MAX };
        let writer = Self {
            prefaulter,
            syncer,
            preparer,
            prepare_at,
            segment: ActiveSegment { file, map, offset },
            dir,
            last_time_ns: recovered.report.last_time_ns,
            options,
            next_seq,
            _lock: lock,
        };
        Ok((writer, recovered.report))
    }

    /// Appends one record; copies it into the mapped segment without allocating.
    ///
    /// The record is visible to readers on return; it is durable once
    /// [`durable_seq`](Self::durable_seq) reaches `header.seq`.
    ///
    /// # Errors
    /// [`JournalError::OutOfSequence`] unless `header.seq` is the last seq + 1,
    /// [`JournalError::PayloadTooLarge`], [`JournalError::SyncFailed`] after a failed
    /// background sync, and segment creation errors (disk full) on roll-over.
    #[inline]
    pub fn append(&mut self, header: &RecordHeader, payload: &[u8]) -> Result<(), JournalError> {
        if header.seq != self.next_seq {
            return Err(JournalError::OutOfSequence {
                expected: self.next_seq,
                got: header.seq,
            });
        }
        if payload.len() > self.options.max_payload_bytes {
            return Err(JournalError::PayloadTooLarge {
                len_bytes: payload.len(),
                max_bytes: self.options.max_payload_bytes,
            });
        }
        self.syncer.check()?;
        let framed = framed_len(payload.len());
        if self.segment.offset + framed > self.segment.map.len() {
            self.roll(header.seq)?;
        }
        let offset = self.segment.offset;
        prefetch_for_write(&self.segment.map, offset + PREFETCH_AHEAD_BYTES);
        write_record(
            &mut self.segment.map[offset..offset + framed],
            header,
            payload,
        );
        self.segment.offset = offset + framed;
        self.next_seq += 1;
        self.last_time_ns = header.time_ns;
        self.syncer.note_appended(header.seq, self.segment.offset);
        self.prefaulter.advance(self.segment.offset);
        if self.segment.offset >= self.prepare_at {
            self.prepare_next();
        }
        Ok(())
    }

    /// Starts preparing the segment after this one (a journal that syncs, once the current
    /// segment is half full: early enough to be ready at 256 MiB segments below ~300 MB/s of
    /// records, late enough that a short-lived writer does not write a segment of zeros for
    /// nothing).
    #[cold]
    fn prepare_next(&mut self) {
        self.prepare_at = usize::MAX;
        if let Some(preparer) = &mut self.preparer {
            preparer.start();
        }
    }

    /// Starts a new segment whose first record will be `first_seq`.
    #[cold]
    fn roll(&mut self, first_seq: u64) -> Result<(), JournalError> {
        let durable = self.options.durability != Durability::None;
        let size = self.options.segment_size_bytes;
        let prepared = self.preparer.as_mut().and_then(Preparer::take_ready);
        let (file, path, fill) = match prepared {
            Some((file, tmp)) => {
                let (file, path) =
                    publish_segment(&self.dir, file, &tmp, first_seq, size, durable)?;
                (file, path, Fill::Zeros)
            }
            None => {
                let (file, path) =
                    create_segment(&self.dir, first_seq, size, durable, Fill::Reserve)?;
                (file, path, Fill::Reserve)
            }
        };
        let mut map = map_write(&file, &path, durable)?;
        if self.preparer.is_some() {
            self.prepare_at = map.len() / 2;
        }
        let file = Arc::new(file);
        let for_write = fill == Fill::Reserve;
        self.prefaulter
            .retarget(map.as_mut_ptr(), map.len(), SEGMENT_HEADER_LEN, for_write);
        self.syncer.roll(Arc::clone(&file));
        // The old mapping is unmapped here; its dirty pages stay in the page cache and the
        // syncer still holds the old file to flush them.
        self.segment = ActiveSegment {
            file,
            map,
            offset: SEGMENT_HEADER_LEN,
        };
        Ok(())
    }

    /// Asks the background syncer for one fdatasync covering every record appended so far
    /// (group commit); returns at once with the sequence number that sync will cover.
    ///
    /// # Errors
    /// [`JournalError::SyncFailed`] if an earlier sync failed.
    pub fn request_sync(&self) -> Result<u64, JournalError> {
        self.syncer.request()
    }

    /// Blocks until every record appended so far is durable; returns the durable seq.
    ///
    /// # Errors
    /// [`JournalError::SyncFailed`] if the sync fails.
    pub fn sync_now(&self) -> Result<u64, JournalError> {
        self.syncer.sync_now()
    }

    /// Highest sequence number known to be on stable storage.
    #[inline]
    #[must_use]
    pub fn durable_seq(&self) -> u64 {
        self.syncer.durable_seq()
    }

    /// The mechanism used for syncs (io_uring or the fdatasync fallback).
    #[must_use]
    pub fn sync_backend(&self) -> SyncBackendKind {
        self.syncer.backend()
    }

    /// Sequence number of the last appended record (0 if none).
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Timestamp of the last appended record (0 if none).
    #[must_use]
    pub fn last_time_ns(&self) -> u64 {
        self.last_time_ns
    }

    /// The journal directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Raw fd of the current segment (for diagnostics and benchmarks).
    #[must_use]
    pub fn current_segment_fd(&self) -> i32 {
        self.segment.file.as_raw_fd()
    }
}

/// Creates `dir` if needed and takes its exclusive writer lock.
fn lock_dir(dir: &Path) -> Result<File, JournalError> {
    let dir_err = |source| JournalError::Directory {
        path: dir.into(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(dir_err)?;
    let lock_path = dir.join(LOCK_FILE);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(dir_err)?;
    // SAFETY: flock only takes the fd, which `lock` keeps open for the duration of the call.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(JournalError::Locked {
                path: dir.into(),
                lock: lock_path,
            });
        }
        return Err(JournalError::io("lock", lock_path, e));
    }
    Ok(lock)
}

//! io_uring backend: one `IORING_OP_FSYNC` with the DATASYNC flag per sync.

use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;

use io_uring::{opcode, types, IoUring};

use super::backend::{SyncBackend, SyncBackendKind};

/// Syncs through a small private io_uring.
pub struct UringSync {
    ring: IoUring,
}

impl std::fmt::Debug for UringSync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringSync").finish_non_exhaustive()
    }
}

impl UringSync {
    /// Sets up the ring.
    ///
    /// # Errors
    /// The kernel's refusal: ENOSYS (no io_uring), EPERM (seccomp or
    /// `kernel.io_uring_disabled`), ENOMEM (locked-memory limit).
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            ring: IoUring::new(4)?,
        })
    }
}

impl SyncBackend for UringSync {
    fn kind(&self) -> SyncBackendKind {
        SyncBackendKind::IoUring
    }

    fn sync_data(&mut self, file: &File, len_bytes: Option<u64>) -> io::Result<()> {
        push_fsync(&mut self.ring, file, len_bytes, 1)?;
        wait_one(&mut self.ring)
    }
}

/// Queues one data sync of `file`: its first `len_bytes`, or all of it, tagged `tag`.
pub(crate) fn push_fsync(
    ring: &mut IoUring,
    file: &File,
    len_bytes: Option<u64>,
    tag: u64,
) -> io::Result<()> {
    // A zero length means the whole file to the kernel; so does a range too long for u32.
    let len = len_bytes.and_then(|l| u32::try_from(l).ok()).unwrap_or(0);
    let entry = opcode::Fsync::new(types::Fd(file.as_raw_fd()))
        .flags(types::FsyncFlags::DATASYNC)
        .len(len)
        .build()
        .user_data(tag);
    // SAFETY: the entry references only the fd; every caller keeps `file` open until the
    // completion is reaped. No buffers are involved.
    unsafe { ring.submission().push(&entry) }
        .map_err(|_| io::Error::other("io_uring submission queue full"))
}

/// Submits what is queued and waits for one completion, returning its result.
pub(crate) fn wait_one(ring: &mut IoUring) -> io::Result<()> {
    ring.submit_and_wait(1)?;
    let cqe = ring
        .completion()
        .next()
        .ok_or_else(|| io::Error::other("io_uring returned no completion after waiting"))?;
    if cqe.result() < 0 {
        return Err(io::Error::from_raw_os_error(-cqe.result()));
    }
    Ok(())
}

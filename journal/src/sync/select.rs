//! Choosing the sync backend, with an explained fallback.

use std::io;

use super::backend::SyncBackend;
use super::fdatasync::FdatasyncSync;
use super::uring::UringSync;

/// Returns io_uring where the kernel allows it, `fdatasync` otherwise (or when forced).
///
/// A refused io_uring is logged to stderr with its likely cause.
#[must_use]
pub fn select_backend(force_fallback: bool) -> Box<dyn SyncBackend> {
    if force_fallback {
        return Box::new(FdatasyncSync);
    }
    match UringSync::new() {
        Ok(u) => Box::new(u),
        Err(e) => {
            eprintln!(
                "journal: io_uring refused ({}): {}; falling back to fdatasync",
                errno_name(&e),
                likely_cause(&e)
            );
            Box::new(FdatasyncSync)
        }
    }
}

/// Whether an error from an io_uring sync means "this kernel or sandbox does not support the
/// operation" (safe to retry with fdatasync) rather than "the data may be lost".
pub(crate) fn is_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::EOPNOTSUPP | libc::ENOSYS | libc::EPERM | libc::EACCES)
    )
}

pub(crate) fn errno_name(e: &io::Error) -> &'static str {
    match e.raw_os_error() {
        Some(libc::EPERM) => "EPERM",
        Some(libc::EACCES) => "EACCES",
        Some(libc::ENOSYS) => "ENOSYS",
        Some(libc::ENOMEM) => "ENOMEM",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::EOPNOTSUPP) => "EOPNOTSUPP",
        _ => "error",
    }
}

pub(crate) fn likely_cause(e: &io::Error) -> String {
    let cause = match e.raw_os_error() {
        Some(libc::EPERM | libc::EACCES) => {
            "likely blocked by seccomp (containers) or kernel.io_uring_disabled"
        }
        Some(libc::ENOSYS) => "the kernel was built without io_uring",
        Some(libc::ENOMEM) => "the locked-memory limit (ulimit -l) is too low for the ring",
        Some(libc::EINVAL | libc::EOPNOTSUPP) => "the kernel does not support this operation",
        _ => "unexpected failure",
    };
    format!("{cause} ({e})")
}

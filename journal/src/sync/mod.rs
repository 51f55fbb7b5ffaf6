//! Making appended records durable: sync backends and the background syncer thread.

mod backend;
mod fdatasync;
mod select;
mod syncer;
mod uring;

pub use backend::{SyncBackend, SyncBackendKind};
pub use fdatasync::FdatasyncSync;
pub use select::select_backend;
pub(crate) use syncer::Syncer;
pub use uring::UringSync;

//! Making appended records durable: sync backends, the background syncer thread and the
//! writer-thread io_uring driver.

mod backend;
mod driver;
mod fdatasync;
mod inline;
mod select;
mod syncer;
mod uring;

pub use backend::{SyncBackend, SyncBackendKind};
pub(crate) use driver::SyncDriver;
pub use fdatasync::FdatasyncSync;
pub use select::select_backend;
pub use uring::UringSync;

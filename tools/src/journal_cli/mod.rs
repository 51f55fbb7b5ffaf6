//! The `journal` tool's commands: `dump`, `verify`, `tail`.
//!
//! Payloads are opaque to the journal. [`PayloadDecoder`] is the hook through which the
//! exchange's protocol decoder renders them ([`crate::exchange_decoder::ExchangeDecoder`], the
//! default of `src/bin/journal.rs`); [`HexOnly`] prints them as hex.

mod decoder;
mod dump;
mod filter;
mod format;
mod tail;
#[cfg(test)]
mod test_support;
mod verify;

pub use decoder::{HexOnly, PayloadDecoder};
pub use dump::dump;
pub use filter::RecordFilter;
pub use format::{format_human, format_json};
pub use tail::{tail, TailOptions};
pub use verify::{verify, VerifyOutcome};

/// Errors of the journal tool.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The journal library reported an error.
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    /// Writing the output failed (e.g. a closed pipe).
    #[error("writing output failed: {0}")]
    Output(#[from] std::io::Error),
    /// A command-line argument is invalid (e.g. an unknown instrument symbol).
    #[error("{0}")]
    Usage(String),
}

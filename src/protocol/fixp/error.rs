//! Errors of the FIXP helpers (the state machine itself answers bad input with actions).

use thiserror::Error;

/// Why a FIXP value could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum FixpError {
    /// A session id is empty, longer than 16 bytes, or not printable ASCII.
    #[error("session id of {len} bytes is invalid: 1..={max} printable ASCII bytes required")]
    InvalidSessionId {
        /// Length of the offered id in bytes.
        len: usize,
        /// Maximum length.
        max: usize,
    },
}

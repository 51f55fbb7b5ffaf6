//! FIXP session layer, server side, as a pure state machine: no sockets, no clock. The gateway
//! feeds it decoded messages and the current time and executes the [`Action`]s it returns.
//!
//! Flows: the server's outbound flow is *recoverable* (sequence numbers continue across the
//! connections of a session, and a client may ask for missed messages with RetransmitRequest);
//! the client's flow is *idempotent* (a forward gap announced by Sequence is reported with
//! NotApplied and accepted; going backwards terminates the session).

mod action;
mod client;
mod config;
mod directory;
mod error;
mod server;
mod session_id;
mod signature;

pub use action::{Action, Actions, Reply};
pub use client::{establish_request, negotiate_request};
pub use config::FixpConfig;
pub use directory::{SessionDirectory, SessionEntry, SessionRole};
pub use error::FixpError;
pub use server::{ServerSession, SessionState};
pub use session_id::{session_id_bytes, session_id_str, SESSION_ID_LEN};
pub use signature::{establish_signature, negotiate_signature, verify, Signature};

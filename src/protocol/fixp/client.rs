//! Client-side helpers: signed Negotiate and Establish requests (used by `mm-client`).

use super::error::FixpError;
use super::session_id::session_id_bytes;
use super::signature::{establish_signature, negotiate_signature};
use crate::protocol::codec::{Establish, Negotiate};

/// A Negotiate for `session_id`, signed with `secret`, sent at `now_ns` on the connection
/// identified by `uuid`.
///
/// # Errors
/// [`FixpError::InvalidSessionId`] if the name does not fit the 16-byte SessionID field.
pub fn negotiate_request(
    session_id: &str,
    secret: &str,
    uuid: u64,
    now_ns: u64,
) -> Result<Negotiate, FixpError> {
    Ok(Negotiate {
        session_id: session_id_bytes(session_id)?,
        uuid,
        request_timestamp: now_ns,
        hmac_signature: negotiate_signature(secret.as_bytes(), now_ns, uuid, session_id),
        credentials: Default::default(),
    })
}

/// An Establish for a negotiated connection, signed with `secret`.
///
/// # Errors
/// [`FixpError::InvalidSessionId`] if the name does not fit the 16-byte SessionID field.
pub fn establish_request(
    session_id: &str,
    secret: &str,
    uuid: u64,
    now_ns: u64,
    next_seq_no: u32,
    keepalive_interval_ms: u32,
) -> Result<Establish, FixpError> {
    session_id_bytes(session_id)?;
    let hmac_signature = establish_signature(
        secret.as_bytes(),
        now_ns,
        uuid,
        session_id,
        next_seq_no,
        keepalive_interval_ms,
    );
    Ok(Establish {
        uuid,
        request_timestamp: now_ns,
        next_seq_no,
        keepalive_interval: keepalive_interval_ms,
        hmac_signature,
    })
}

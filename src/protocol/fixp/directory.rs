//! What the session layer needs to know about configured sessions, supplied by the gateway.

/// Rights of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRole {
    /// Order entry and account queries.
    Trading,
    /// Order entry plus the operator's admin messages.
    Admin,
}

/// A configured session as the gateway currently sees it.
#[derive(Debug, Clone, Copy)]
pub struct SessionEntry<'a> {
    /// Shared secret, the HMAC key (UTF-8 bytes of the configured secret).
    pub secret: &'a [u8],
    /// Rights of the session.
    pub role: SessionRole,
    /// Whether another connection currently holds the session.
    pub live: bool,
    /// UUID of the previous connection of the session, if any.
    pub last_uuid: Option<u64>,
    /// Last server sequence number sent to the session (0 if none).
    pub last_outbound_seq_no: u32,
    /// Oldest server sequence number still kept for retransmission (1 if all are kept).
    pub first_retained_seq_no: u32,
}

/// Lookup of sessions by name.
pub trait SessionDirectory {
    /// The session called `session_id`, or `None` if it is not configured.
    fn lookup(&self, session_id: &str) -> Option<SessionEntry<'_>>;
}

//! Limits of the FIXP session layer.

/// Session-layer limits; every bound says what happens when it is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixpConfig {
    /// A Negotiate/Establish whose RequestTimestamp differs from now by more than this is
    /// rejected as stale.
    pub freshness_window_ns: u64,
    /// Smallest KeepaliveInterval an Establish may ask for; below it is rejected.
    pub keepalive_min_ms: u32,
    /// Largest KeepaliveInterval an Establish may ask for; above it is rejected.
    pub keepalive_max_ms: u32,
    /// Inbound silence of this many keepalive intervals terminates the session.
    pub keepalive_lapse_intervals: u32,
    /// A connection not established this long after it opened is closed.
    pub handshake_timeout_ns: u64,
    /// Most messages one RetransmitRequest may ask for; more is rejected.
    pub retransmit_max_msgs: u32,
}

impl Default for FixpConfig {
    fn default() -> Self {
        FixpConfig {
            freshness_window_ns: 5_000_000_000,
            keepalive_min_ms: 100,
            keepalive_max_ms: 60_000,
            keepalive_lapse_intervals: 2,
            handshake_timeout_ns: 10_000_000_000,
            retransmit_max_msgs: 10_000,
        }
    }
}

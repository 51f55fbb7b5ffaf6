//! Gateway limits and the configured sessions. Every buffer and table is bounded here.

use crate::engine::AccountId;
use crate::protocol::fixp::FixpConfig;

/// One configured session: its credentials and the account it trades for.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub name: String,
    pub key: String,
    pub account: AccountId,
    /// May send admin messages.
    pub operator: bool,
    /// Cancel the account's open orders when the session's connection drops.
    pub cancel_on_disconnect: bool,
}

/// Limits of the gateway.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub listen: String,
    pub sessions: Vec<SessionConfig>,
    pub fixp: FixpConfig,
    /// Connections beyond this are accepted and closed at once.
    pub max_connections: usize,
    /// Largest frame accepted; a longer SOFH length terminates the session.
    pub max_frame_bytes: usize,
    /// Per-connection input buffer.
    pub input_buffer_bytes: usize,
    /// Per-connection output buffer; a client that lets it fill is terminated (slow consumer).
    pub output_buffer_bytes: usize,
    /// Application messages per second per connection (token bucket), and the burst.
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
    /// Server messages kept per session for RetransmitRequest, by count and bytes.
    pub outbound_log_messages: usize,
    pub outbound_log_bytes: usize,
    /// Application messages taken into one sequencer batch.
    pub max_batch_messages: usize,
}

impl GatewayConfig {
    /// Defaults sized for a handful of market-maker sessions on loopback.
    pub fn with_sessions(listen: String, sessions: Vec<SessionConfig>) -> GatewayConfig {
        GatewayConfig {
            listen,
            sessions,
            fixp: FixpConfig::default(),
            max_connections: 64,
            max_frame_bytes: 4096,
            input_buffer_bytes: 64 * 1024,
            output_buffer_bytes: 4 * 1024 * 1024,
            rate_limit_per_sec: 200_000,
            rate_limit_burst: 20_000,
            outbound_log_messages: 65_536,
            outbound_log_bytes: 16 * 1024 * 1024,
            max_batch_messages: 1024,
        }
    }
}

//! Order entry over TCP: SOFH-framed SBE messages in FIXP sessions, on mio, in the sequencer's
//! thread. The gateway is passive: the sequencer's loop polls it for inbound application
//! messages and hands it replies; it knows nothing of matching.

mod config;
mod connection;
mod outbound_log;
mod rate_limit;
mod server;
mod sessions;

pub use config::{GatewayConfig, SessionConfig};
pub use connection::ConnStats;
pub use outbound_log::OutboundLog;
pub use rate_limit::RateLimiter;
pub use server::{Gateway, GatewayError, Inbound, InboundBatch};
pub use sessions::{SessionIndex, SessionTable};

//! Errors of the market-data side.

use super::codec::DecodeError;

/// Why bytes are not a valid market-data packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("packet of {len} bytes is truncated")]
    Truncated { len: usize },
    #[error("message at byte {at} has MsgSize {size}, outside the packet")]
    BadMsgSize { at: usize, size: usize },
    #[error("message does not decode: {0}")]
    Decode(DecodeError),
}

/// Why the publisher or the recovery service could not start.
#[derive(Debug, thiserror::Error)]
pub enum MarketDataError {
    #[error("market data socket {what}: {source}")]
    Socket {
        what: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

//! Errors of the client connection.

use exchange::protocol::codec::{EstablishmentRejectCode, NegotiationRejectCode, TerminationCode};
use exchange::protocol::fixp::FixpError;
use exchange::protocol::sofh::SofhError;
use exchange::protocol::{DecodeError, EncodeError};
use thiserror::Error;

/// Why the connection failed or a message could not be sent or received.
#[derive(Debug, Error)]
pub enum ClientError {
    /// TCP connect failed.
    #[error("cannot connect to {addr}: {source} (is the exchange listening there?)")]
    Connect {
        /// Address given.
        addr: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The session name does not fit the SessionID field.
    #[error("invalid session id: {0}")]
    SessionId(#[from] FixpError),
    /// The server refused Negotiate.
    #[error("negotiation rejected: {code:?}: {}", negotiation_hint(*.code))]
    NegotiationRejected {
        /// Reject code from the server.
        code: NegotiationRejectCode,
    },
    /// The server refused Establish.
    #[error("establishment rejected: {code:?}: {}", establishment_hint(*.code))]
    EstablishmentRejected {
        /// Reject code from the server.
        code: EstablishmentRejectCode,
    },
    /// The server answered the handshake with something else.
    #[error("expected {expected} during the handshake, received {received}")]
    UnexpectedHandshakeReply {
        /// Message awaited.
        expected: &'static str,
        /// Message received.
        received: &'static str,
    },
    /// The server terminated the session during the handshake.
    #[error("the server terminated the session during the handshake: {code:?}")]
    TerminatedDuringHandshake {
        /// Termination code.
        code: TerminationCode,
    },
    /// No handshake reply in time.
    #[error("no {expected} within {waited_ms} ms (is this a FIXP order-entry port?)")]
    HandshakeTimeout {
        /// Message awaited.
        expected: &'static str,
        /// How long the client waited.
        waited_ms: u128,
    },
    /// The server closed the TCP connection.
    #[error("the server closed the connection")]
    Closed,
    /// Reading or writing the socket failed.
    #[error("connection I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The byte stream is not SOFH framed SBE.
    #[error("bad frame from the server: {0}")]
    Frame(#[from] SofhError),
    /// A frame did not decode.
    #[error("undecodable message from the server: {0}")]
    Decode(#[from] DecodeError),
    /// A message did not encode (buffer too small: larger than the maximum frame).
    #[error("cannot encode message: {0}")]
    Encode(#[from] EncodeError),
    /// `send` is for application messages; session messages are the client's own business.
    #[error("{name} is a session message; send() only takes application messages")]
    NotApplication {
        /// Message name.
        name: &'static str,
    },
}

fn negotiation_hint(code: NegotiationRejectCode) -> &'static str {
    match code {
        NegotiationRejectCode::Credentials => "the key does not match the session's secret",
        NegotiationRejectCode::UnknownSession => "the server has no session of that name",
        NegotiationRejectCode::DuplicateId => "the session is already connected elsewhere",
        NegotiationRejectCode::StaleTimestamp => {
            "this host's clock differs from the server's by more than the freshness window"
        }
        NegotiationRejectCode::AlreadyNegotiated => "Negotiate was sent twice",
        NegotiationRejectCode::FlowTypeNotSupported => "unsupported flow type",
        NegotiationRejectCode::Unspecified => "no reason given",
    }
}

fn establishment_hint(code: EstablishmentRejectCode) -> &'static str {
    match code {
        EstablishmentRejectCode::Credentials => "the key does not match the session's secret",
        EstablishmentRejectCode::KeepaliveInterval => {
            "the keepalive interval is outside the server's range (100..=60000 ms by default)"
        }
        EstablishmentRejectCode::StaleTimestamp => {
            "this host's clock differs from the server's by more than the freshness window"
        }
        EstablishmentRejectCode::Unnegotiated => "Establish without a matching Negotiate",
        EstablishmentRejectCode::AlreadyEstablished => "Establish was sent twice",
        EstablishmentRejectCode::SessionBlocked => "the session is disabled",
        EstablishmentRejectCode::Unspecified => "no reason given",
    }
}

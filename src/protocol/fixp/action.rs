//! What the session layer asks the gateway to do.

use crate::protocol::codec::{
    EncodeError, EstablishmentAck, EstablishmentReject, NegotiationReject, NegotiationResponse,
    NotApplied, Retransmission, RetransmitReject, Sequence, Terminate,
};
use crate::protocol::Encode;

/// A session message to send to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Negotiation accepted.
    NegotiationResponse(NegotiationResponse),
    /// Negotiation refused.
    NegotiationReject(NegotiationReject),
    /// Establishment accepted.
    EstablishmentAck(EstablishmentAck),
    /// Establishment refused.
    EstablishmentReject(EstablishmentReject),
    /// Heartbeat carrying the server's next sequence number.
    Sequence(Sequence),
    /// The session ends.
    Terminate(Terminate),
    /// Announces the resent messages that follow.
    Retransmission(Retransmission),
    /// A RetransmitRequest was refused.
    RetransmitReject(RetransmitReject),
    /// Client sequence numbers skipped by a Sequence.
    NotApplied(NotApplied),
}

impl Reply {
    /// Encodes the reply (SBE header and body) into `buf`; returns the bytes written.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] if `buf` cannot hold it.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            Reply::NegotiationResponse(m) => m.encode(buf),
            Reply::NegotiationReject(m) => m.encode(buf),
            Reply::EstablishmentAck(m) => m.encode(buf),
            Reply::EstablishmentReject(m) => m.encode(buf),
            Reply::Sequence(m) => m.encode(buf),
            Reply::Terminate(m) => m.encode(buf),
            Reply::Retransmission(m) => m.encode(buf),
            Reply::RetransmitReject(m) => m.encode(buf),
            Reply::NotApplied(m) => m.encode(buf),
        }
    }
}

/// One step for the gateway, executed in the order returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send this session message.
    Send(Reply),
    /// Negotiation succeeded: mark the session live so a second connection is refused, and
    /// remember the UUID as the session's latest.
    Bind {
        /// Wire SessionID.
        session_id: [u8; 16],
        /// UUID of this connection.
        uuid: u64,
    },
    /// Pass the application message just decoded to the next layer with this client
    /// sequence number.
    Deliver {
        /// Client sequence number of the message.
        seq_no: u32,
        /// Its template id.
        template_id: u16,
    },
    /// An admin message arrived on a trading session: answer BusinessMessageReject with
    /// BusinessRejectReason 6 (not authorized) and do not apply it.
    RejectUnauthorized {
        /// Client sequence number of the message.
        seq_no: u32,
        /// Its template id.
        template_id: u16,
    },
    /// Resend server messages `from_seq_no .. from_seq_no + count` from the outbound log,
    /// right after the Retransmission reply that precedes this action.
    Retransmit {
        /// First sequence number to resend.
        from_seq_no: u32,
        /// Number of messages.
        count: u32,
    },
    /// Close the connection after sending what precedes, and mark the session not live.
    Close,
}

/// Most actions one event produces.
pub const ACTIONS_MAX: usize = 3;

/// A short, allocation-free list of actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actions {
    items: [Option<Action>; ACTIONS_MAX],
    len: usize,
}

impl Actions {
    /// No action.
    pub fn none() -> Self {
        Actions::default()
    }

    /// One action.
    pub fn one(a: Action) -> Self {
        let mut out = Actions::default();
        out.push(a);
        out
    }

    /// Two actions, in order.
    pub fn two(a: Action, b: Action) -> Self {
        let mut out = Actions::one(a);
        out.push(b);
        out
    }

    fn push(&mut self, a: Action) {
        debug_assert!(
            self.len < ACTIONS_MAX,
            "no event produces more than {ACTIONS_MAX} actions"
        );
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(a);
            self.len += 1;
        }
    }

    /// The actions, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Action> {
        self.items.iter().flatten()
    }

    /// Number of actions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the list ends the connection.
    pub fn closes(&self) -> bool {
        self.iter().any(|a| matches!(a, Action::Close))
    }
}

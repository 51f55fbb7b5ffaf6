//! Journal record kinds written by the sequencer. The journal itself treats kinds as opaque.

/// What a journal record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum RecordKind {
    /// First record of a journal: the engine fingerprint (u64 LE) of the configuration it was
    /// written with. Replay refuses a journal written with other instruments or limits.
    Genesis = 1,
    /// An SBE application or admin message exactly as received (without the framing header).
    /// `source` is the account the session is bound to; `FLAG_OPERATOR` marks operator sessions
    /// and the bootstrap.
    Message = 2,
    /// Time passed: fires due timers. Empty payload.
    Timer = 3,
    /// Engine digest (u64 LE) after applying every record before this one.
    Digest = 4,
    /// A session of `source` disconnected with cancel-on-disconnect: cancel its orders.
    CancelOnDisconnect = 5,
}

/// Record flag: the message came from an operator session (or the bootstrap).
pub const FLAG_OPERATOR: u16 = 1;

impl RecordKind {
    pub fn from_u16(kind: u16) -> Option<RecordKind> {
        Some(match kind {
            1 => RecordKind::Genesis,
            2 => RecordKind::Message,
            3 => RecordKind::Timer,
            4 => RecordKind::Digest,
            5 => RecordKind::CancelOnDisconnect,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Genesis => "genesis",
            RecordKind::Message => "message",
            RecordKind::Timer => "timer",
            RecordKind::Digest => "digest",
            RecordKind::CancelOnDisconnect => "cancel-on-disconnect",
        }
    }
}

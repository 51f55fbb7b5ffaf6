//! The sequencer: stamps every inbound message with a sequence number and a time, journals it,
//! then applies it to the engine. `core` is the part replay shares; `recovery` rebuilds state
//! from snapshots and the journal; `writer` is the live write path; `runtime` is the loop that
//! drives the gateway and the writer.

pub mod bootstrap;
pub mod clock;
pub mod core;
pub mod record_kind;
pub mod recovery;
pub mod runtime;
pub mod writer;

pub use self::core::{Core, CoreError, Outcome, Prepared};
pub use clock::Clock;
pub use record_kind::{RecordKind, FLAG_OPERATOR};
pub use recovery::{recover, RecoveryOptions, RecoverySummary};
pub use runtime::{session_configs, Idle, Runtime, RuntimeOptions};
pub use writer::{Sequencer, SequencerError, SequencerOptions};

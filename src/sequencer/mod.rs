//! The sequencer: stamps every inbound message with a sequence number and a time, journals it,
//! then applies it to the engine. `core` is the part replay shares; `recovery` rebuilds state
//! from snapshots and the journal; `sequencer` is the live write path.

pub mod bootstrap;
pub mod clock;
pub mod core;
pub mod record_kind;
pub mod recovery;
// `sequencer::sequencer` is the live write path inside the sequencer module (see above).
#[allow(clippy::module_inception)]
pub mod sequencer;

pub use self::core::{Core, CoreError, Outcome};
pub use clock::Clock;
pub use record_kind::{RecordKind, FLAG_OPERATOR};
pub use recovery::{recover, RecoveryOptions, RecoverySummary};
pub use sequencer::{Sequencer, SequencerError, SequencerOptions};

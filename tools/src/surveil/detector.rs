//! The one trait every detector implements, and the context they share.

use super::alert::Alert;
use super::ownership::Ownership;
use super::thresholds::Thresholds;
use crate::tape::Step;
use exchange::engine::InstrumentId;

/// What every detector may read: declared ownership (updated before each step), the
/// thresholds and the instruments.
#[derive(Debug)]
pub struct Context {
    pub ownership: Ownership,
    pub thresholds: Thresholds,
    /// SecurityID of each engine instrument, indexed by `InstrumentId`.
    pub security_ids: Vec<i32>,
}

impl Context {
    /// The SecurityID of an engine instrument (0 if unknown, which the engine never emits).
    #[must_use]
    pub fn security_id(&self, instrument: InstrumentId) -> i32 {
        self.security_ids
            .get(instrument.0 as usize)
            .copied()
            .unwrap_or(0)
    }
}

/// A surveillance detector: sees every record with its events, in journal order, and raises
/// alerts. Detectors are deterministic: they read only the journal (never the wall clock) and
/// iterate only ordered collections when they emit.
pub trait Detector {
    /// Looks at one record and the events it produced.
    fn observe(&mut self, step: &Step<'_>, context: &Context, alerts: &mut Vec<Alert>);
    /// The journal ended: raise what is pending (per-day measures).
    fn finish(&mut self, context: &Context, alerts: &mut Vec<Alert>);
}

//! Command-line settings shared by the benchmarks that run an exchange in-process.

use clap::ValueEnum;
use exchange::sequencer::Idle;
use journal::Durability;

/// Journal durability of the in-process exchange.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DurabilityArg {
    None,
    Async,
    Sync,
}

impl DurabilityArg {
    /// The journal setting (`async` flushes every 5 ms, the server's default).
    pub fn durability(self) -> Durability {
        match self {
            DurabilityArg::None => Durability::None,
            DurabilityArg::Async => Durability::Async { interval_ms: 5 },
            DurabilityArg::Sync => Durability::Sync,
        }
    }
}

/// How the in-process exchange's sequencer waits.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum IdleArg {
    Spin,
    Block,
}

impl IdleArg {
    pub fn idle(self) -> Idle {
        match self {
            IdleArg::Spin => Idle::Spin,
            IdleArg::Block => Idle::Block,
        }
    }
}

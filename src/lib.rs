//! A regulated-grade BTC/ETH exchange core.
//!
//! The data path, top to bottom: `gateway` (FIXP/SBE order entry) → `sequencer` (stamps,
//! journals, applies) → `engine` (deterministic state machine: book, spot, perp, margin, risk,
//! liquidation) → `marketdata` (UDP fan-out). `config` loads the TOML configuration.
//! The engine imports nothing above it. `memory` is the process allocator the binaries install.

pub mod config;
pub mod engine;
pub mod gateway;
pub mod marketdata;
pub mod memory;
pub mod protocol;
pub mod sequencer;

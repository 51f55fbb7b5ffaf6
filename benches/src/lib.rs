//! Benchmark workloads shared by the `engine-bench` and `bench-suite` binaries.
//!
//! - `exchange_core_mix`: exchange-core's single-book mix, measured by `throughput`
//!   (closed loop) and `open_loop` (latency at a fixed rate, and the same loop with no engine
//!   work as the machine's floor).
//! - `shared_stream` + `peers` + `compare`: one stream through our engine, `lobster`,
//!   `orderbook-rs` and a bare array-indexed book (the floor) in the same process.
//! - `report`: the table and the JSON line.
//! - `perp` + `perp_report`: `perp-bench`, mark updates and funding against open positions.
//! - `storm` + `storm_report`: `liquidation-storm`, one 20% mark drop over N leveraged longs.
//! - `perp_venue`: the perpetual venue and clock `perp` and `storm` set up.
//! - `quotes`: `quote-bench`, mass-quote throughput of the engine.

pub mod affinity;
pub mod cli;
pub mod compare;
pub mod exchange_core_mix;
pub mod fixture;
pub mod loadgen;
pub mod loadgen_quotes;
pub mod open_loop;
pub mod peers;
pub mod perp;
pub mod perp_report;
pub mod perp_venue;
pub mod prng;
pub mod quotes;
pub mod report;
pub mod shared_stream;
pub mod sink;
pub mod storm;
pub mod storm_report;
pub mod thread_usage;
pub mod throughput;
pub mod wire;

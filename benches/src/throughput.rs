//! Closed-loop throughput of a generated mix: commands applied back to back.

use std::hint::black_box;
use std::time::Instant;

use crate::exchange_core_mix::MixWorkload;
use crate::sink::FoldSink;

/// Results of the timed runs (the warm-up run excluded).
#[derive(Clone, Debug, Default)]
pub struct Throughput {
    /// Commands per second of each timed run, in run order.
    pub runs_ops_per_sec: Vec<f64>,
    pub median_ops_per_sec: f64,
    pub best_ops_per_sec: f64,
    /// Events the engine emitted per command.
    pub events_per_op: f64,
    /// Heap allocations per command during the timed runs, when a probe was given.
    pub allocs_per_op: Option<f64>,
}

/// Replays `workload` once untimed (warm-up: caches, branch predictors, page faults), then
/// `runs` times timed, each on a fresh engine built before its clock starts.
///
/// `alloc_probe` returns a running count of heap allocations (the binary's counting
/// allocator); it is read just before and just after each timed loop.
pub fn measure(
    workload: &MixWorkload,
    runs: usize,
    alloc_probe: Option<&dyn Fn() -> u64>,
) -> Throughput {
    replay(workload, None);
    let mut result = Throughput::default();
    let mut allocs = 0u64;
    let mut events = 0u64;
    for _ in 0..runs.max(1) {
        let (ops_per_sec, run_events, run_allocs) = replay(workload, alloc_probe);
        result.runs_ops_per_sec.push(ops_per_sec);
        events += run_events;
        allocs += run_allocs;
    }
    let mut sorted = result.runs_ops_per_sec.clone();
    sorted.sort_by(f64::total_cmp);
    result.median_ops_per_sec = sorted[sorted.len() / 2];
    result.best_ops_per_sec = sorted[sorted.len() - 1];
    let commands = (workload.commands.len() * sorted.len()) as f64;
    result.events_per_op = events as f64 / commands;
    result.allocs_per_op = alloc_probe.map(|_| allocs as f64 / commands);
    result
}

/// One run on a fresh engine: (commands per second, events, allocations during the loop).
fn replay(workload: &MixWorkload, alloc_probe: Option<&dyn Fn() -> u64>) -> (f64, u64, u64) {
    let (mut engine, mut stamper) = workload.fresh_engine();
    let mut sink = FoldSink::default();
    let allocs_before = alloc_probe.map_or(0, |probe| probe());
    let start = Instant::now();
    for command in &workload.commands {
        stamper.apply(&mut engine, command, &mut sink);
    }
    let elapsed = start.elapsed();
    let allocs_after = alloc_probe.map_or(0, |probe| probe());
    black_box(sink.checksum);
    let ops_per_sec = workload.commands.len() as f64 / elapsed.as_secs_f64();
    (ops_per_sec, sink.events, allocs_after - allocs_before)
}

//! Open-loop latency: commands are sent on a fixed schedule whatever the engine does, and each
//! command's latency is measured from its planned send time, so a stall delays (and is
//! charged to) every command queued behind it. This corrects for coordinated omission.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::exchange_core_mix::MixWorkload;
use crate::sink::FoldSink;

/// Latency percentiles in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    pub rate_per_sec: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub p9999_ns: u64,
    pub max_ns: u64,
    pub mean_ns: f64,
}

/// Replays `workload` on a fresh engine at `rate_per_sec` commands per second.
///
/// Command `i` is planned at `t_i = start + i / rate`; the loop busy-waits until `t_i`, applies
/// the command and records `completion − t_i`. The timed loop records into a histogram sized
/// before it starts (1 ns to 60 s, 3 significant digits), so it does not allocate.
pub fn measure(workload: &MixWorkload, rate_per_sec: u64) -> Latency {
    let mut histogram =
        Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let (mut engine, mut stamper) = workload.fresh_engine();
    let mut sink = FoldSink::default();
    let interval_ns = 1_000_000_000 / rate_per_sec.max(1);
    let start = Instant::now() + Duration::from_micros(100);
    for (i, command) in workload.commands.iter().enumerate() {
        let planned = start + Duration::from_nanos(i as u64 * interval_ns);
        while Instant::now() < planned {
            std::hint::spin_loop();
        }
        stamper.apply(&mut engine, command, &mut sink);
        let latency_ns = planned.elapsed().as_nanos() as u64;
        histogram.saturating_record(latency_ns.max(1));
    }
    black_box(sink.checksum);
    Latency {
        rate_per_sec,
        p50_ns: histogram.value_at_quantile(0.50),
        p99_ns: histogram.value_at_quantile(0.99),
        p9999_ns: histogram.value_at_quantile(0.9999),
        max_ns: histogram.max(),
        mean_ns: histogram.mean(),
    }
}

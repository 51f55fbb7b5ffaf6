//! Open-loop latency: commands are sent on a fixed schedule whatever the engine does, and each
//! command's latency is measured from its planned send time, so a stall delays (and is
//! charged to) every command queued behind it. This corrects for coordinated omission.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::exchange_core_mix::MixWorkload;
use crate::sink::FoldSink;

/// Percentiles of one distribution, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Percentiles {
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub p9999_ns: u64,
    pub max_ns: u64,
    pub mean_ns: f64,
}

impl Percentiles {
    /// The percentiles of `histogram`.
    pub fn of(histogram: &Histogram<u64>) -> Percentiles {
        Percentiles {
            p50_ns: histogram.value_at_quantile(0.50),
            p99_ns: histogram.value_at_quantile(0.99),
            p9999_ns: histogram.value_at_quantile(0.9999),
            max_ns: histogram.max(),
            mean_ns: histogram.mean(),
        }
    }
}

/// Open-loop results.
#[derive(Clone, Copy, Debug, Default)]
pub struct Latency {
    pub rate_per_sec: u64,
    /// Completion − planned send time: what a client would see (includes queueing).
    pub response: Percentiles,
    /// Completion − actual start of `apply`: the engine's own service time, without the wait
    /// behind earlier commands. When `response` is far above `service`, the time went to
    /// stalls of the thread (preemption, interrupts), not to the command in hand.
    pub service: Percentiles,
    /// Commands that started later than their planned time (the loop was behind).
    pub late_commands: u64,
}

/// Replays `workload` on a fresh engine at `rate_per_sec` commands per second.
///
/// Command `i` is planned at `t_i = start + i / rate`; the loop busy-waits until `t_i`, applies
/// the command and records `completion − t_i`. The histograms are sized before the loop
/// starts (1 ns to 60 s, 3 significant digits), so the timed loop does not allocate.
pub fn measure(workload: &MixWorkload, rate_per_sec: u64) -> Latency {
    let new_histogram =
        || Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let (mut response, mut service) = (new_histogram(), new_histogram());
    let (mut engine, mut stamper) = workload.fresh_engine();
    let mut sink = FoldSink::default();
    let interval_ns = 1_000_000_000 / rate_per_sec.max(1);
    let mut late_commands = 0u64;
    let start = Instant::now() + Duration::from_micros(100);
    for (i, command) in workload.commands.iter().enumerate() {
        let planned = start + Duration::from_nanos(i as u64 * interval_ns);
        let mut began = Instant::now();
        if began >= planned {
            late_commands += 1;
        }
        while began < planned {
            std::hint::spin_loop();
            began = Instant::now();
        }
        stamper.apply(&mut engine, command, &mut sink);
        let done = Instant::now();
        let response_ns = done.duration_since(planned).as_nanos() as u64;
        let service_ns = done.duration_since(began).as_nanos() as u64;
        response.saturating_record(response_ns.max(1));
        service.saturating_record(service_ns.max(1));
    }
    black_box(sink.checksum);
    Latency {
        rate_per_sec,
        response: Percentiles::of(&response),
        service: Percentiles::of(&service),
        late_commands,
    }
}

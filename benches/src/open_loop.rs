//! Open-loop latency: commands are sent on a fixed schedule whatever the engine does, and each
//! command's latency is measured from its planned send time, so a stall delays (and is
//! charged to) every command queued behind it. This corrects for coordinated omission.
//!
//! The same schedule also runs with no engine work, twice: empty, and touching memory as the
//! engine does. On a shared machine the tail of the loop is mostly the machine's own stalls;
//! the floors measure those in the same run, interleaved with the engine's loop in segments so
//! that all three see the machine in the same minutes, and the engine's share of the tail is
//! what lies above them.

use std::hint::black_box;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::exchange_core_mix::MixWorkload;
use crate::prng::SplitMix64;
use crate::sink::FoldSink;
use crate::thread_usage::ThreadUsage;

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
    /// What the guest kernel did to the thread during the loop (see `thread_usage`): every
    /// command planned during a preemption or a fault starts late.
    pub usage: ThreadUsage,
}

/// The engine's open loop and its two floors, measured interleaved (see `measure`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Measured {
    pub engine: Latency,
    /// Each call only passes its command through `black_box`.
    pub floor: Latency,
    /// Each call makes `MEMORY_FLOOR_READS` random reads over `MEMORY_FLOOR_BYTES`.
    pub memory_floor: Latency,
}

/// Segments each loop's schedule is split into; the three loops take turns segment by segment.
pub const SEGMENTS: usize = 12;

/// Bytes the memory floor reads across: several times the engine's state in the mix, so that
/// its reads miss the caches and the TLB as the engine's do.
pub const MEMORY_FLOOR_BYTES: usize = 16 << 20;

/// Random reads per call of the memory floor: about as many distinct cache lines as an amend
/// touches (order, neighbours, levels, account, indexes).
pub const MEMORY_FLOOR_READS: usize = 8;

/// Replays `workload` on a fresh engine at `rate_per_sec` commands per second, and runs the
/// same schedule twice more without the engine, as floors.
///
/// Command `i` is planned at `t_i = start + i / rate`; the loop busy-waits until `t_i`, applies
/// the command and records `completion − t_i` (see `OpenLoop`). The floors run the same calls
/// at the same rate on the same thread:
/// - the empty floor does no work: it records the loop's own cost and every stall the machine
///   imposes (timer interrupts, preemption by the hypervisor or other work), the part of the
///   tail no engine could avoid here;
/// - the memory floor makes `MEMORY_FLOOR_READS` random reads over `MEMORY_FLOOR_BYTES` per
///   call (the buffer written once before): on this VM the tail grows with the memory a loop
///   touches, because caches and translations are refilled after every interruption, so this
///   floor shows what the engine's memory pattern, without its work, gets from the machine.
///
/// The schedule is cut into `SEGMENTS` segments, run in turn by the engine, the empty floor
/// and the memory floor, so that a quiet or a noisy minute of the machine falls on all three.
pub fn measure(workload: &MixWorkload, rate_per_sec: u64) -> Measured {
    let (mut engine, mut stamper) = workload.fresh_engine();
    let mut sink = FoldSink::default();
    let mut memory = vec![0u8; MEMORY_FLOOR_BYTES];
    for (i, page) in memory.chunks_mut(4096).enumerate() {
        page[0] = i as u8;
    }
    let mut rng = SplitMix64::new(0x00F1_0012);
    let mut sum = 0u64;
    let commands = &workload.commands;
    let [mut engine_loop, mut floor_loop, mut memory_loop] =
        [(); 3].map(|_| OpenLoop::new(rate_per_sec));
    for segment in 0..SEGMENTS {
        let calls = segment * commands.len() / SEGMENTS..(segment + 1) * commands.len() / SEGMENTS;
        engine_loop.run(calls.clone(), |i| {
            stamper.apply(&mut engine, &commands[i], &mut sink);
        });
        floor_loop.run(calls.clone(), |i| {
            black_box(&commands[i]);
        });
        memory_loop.run(calls, |_| {
            for _ in 0..MEMORY_FLOOR_READS {
                let at = rng.below(MEMORY_FLOOR_BYTES as u64) as usize;
                sum = sum.wrapping_add(u64::from(memory[at]));
            }
        });
    }
    black_box((sink.checksum, sum));
    Measured {
        engine: engine_loop.latency(),
        floor: floor_loop.latency(),
        memory_floor: memory_loop.latency(),
    }
}

/// One open loop's measurements, accumulated over the segments it runs.
pub struct OpenLoop {
    rate_per_sec: u64,
    interval_ns: u64,
    response: Histogram<u64>,
    service: Histogram<u64>,
    late_commands: u64,
    usage: ThreadUsage,
}

impl OpenLoop {
    /// A loop at `rate_per_sec` calls per second with empty histograms (1 ns to 60 s, 3
    /// significant digits), sized and written here so that `run` neither allocates nor faults
    /// in their pages.
    pub fn new(rate_per_sec: u64) -> OpenLoop {
        let new_histogram = || {
            let mut histogram =
                Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
            // Zeroing writes every counter: the allocator's zeroed pages are faulted in here.
            histogram.reset();
            histogram
        };
        OpenLoop {
            rate_per_sec,
            interval_ns: 1_000_000_000 / rate_per_sec.max(1),
            response: new_histogram(),
            service: new_histogram(),
            late_commands: 0,
            usage: ThreadUsage::default(),
        }
    }

    /// Calls `command(i)` for each `i` of `calls` on a fixed schedule, whatever each call
    /// costs, and records the latency of each from its planned time.
    ///
    /// The segment's `k`-th call is planned at `t_k = start + k / rate` (`start` 100 µs from
    /// now, so time spent between segments is charged to no call); the loop busy-waits until
    /// `t_k`, calls `command(i)` and records `completion − t_k` (response) and
    /// `completion − actual start` (service). A call that starts late counts in
    /// `late_commands`.
    pub fn run(&mut self, calls: std::ops::Range<usize>, mut command: impl FnMut(usize)) {
        let usage_before = ThreadUsage::now();
        let start = Instant::now() + Duration::from_micros(100);
        for (k, i) in calls.enumerate() {
            let planned = start + Duration::from_nanos(k as u64 * self.interval_ns);
            let mut began = Instant::now();
            if began >= planned {
                self.late_commands += 1;
            }
            while began < planned {
                std::hint::spin_loop();
                began = Instant::now();
            }
            command(i);
            let done = Instant::now();
            let response_ns = done.duration_since(planned).as_nanos() as u64;
            let service_ns = done.duration_since(began).as_nanos() as u64;
            self.response.saturating_record(response_ns.max(1));
            self.service.saturating_record(service_ns.max(1));
        }
        self.usage = self.usage.plus(ThreadUsage::now().since(usage_before));
    }

    /// Everything measured so far.
    pub fn latency(&self) -> Latency {
        Latency {
            rate_per_sec: self.rate_per_sec,
            response: Percentiles::of(&self.response),
            service: Percentiles::of(&self.service),
            late_commands: self.late_commands,
            usage: self.usage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One segment of `count` calls: what the floors and the engine each run.
    fn run_schedule(count: usize, rate_per_sec: u64, command: impl FnMut(usize)) -> Latency {
        let mut open_loop = OpenLoop::new(rate_per_sec);
        open_loop.run(0..count, command);
        open_loop.latency()
    }

    #[test]
    fn run_schedule_calls_every_command_once_in_order() {
        let mut seen = Vec::with_capacity(1_000);
        let latency = run_schedule(1_000, 10_000_000, |i| seen.push(i));
        assert_eq!(seen, (0..1_000).collect::<Vec<_>>());
        assert_eq!(latency.rate_per_sec, 10_000_000);
        assert!(latency.response.max_ns >= latency.response.p50_ns);
    }

    /// Latency is charged from the planned time, so a call that stalls makes the calls planned
    /// during the stall late, and they count as such.
    #[test]
    fn a_stalled_command_makes_the_ones_planned_behind_it_late() {
        let latency = run_schedule(20, 1_000_000, |i| {
            if i == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        assert!(latency.late_commands >= 19, "{}", latency.late_commands);
        assert!(latency.response.max_ns >= 2_000_000);
    }

    /// Each segment restarts the schedule: a pause between segments makes no call late.
    #[test]
    fn time_between_segments_is_charged_to_no_call() {
        let mut open_loop = OpenLoop::new(1_000_000);
        let mut seen = Vec::with_capacity(100);
        open_loop.run(0..50, |i| seen.push(i));
        std::thread::sleep(Duration::from_millis(5));
        open_loop.run(50..100, |i| seen.push(i));
        let latency = open_loop.latency();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert!(
            latency.response.max_ns < 5_000_000,
            "{:?}",
            latency.response
        );
    }
}

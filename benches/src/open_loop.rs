//! Open-loop latency: commands are sent on a fixed schedule whatever the engine does, and each
//! command's latency is measured from its planned send time, so a stall delays (and is
//! charged to) every command queued behind it. This corrects for coordinated omission.
//!
//! The same schedule also runs with no engine work (`measure_floor`): on a shared machine the
//! tail of the loop is mostly the machine's own stalls, and the floor measures those in the same
//! run, so the engine's share of the tail is what lies above it.

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

/// Replays `workload` on a fresh engine at `rate_per_sec` commands per second.
///
/// Command `i` is planned at `t_i = start + i / rate`; the loop busy-waits until `t_i`, applies
/// the command and records `completion − t_i` (see `run_schedule`).
pub fn measure(workload: &MixWorkload, rate_per_sec: u64) -> Latency {
    let (mut engine, mut stamper) = workload.fresh_engine();
    let mut sink = FoldSink::default();
    let commands = &workload.commands;
    let latency = run_schedule(commands.len(), rate_per_sec, |i| {
        stamper.apply(&mut engine, &commands[i], &mut sink);
    });
    black_box(sink.checksum);
    latency
}

/// The floor of `measure`: the same schedule (same commands, rate, thread and clock reads) with
/// no engine work, each command only passed through `black_box`.
///
/// What it records is the loop's own cost and every stall of the thread that the machine
/// imposes (timer interrupts, preemption by the hypervisor or by other work): the part of
/// `measure`'s tail that no engine could avoid on this machine. Run it right after `measure`,
/// so both see the same state of the machine.
pub fn measure_floor(workload: &MixWorkload, rate_per_sec: u64) -> Latency {
    let commands = &workload.commands;
    run_schedule(commands.len(), rate_per_sec, |i| {
        black_box(&commands[i]);
    })
}

/// Bytes the memory floor reads across: several times the engine's state in the mix, so that
/// its reads miss the caches and the TLB as the engine's do.
pub const MEMORY_FLOOR_BYTES: usize = 16 << 20;

/// Random reads per call of the memory floor: about as many distinct cache lines as an amend
/// touches (order, neighbours, levels, account, indexes).
pub const MEMORY_FLOOR_READS: usize = 8;

/// A second floor of `measure`: the same schedule, each call making `MEMORY_FLOOR_READS`
/// random reads over a buffer of `MEMORY_FLOOR_BYTES` (written once before the loop), and no
/// engine work.
///
/// On this VM the open-loop tail grows with the memory a loop touches, engine or not: after
/// every interruption the caches and translations have to be refilled, and calls planned
/// meanwhile are late. This floor shows what a loop with the engine's memory pattern, but none
/// of its work, gets from the machine in the same run.
pub fn measure_memory_floor(count: usize, rate_per_sec: u64) -> Latency {
    let mut memory = vec![0u8; MEMORY_FLOOR_BYTES];
    for (i, page) in memory.chunks_mut(4096).enumerate() {
        page[0] = i as u8;
    }
    let mut rng = SplitMix64::new(0x00F1_0012);
    let mut sum = 0u64;
    let latency = run_schedule(count, rate_per_sec, |_| {
        for _ in 0..MEMORY_FLOOR_READS {
            let at = rng.below(MEMORY_FLOOR_BYTES as u64) as usize;
            sum = sum.wrapping_add(u64::from(memory[at]));
        }
    });
    black_box(sum);
    latency
}

/// Calls `command(i)` for `i` in `0..count` on a fixed schedule of `rate_per_sec` calls per
/// second, whatever each call costs, and records the latency of each from its planned time.
///
/// Call `i` is planned at `t_i = start + i / rate` (`start` 100 µs from now); the loop
/// busy-waits until `t_i`, calls `command(i)` and records `completion − t_i` (response) and
/// `completion − actual start` (service). A call that starts late counts in `late_commands`.
/// The histograms are sized before the loop starts (1 ns to 60 s, 3 significant digits), and
/// written once, so the timed loop neither allocates nor faults in their pages.
pub fn run_schedule(count: usize, rate_per_sec: u64, mut command: impl FnMut(usize)) -> Latency {
    let new_histogram = || {
        let mut histogram =
            Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
        // Zeroing writes every counter: the allocator's zeroed pages are faulted in here.
        histogram.reset();
        histogram
    };
    let (mut response, mut service) = (new_histogram(), new_histogram());
    let interval_ns = 1_000_000_000 / rate_per_sec.max(1);
    let mut late_commands = 0u64;
    let usage_before = ThreadUsage::now();
    let start = Instant::now() + Duration::from_micros(100);
    for i in 0..count {
        let planned = start + Duration::from_nanos(i as u64 * interval_ns);
        let mut began = Instant::now();
        if began >= planned {
            late_commands += 1;
        }
        while began < planned {
            std::hint::spin_loop();
            began = Instant::now();
        }
        command(i);
        let done = Instant::now();
        let response_ns = done.duration_since(planned).as_nanos() as u64;
        let service_ns = done.duration_since(began).as_nanos() as u64;
        response.saturating_record(response_ns.max(1));
        service.saturating_record(service_ns.max(1));
    }
    Latency {
        rate_per_sec,
        response: Percentiles::of(&response),
        service: Percentiles::of(&service),
        late_commands,
        usage: ThreadUsage::now().since(usage_before),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

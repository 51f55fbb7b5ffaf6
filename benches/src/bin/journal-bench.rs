//! Journal benchmark: append rate against raw `pwrite` of the same bytes, group-commit durable
//! rate, fdatasync latency and durable-ack latency, all measured in one run.
//!
//! The append rate is measured for each prefault strategy so the library's default choice
//! stays justified by numbers (see `journal::Prefault`).

use std::collections::VecDeque;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use journal::{Durability, JournalOptions, JournalWriter, Prefault, RecordHeader};

const PAYLOAD_BYTES: usize = 64;

/// Measures journal append and durability performance.
#[derive(Parser, Debug)]
#[command(name = "journal-bench", version)]
struct Args {
    /// Directory for the benchmark's files (default: a fresh one under /tmp, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Short run (under ~5 s).
    #[arg(long)]
    quick: bool,
    /// Print one JSON line instead of a table.
    #[arg(long)]
    json: bool,
    /// Records per append measurement (default 20M, 4M with --quick).
    #[arg(long)]
    records: Option<u64>,
    /// Segment size in MiB.
    #[arg(long, default_value_t = 256)]
    segment_mib: u64,
    /// Seconds of saturated group-commit appends (default 4, 1 with --quick).
    #[arg(long)]
    sync_secs: Option<f64>,
    /// Most records appended but not yet durable before the sync-mode writer waits.
    #[arg(long, default_value_t = 65_536)]
    sync_inflight: u64,
    /// Records in flight in the durable-ack latency phase (default: two batches, so a batch
    /// waits for at most the sync in progress and its own).
    #[arg(long)]
    ack_inflight: Option<u64>,
    /// Records per batch between `request_sync` calls in sync mode.
    #[arg(long, default_value_t = 64)]
    sync_batch: u64,
    /// Sync with fdatasync on the syncer thread instead of io_uring.
    #[arg(long)]
    sync_fallback: bool,
    /// Prefault window ahead of the write head, in KiB.
    #[arg(long, default_value_t = 8192)]
    prefault_window_kib: usize,
    /// Only measure appends with this prefault strategy (off, inline, thread); for profiling.
    #[arg(long)]
    only: Option<String>,
    /// Whole measurements, one after another; every figure reported is the median over them
    /// (ratios are taken within each run first), and the JSON also lists each run's values.
    /// On this VM a single run's append rate swings 2-3x with how fast the host hands out
    /// memory, so comparisons against the targets take the median of several.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
}

impl Args {
    /// Records in flight in the durable-ack phase.
    fn ack_inflight(&self) -> u64 {
        self.ack_inflight.unwrap_or(2 * self.sync_batch)
    }
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("journal-bench: {e}");
        std::process::exit(1);
    }
}

struct Outcome {
    append_off: f64,
    append_inline: f64,
    append_thread: f64,
    pwrite: f64,
    /// Fresh page-cache pages the kernel hands out, as records/s: the floor under appends.
    page_floor: PageFloor,
    /// Group commit at saturation (throughput).
    sync: SyncOutcome,
    /// Group commit with few records in flight (ack latency).
    ack: SyncOutcome,
    fsync_p50_us: f64,
    fsync_p99_us: f64,
}

fn run(args: &Args) -> Result<(), String> {
    let only = match args.only.as_deref() {
        None => None,
        Some(mode @ "off") => Some((Prefault::Off, mode)),
        Some(mode @ "inline") => Some((Prefault::Inline, mode)),
        Some(mode @ "thread") => Some((Prefault::Thread, mode)),
        Some(other) => return Err(format!("--only expects off, inline or thread, got {other}")),
    };
    let (base, remove_after) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("journal-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&base).map_err(|e| format!("create {}: {e}", base.display()))?;
    let records = args
        .records
        .unwrap_or(if args.quick { 4_000_000 } else { 20_000_000 });
    if let Some((prefault, mode)) = only {
        let rate = append_rate(args, &base.join("warmup"), records, prefault)
            .and_then(|_| append_rate(args, &base.join("only"), records, prefault));
        if remove_after {
            let _ = std::fs::remove_dir_all(&base);
        }
        println!("append, prefault {mode}: {:.0} rec/s", rate?);
        return Ok(());
    }
    let result: Result<Vec<Outcome>, String> = (0..args.runs)
        .map(|_| measure_all(args, &base, records))
        .collect();
    if remove_after {
        let _ = std::fs::remove_dir_all(&base);
    }
    let runs = result?;
    let backend = runs[0].sync.backend;
    let figures: Vec<Vec<f64>> = FIGURES
        .iter()
        .map(|f| runs.iter().map(|o| (f.value)(o)).collect())
        .collect();
    if args.json {
        print_json(args, records, backend, &figures);
    } else {
        print_table(args, records, backend, &figures);
    }
    Ok(())
}

fn measure_all(args: &Args, base: &Path, records: u64) -> Result<Outcome, String> {
    let seg = args.segment_mib << 20;
    // Warm-up, untimed: on this VM the first touch of fresh guest memory (page-cache pages the
    // kernel must zero) is several times slower than steady state, which made single runs
    // swing between 5M and 30M rec/s. One pass of the same size lets every mode below run on
    // recycled page-cache memory, as a long-running writer does.
    append_rate(args, &base.join("warmup"), records, Prefault::Thread)?;
    let append_off = append_rate(args, &base.join("off"), records, Prefault::Off)?;
    let append_inline = append_rate(args, &base.join("inline"), records, Prefault::Inline)?;
    let append_thread = append_rate(args, &base.join("thread"), records, Prefault::Thread)?;
    let page_floor = PageFloor {
        one_thread: page_floor_rate(&base.join("floor.bin"), records, 1)?,
        two_threads: page_floor_rate(&base.join("floor.bin"), records, 2)?,
    };
    let pwrite = pwrite_rate(&base.join("pwrite.bin"), records)?;
    let fsync_iters = if args.quick { 300 } else { 2000 };
    let (fsync_p50_us, fsync_p99_us) = fdatasync_latency(&base.join("fsync.bin"), fsync_iters)?;
    let secs = args.sync_secs.unwrap_or(if args.quick { 1.0 } else { 4.0 });
    let run_for = Duration::from_secs_f64(secs);
    let sync = sync_rate(args, &base.join("sync"), seg, args.sync_inflight, run_for)?;
    let ack = sync_rate(args, &base.join("ack"), seg, args.ack_inflight(), run_for)?;
    Ok(Outcome {
        ack,
        append_off,
        append_inline,
        append_thread,
        pwrite,
        page_floor,
        sync,
        fsync_p50_us,
        fsync_p99_us,
    })
}

fn header(seq: u64) -> RecordHeader {
    RecordHeader {
        seq,
        time_ns: seq,
        kind: 1,
        flags: 0,
        source: 7,
    }
}

/// Appends `records` 64-byte records with durability none; returns records/s.
fn append_rate(args: &Args, dir: &Path, records: u64, prefault: Prefault) -> Result<f64, String> {
    let _ = std::fs::remove_dir_all(dir);
    let opts = JournalOptions {
        segment_size_bytes: args.segment_mib << 20,
        durability: Durability::None,
        prefault,
        prefault_window_bytes: args.prefault_window_kib << 10,
        ..JournalOptions::default()
    };
    let (mut w, _) = JournalWriter::open(dir, opts).map_err(|e| e.to_string())?;
    let payload = [0x5Au8; PAYLOAD_BYTES];
    let start = Instant::now();
    for seq in 1..=records {
        w.append(&header(seq), &payload)
            .map_err(|e| e.to_string())?;
    }
    let elapsed = start.elapsed();
    drop(w);
    // Removing the files drops their dirty pages instead of writing them back.
    let _ = std::fs::remove_dir_all(dir);
    Ok(records as f64 / elapsed.as_secs_f64())
}

/// Writes the same framed bytes with 1 MiB `pwrite` calls; returns records/s equivalent.
fn pwrite_rate(path: &Path, records: u64) -> Result<f64, String> {
    let framed = journal::record::framed_len(PAYLOAD_BYTES) as u64;
    let total = records * framed;
    let buf = vec![0x5Au8; 1 << 20];
    let file = File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let start = Instant::now();
    let mut off = 0u64;
    while off < total {
        let n = (total - off).min(buf.len() as u64) as usize;
        file.write_all_at(&buf[..n], off)
            .map_err(|e| format!("pwrite: {e}"))?;
        off += n as u64;
    }
    let elapsed = start.elapsed();
    drop(file);
    let _ = std::fs::remove_file(path);
    Ok(records as f64 / elapsed.as_secs_f64())
}

/// How fast the kernel provides fresh page-cache pages for a shared file mapping, in records/s
/// of the bytes appended. Every append lands on such a page: the writer faults it in, or the
/// prefault thread does ahead of it, so no prefault strategy can append faster than both
/// threads together can be given pages.
struct PageFloor {
    one_thread: f64,
    two_threads: f64,
}

impl PageFloor {
    fn best(&self) -> f64 {
        self.one_thread.max(self.two_threads)
    }
}

/// Populates for writing (`MADV_POPULATE_WRITE`, 1 MiB per call, as the prefaulter does) a
/// fresh reserved file of the bytes `records` appends take, split over `threads` threads;
/// returns records/s equivalent. Nothing is written: this is only the kernel's share.
fn page_floor_rate(path: &Path, records: u64, threads: usize) -> Result<f64, String> {
    let framed = journal::record::framed_len(PAYLOAD_BYTES);
    let chunk = 1usize << 20;
    let total = (records as usize * framed).div_ceil(chunk) * chunk;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(|e| format!("create {}: {e}", path.display()))?;
    let len = libc::off_t::try_from(total).map_err(|_| "floor file too large".to_string())?;
    // SAFETY: fallocate reads only its integer arguments; the descriptor is open for writing.
    if unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len) } != 0 {
        return Err(format!("fallocate: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: a fresh shared mapping of a file we own, unmapped below before the file closes.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            total,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(format!("mmap: {}", std::io::Error::last_os_error()));
    }
    let base_addr = base as usize;
    let chunks = total / chunk;
    let start = Instant::now();
    let outcome: Result<(), String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    for c in (t..chunks).step_by(threads) {
                        let at = (base_addr + c * chunk) as *mut libc::c_void;
                        // SAFETY: the range lies inside the mapping made above.
                        if unsafe { libc::madvise(at, chunk, libc::MADV_POPULATE_WRITE) } != 0 {
                            let e = std::io::Error::last_os_error();
                            return Err(format!("madvise(MADV_POPULATE_WRITE): {e}"));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().map_err(|_| "floor thread panicked".to_string())?)
    });
    let elapsed = start.elapsed();
    // SAFETY: unmaps exactly the mapping made above; nothing refers to it any more.
    unsafe { libc::munmap(base, total) };
    drop(file);
    let _ = std::fs::remove_file(path);
    outcome?;
    Ok(records as f64 / elapsed.as_secs_f64())
}

/// pwrite of one batch (64 records' worth) then fdatasync, `iters` times; p50/p99 in µs.
fn fdatasync_latency(path: &Path, iters: usize) -> Result<(f64, f64), String> {
    let file = File::create(path).map_err(|e| format!("create {}: {e}", path.display()))?;
    let chunk = vec![0xA5u8; 64 * journal::record::framed_len(PAYLOAD_BYTES)];
    let mut hist = new_hist()?;
    let mut off = 0u64;
    for _ in 0..iters {
        file.write_all_at(&chunk, off)
            .map_err(|e| format!("pwrite: {e}"))?;
        off += chunk.len() as u64;
        let t = Instant::now();
        file.sync_data().map_err(|e| format!("fdatasync: {e}"))?;
        record_ns(&mut hist, t.elapsed());
    }
    let _ = std::fs::remove_file(path);
    Ok((quantile_us(&hist, 0.5), quantile_us(&hist, 0.99)))
}

struct SyncOutcome {
    durable_per_sec: f64,
    ack_p50_us: f64,
    ack_p99_us: f64,
    backend: &'static str,
    durable_records: u64,
}

/// Group commit: append batches, request a sync after each, keep at most `inflight` records
/// not yet durable; ack latency is append-of-batch to `durable_seq` covering it. A large
/// `inflight` saturates the syncer (its acks then measure queueing); a small one measures
/// what one batch waits for.
fn sync_rate(
    args: &Args,
    dir: &Path,
    seg: u64,
    inflight: u64,
    run_for: Duration,
) -> Result<SyncOutcome, String> {
    let _ = std::fs::remove_dir_all(dir);
    let opts = JournalOptions {
        segment_size_bytes: seg,
        durability: Durability::Sync,
        force_fallback: args.sync_fallback,
        prefault_window_bytes: args.prefault_window_kib << 10,
        ..JournalOptions::default()
    };
    let (mut w, _) = JournalWriter::open(dir, opts).map_err(|e| e.to_string())?;
    let payload = [0x5Au8; PAYLOAD_BYTES];
    let mut hist = new_hist()?;
    let mut pending: VecDeque<(u64, Instant)> = VecDeque::with_capacity(1 << 16);
    let mut seq = 0u64;
    let start = Instant::now();
    while start.elapsed() < run_for {
        while seq - w.durable_seq() >= inflight {
            std::hint::spin_loop();
            drain_acks(&mut pending, w.durable_seq(), &mut hist);
        }
        for _ in 0..args.sync_batch {
            seq += 1;
            w.append(&header(seq), &payload)
                .map_err(|e| e.to_string())?;
        }
        pending.push_back((seq, Instant::now()));
        w.request_sync().map_err(|e| e.to_string())?;
        drain_acks(&mut pending, w.durable_seq(), &mut hist);
    }
    let durable = w.sync_now().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    drain_acks(&mut pending, durable, &mut hist);
    let backend = w.sync_backend().name();
    drop(w);
    let _ = std::fs::remove_dir_all(dir);
    Ok(SyncOutcome {
        durable_per_sec: durable as f64 / elapsed.as_secs_f64(),
        ack_p50_us: quantile_us(&hist, 0.5),
        ack_p99_us: quantile_us(&hist, 0.99),
        backend,
        durable_records: durable,
    })
}

fn drain_acks(pending: &mut VecDeque<(u64, Instant)>, durable: u64, hist: &mut Histogram<u64>) {
    while let Some(&(seq, at)) = pending.front() {
        if seq > durable {
            break;
        }
        record_ns(hist, at.elapsed());
        pending.pop_front();
    }
}

fn new_hist() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| e.to_string())
}

fn record_ns(hist: &mut Histogram<u64>, d: Duration) {
    let ns = u64::try_from(d.as_nanos())
        .unwrap_or(u64::MAX)
        .clamp(1, hist.high());
    // The value was clamped into the histogram's range, so recording cannot fail.
    let _ = hist.record(ns);
}

fn quantile_us(hist: &Histogram<u64>, q: f64) -> f64 {
    hist.value_at_quantile(q) as f64 / 1000.0
}

/// One reported figure: its JSON key, its label in the table, and how a run gives it.
struct Figure {
    key: &'static str,
    label: &'static str,
    value: fn(&Outcome) -> f64,
}

/// Every figure, in table order: JSON key, table label, its value in one run. Rates are
/// records/s; latencies µs.
const FIGURES: &[Figure] = &[
    figure(
        "journal_append_records_per_sec_prefault_off",
        "append, prefault off (rec/s)",
        |o| o.append_off.round(),
    ),
    figure(
        "journal_append_records_per_sec_prefault_inline",
        "append, prefault inline (rec/s)",
        |o| o.append_inline.round(),
    ),
    figure(
        "journal_append_records_per_sec_prefault_thread",
        "append, prefault thread (rec/s, default)",
        |o| o.append_thread.round(),
    ),
    figure(
        "pwrite_records_per_sec",
        "pwrite same bytes, 1 MiB (rec/s)",
        |o| o.pwrite.round(),
    ),
    figure("append_vs_pwrite_ratio", "append / pwrite", |o| {
        round_to(o.append_thread / o.pwrite, 1000.0)
    }),
    figure(
        "page_floor_records_per_sec_1_thread",
        "fresh pages, 1 thread (rec/s, floor)",
        |o| o.page_floor.one_thread.round(),
    ),
    figure(
        "page_floor_records_per_sec_2_threads",
        "fresh pages, 2 threads (rec/s, floor)",
        |o| o.page_floor.two_threads.round(),
    ),
    figure(
        "page_floor_records_per_sec",
        "fresh pages, better of the two",
        |o| o.page_floor.best().round(),
    ),
    figure("append_vs_page_floor", "append / page floor", |o| {
        round_to(o.append_thread / o.page_floor.best(), 1000.0)
    }),
    figure(
        "journal_sync_durable_per_sec",
        "sync durable (rec/s, saturated)",
        |o| o.sync.durable_per_sec.round(),
    ),
    figure(
        "durable_ack_saturated_p50_us",
        "... its ack p50 (µs, queueing)",
        |o| o.sync.ack_p50_us,
    ),
    figure("sync_durable_records", "... records made durable", |o| {
        o.sync.durable_records as f64
    }),
    figure("durable_ack_p50_us", "durable ack p50 (µs)", |o| {
        o.ack.ack_p50_us
    }),
    figure("durable_ack_p99_us", "durable ack p99 (µs)", |o| {
        o.ack.ack_p99_us
    }),
    figure("fdatasync_p50_us", "fdatasync p50 (µs)", |o| {
        o.fsync_p50_us
    }),
    figure("fdatasync_p99_us", "fdatasync p99 (µs)", |o| {
        o.fsync_p99_us
    }),
    figure(
        "durable_ack_vs_fdatasync_p50",
        "durable ack p50 / fdatasync p50",
        |o| round_to(o.ack.ack_p50_us / o.fsync_p50_us, 100.0),
    ),
];

const fn figure(key: &'static str, label: &'static str, value: fn(&Outcome) -> f64) -> Figure {
    Figure { key, label, value }
}

/// The figures whose every run the JSON lists too (key + "_runs"): those the targets name.
const LISTED: &[&str] = &[
    "journal_append_records_per_sec_prefault_thread",
    "append_vs_pwrite_ratio",
    "page_floor_records_per_sec",
    "journal_sync_durable_per_sec",
    "durable_ack_vs_fdatasync_p50",
];

fn round_to(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// A figure as the table shows it: whole numbers for rates, two decimals for the rest.
fn shown(x: f64) -> String {
    if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn print_json(args: &Args, records: u64, backend: &str, figures: &[Vec<f64>]) {
    let mut v = serde_json::json!({
        "runs": args.runs,
        "sync_backend": backend,
        "payload_bytes": PAYLOAD_BYTES,
        "append_records": records,
        "ack_inflight": args.ack_inflight(),
        "sync_batch": args.sync_batch,
        "sync_inflight": args.sync_inflight,
    });
    for (figure, values) in FIGURES.iter().zip(figures) {
        v[figure.key] = serde_json::json!(median(values));
        if LISTED.contains(&figure.key) {
            v[format!("{}_runs", figure.key)] = serde_json::json!(values);
        }
    }
    // The default strategy's rate under its short name, as earlier versions printed it.
    v["journal_append_records_per_sec"] =
        v["journal_append_records_per_sec_prefault_thread"].clone();
    println!("{v}");
}

fn print_table(args: &Args, records: u64, backend: &str, figures: &[Vec<f64>]) {
    println!(
        "journal-bench: {records} records of {PAYLOAD_BYTES}-byte payload, {} run(s); \
         medians (min-max); durable acks with {} records in flight, saturation with {}",
        args.runs,
        args.ack_inflight(),
        args.sync_inflight
    );
    for (figure, values) in FIGURES.iter().zip(figures) {
        let (min, max) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let spread = if values.len() > 1 {
            format!("  ({}-{})", shown(min), shown(max))
        } else {
            String::new()
        };
        println!(
            "  {:<42} {:>12}{spread}",
            figure.label,
            shown(median(values))
        );
    }
    println!("  sync backend                               {backend}");
}

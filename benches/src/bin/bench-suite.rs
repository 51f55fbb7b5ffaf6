//! `bench-suite --out DIR [--quick]`: runs every benchmark of the project with fixed seeds and
//! writes `DIR/summary.json` and `DIR/summary.md`. Each part runs as its own process (the
//! sibling binaries in this directory) so one part's threads and memory do not disturb the
//! next. A part that does not exist yet, or fails, reports null: never a made-up figure.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Parser;
use serde_json::{json, Map, Value};

use exchange_benches::storm::TARGET_MS;

#[derive(Parser, Debug)]
#[command(
    name = "bench-suite",
    about = "Run every benchmark and write a summary"
)]
struct Args {
    /// Directory for summary.json, summary.md and each part's raw output.
    #[arg(long)]
    out: PathBuf,
    /// Smaller runs: the whole suite in a few minutes.
    #[arg(long)]
    quick: bool,
    /// Pin the measured thread (engine, perp, storm) or the sequencer (wire) to this core.
    #[arg(long)]
    pin_core: Option<usize>,
}

/// One part: binary, arguments, and which of its JSON keys go into the summary as which key.
struct Part {
    name: &'static str,
    binary: &'static str,
    args: Vec<String>,
    keys: &'static [(&'static str, &'static str)],
}

const SUMMARY_KEYS: &[&str] = &[
    "engine_mix_ops_per_sec",
    "engine_ns_per_op",
    "lobster_ns_per_op",
    "orderbook_rs_ns_per_op",
    "allocs_per_op",
    "wire_p50_us",
    "wire_p99_us",
    "floor_p50_us",
    "floor_p99_us",
    "wire_to_market_data_p50_us",
    "wire_to_market_data_p99_us",
    "journal_append_records_per_sec",
    "journal_sync_durable_per_sec",
    "fdatasync_p50_us",
    "durable_ack_p50_us",
    "durable_ack_vs_fdatasync_p50",
    "replay_msgs_per_sec",
    "md_publish_ns_per_event",
    "perp_mark_update_floor_p50_ns",
    "perp_mark_update_100k_p50_ns",
    "perp_mark_update_100k_p99_ns",
    "perp_funding_ns_per_holder_100k",
    "storm_100k_ms",
    "storm_100k_target_met",
    "storm_100k_us_per_account",
    "quote_entries_per_sec",
    "quote_target_met",
    "wire_quote10_p50_us",
    "wire_quote10_to_order_ratio_p50",
];

fn parts(args: &Args) -> Vec<Part> {
    let quick = |mut v: Vec<String>| {
        if args.quick {
            v.push("--quick".into());
        }
        v.push("--json".into());
        v
    };
    let mut engine_args = vec![];
    let mut wire_args = vec![];
    let mut perp_args = vec![];
    let mut storm_args = vec![];
    let mut quote_args = vec![];
    if let Some(core) = args.pin_core {
        quote_args.extend(["--pin-core".to_string(), core.to_string()]);
        engine_args.extend(["--pin-core".to_string(), core.to_string()]);
        wire_args.extend(["--pin-core".to_string(), core.to_string()]);
        perp_args.extend(["--pin-core".to_string(), core.to_string()]);
        storm_args.extend(["--pin-core".to_string(), core.to_string()]);
    }
    vec![
        Part {
            name: "engine",
            binary: "engine-bench",
            args: quick(engine_args),
            keys: &[
                ("mix_ops_per_sec", "engine_mix_ops_per_sec"),
                ("ours_ns_per_op", "engine_ns_per_op"),
                ("lobster_ns_per_op", "lobster_ns_per_op"),
                ("orderbook_rs_ns_per_op", "orderbook_rs_ns_per_op"),
                ("bare_ns_per_op", "bare_book_ns_per_op"),
                ("ours_vs_bare", "engine_vs_bare_book"),
                ("mix_p99_ns", "engine_open_loop_p99_ns"),
                ("floor_p99_ns", "engine_open_loop_floor_p99_ns"),
                ("allocs_per_op", "allocs_per_op"),
            ],
        },
        Part {
            name: "wire",
            binary: "wire-bench",
            args: quick(wire_args),
            keys: &[
                ("wire_p50_us", "wire_p50_us"),
                ("wire_p99_us", "wire_p99_us"),
                ("floor_p50_us", "floor_p50_us"),
                ("floor_p99_us", "floor_p99_us"),
                ("md_p50_us", "wire_to_market_data_p50_us"),
                ("md_p99_us", "wire_to_market_data_p99_us"),
                ("quote10_p50_us", "wire_quote10_p50_us"),
                (
                    "quote10_to_order_ratio_p50",
                    "wire_quote10_to_order_ratio_p50",
                ),
            ],
        },
        Part {
            name: "quotes",
            binary: "quote-bench",
            args: quick(quote_args),
            keys: &[
                ("quote_entries_per_sec_median", "quote_entries_per_sec"),
                ("quote_target_met", "quote_target_met"),
            ],
        },
        Part {
            name: "market-data",
            binary: "md-bench",
            args: quick(vec![]),
            keys: &[("md_publish_ns_per_event", "md_publish_ns_per_event")],
        },
        Part {
            name: "perp",
            binary: "perp-bench",
            args: quick(perp_args),
            keys: &[
                ("floor_update_p50_ns", "perp_mark_update_floor_p50_ns"),
                ("update_p50_ns_100000", "perp_mark_update_100k_p50_ns"),
                ("update_p99_ns_100000", "perp_mark_update_100k_p99_ns"),
                (
                    "funding_ns_per_holder_100000",
                    "perp_funding_ns_per_holder_100k",
                ),
            ],
        },
        Part {
            name: "storm",
            binary: "liquidation-storm",
            args: quick(storm_args),
            keys: &[
                ("storm_ms_100000", "storm_100k_ms"),
                ("storm_target_met_100000", "storm_100k_target_met"),
                ("storm_us_per_account_100000", "storm_100k_us_per_account"),
            ],
        },
        Part {
            name: "journal",
            binary: "journal-bench",
            args: quick(vec![]),
            keys: &[
                (
                    "journal_append_records_per_sec",
                    "journal_append_records_per_sec",
                ),
                (
                    "journal_sync_durable_per_sec",
                    "journal_sync_durable_per_sec",
                ),
                ("fdatasync_p50_us", "fdatasync_p50_us"),
                ("durable_ack_p50_us", "durable_ack_p50_us"),
                (
                    "durable_ack_vs_fdatasync_p50",
                    "durable_ack_vs_fdatasync_p50",
                ),
            ],
        },
    ]
}

/// Runs a part; returns its JSON line, or why there is none.
fn run_part(dir: &Path, part: &Part, out: &Path) -> Result<Value, String> {
    let binary = dir.join(part.binary);
    if !binary.exists() {
        return Err(format!(
            "{} not built (cargo build --release --workspace)",
            part.binary
        ));
    }
    let output = Command::new(&binary)
        .args(&part.args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let _ = std::fs::write(out.join(format!("{}.out", part.name)), &stdout);
    let _ = std::fs::write(out.join(format!("{}.err", part.name)), &output.stderr);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("{} failed: {}", part.binary, stderr.trim()));
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'));
    let line = line.ok_or_else(|| format!("{} printed no JSON line", part.binary))?;
    serde_json::from_str(line).map_err(|e| format!("{}: bad JSON: {e}", part.binary))
}

/// Generates a journal of 1M (quick) or 10M orders with `crash-child`, then replays it from
/// zero with `replay --json`; returns the replay's messages per second.
fn replay_speed(dir: &Path, out: &Path, quick: bool) -> Result<Value, String> {
    let journal = std::env::temp_dir().join(format!("bench-suite-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&journal);
    let orders = if quick { "1000000" } else { "10000000" };
    eprintln!("bench-suite: generating a journal of {orders} orders ...");
    let generated = Command::new(dir.join("crash-child"))
        .args([
            "--journal-dir",
            &journal.to_string_lossy(),
            "--durability",
            "none",
        ])
        .args([
            "--max-orders",
            orders,
            "--digest-every",
            "10000",
            "--snapshot-every",
            "0",
        ])
        .arg("--quiet")
        .output()
        .map_err(|e| format!("cannot run crash-child: {e}"))?;
    if !generated.status.success() {
        let _ = std::fs::remove_dir_all(&journal);
        return Err(format!(
            "crash-child failed: {}",
            String::from_utf8_lossy(&generated.stderr)
        ));
    }
    let part = Part {
        name: "replay",
        binary: "replay",
        args: vec![
            "--journal-dir".into(),
            journal.to_string_lossy().to_string(),
            "--from-zero".into(),
            "--json".into(),
        ],
        keys: &[],
    };
    let result = run_part(dir, &part, out);
    let _ = std::fs::remove_dir_all(&journal);
    result.map(|value| {
        value
            .get("messages_per_sec")
            .cloned()
            .unwrap_or(Value::Null)
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("bench-suite: cannot create {}: {e}", args.out.display());
        return ExitCode::from(2);
    }
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut summary = Map::new();
    for key in SUMMARY_KEYS {
        summary.insert((*key).to_string(), Value::Null);
    }
    let mut raw = Map::new();
    let mut notes = Vec::new();
    for part in parts(&args) {
        let started = Instant::now();
        eprintln!("bench-suite: running {} ...", part.name);
        match run_part(&dir, &part, &args.out) {
            Ok(value) => {
                for (from, to) in part.keys {
                    summary.insert(
                        (*to).to_string(),
                        value.get(*from).cloned().unwrap_or(Value::Null),
                    );
                }
                raw.insert(part.name.to_string(), value);
            }
            Err(why) => notes.push(format!("{}: {why}", part.name)),
        }
        eprintln!(
            "bench-suite: {} took {:.1} s",
            part.name,
            started.elapsed().as_secs_f64()
        );
    }
    match replay_speed(&dir, &args.out, args.quick) {
        Ok(speed) => {
            summary.insert("replay_msgs_per_sec".into(), speed);
        }
        Err(why) => notes.push(format!("replay: {why}")),
    }
    for missing in ["replay_msgs_per_sec", "md_publish_ns_per_event"] {
        if summary[missing].is_null() {
            notes.push(format!(
                "{missing}: the part that measures it does not exist yet"
            ));
        }
    }
    let settings = json!({
        "quick": args.quick,
        "pin_core": args.pin_core,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "idle": "block",
        "durability_wire": "async",
    });
    summary.insert("settings".into(), settings);
    summary.insert("notes".into(), json!(notes));
    summary.insert("raw".into(), Value::Object(raw));
    let json_text =
        serde_json::to_string_pretty(&Value::Object(summary.clone())).unwrap_or_default();
    let md = markdown(&summary, &notes);
    let written = std::fs::write(args.out.join("summary.json"), json_text)
        .and_then(|()| std::fs::write(args.out.join("summary.md"), &md));
    if let Err(e) = written {
        eprintln!("bench-suite: cannot write the summary: {e}");
        return ExitCode::FAILURE;
    }
    print!("{md}");
    ExitCode::SUCCESS
}

fn markdown(summary: &Map<String, Value>, notes: &[String]) -> String {
    let mut md = String::from("# Benchmark summary\n\n| measure | value |\n|---|---|\n");
    for key in SUMMARY_KEYS {
        let value = match &summary[*key] {
            Value::Null => "n/a".to_string(),
            Value::Number(n) => n.as_f64().map_or(n.to_string(), |f| format!("{f:.3}")),
            other => other.to_string(),
        };
        md.push_str(&format!("| {key} | {value} |\n"));
    }
    let ratio = |a: &str, b: &str| match (summary[a].as_f64(), summary[b].as_f64()) {
        (Some(x), Some(y)) if x > 0.0 => Some(y / x),
        _ => None,
    };
    md.push_str("\n| ratio | value |\n|---|---|\n");
    let ratios = [
        (
            "lobster ns/op ÷ ours",
            ratio("engine_ns_per_op", "lobster_ns_per_op"),
        ),
        (
            "orderbook-rs ns/op ÷ ours",
            ratio("engine_ns_per_op", "orderbook_rs_ns_per_op"),
        ),
        (
            "wire p50 ÷ TCP floor p50",
            ratio("floor_p50_us", "wire_p50_us"),
        ),
        (
            "wire p99 ÷ TCP floor p99",
            ratio("floor_p99_us", "wire_p99_us"),
        ),
        (
            "perp mark update p50, 100K positions ÷ none",
            ratio(
                "perp_mark_update_floor_p50_ns",
                "perp_mark_update_100k_p50_ns",
            ),
        ),
        (
            "liquidation storm, 100K accounts ÷ 20 ms target",
            summary["storm_100k_ms"].as_f64().map(|ms| ms / TARGET_MS),
        ),
    ];
    for (name, value) in ratios {
        let text = value.map_or("n/a".to_string(), |v| format!("{v:.2}×"));
        md.push_str(&format!("| {name} | {text} |\n"));
    }
    if !notes.is_empty() {
        md.push_str("\nNotes:\n");
        for note in notes {
            md.push_str(&format!("- {note}\n"));
        }
    }
    md.push_str(&format!("\nSettings: {}\n", summary["settings"]));
    md
}

//! `engine-bench --json` on a small run: one JSON line with every figure the README and
//! `bench-suite` read, the floors included. Checks the report, not the speed.

use std::process::Command;

#[test]
fn engine_bench_prints_every_figure_and_both_floors() {
    let output = Command::new(env!("CARGO_BIN_EXE_engine-bench"))
        .args([
            "--json",
            "--no-pin",
            "--mix-commands",
            "20000",
            "--runs",
            "1",
        ])
        .args(["--peer-ops", "5000", "--peer-repeats", "1"])
        .output()
        .expect("engine-bench runs");
    assert!(output.status.success(), "{output:?}");
    let line = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert_eq!(line.lines().count(), 1, "one JSON line: {line}");
    let report: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
    for key in [
        "mix_ops_per_sec",
        "mix_p50_ns",
        "mix_p99_ns",
        "mix_p9999_ns",
        "floor_p99_ns",
        "floor_p9999_ns",
        "memory_floor_p99_ns",
        "ours_ns_per_op",
        "lobster_ns_per_op",
        "orderbook_rs_ns_per_op",
        "bare_ns_per_op",
        "ours_vs_bare",
        "ratio_bare_vs_lobster",
    ] {
        let value = report[key].as_f64();
        assert!(value.is_some_and(|v| v > 0.0), "{key}: {:?}", report[key]);
    }
    // Counts that are zero in a quiet run, but always reported.
    for key in [
        "mix_preemptions",
        "mix_minor_faults",
        "floor_preemptions",
        "mix_late_commands",
    ] {
        assert!(report[key].as_u64().is_some(), "{key}: {:?}", report[key]);
    }
    assert_eq!(report["allocs_per_op"].as_f64(), Some(0.0));
    // Every book ran the same stream and made the same trades.
    assert!(report["peer_trades"].as_u64().is_some_and(|t| t > 0));
}

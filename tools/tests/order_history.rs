//! `order-history` as a binary on a scenario journal: an order's lifecycle with its fill and
//! fee, the same order found by ClOrdID and session, an account's activity, and clear errors
//! with a non-zero exit for unknown ids and sessions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scenario(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("order-history-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_scenario-gen"))
        .args([
            "--out",
            &dir.display().to_string(),
            "--seed",
            "4",
            "--ticks",
            "400",
        ])
        .output()
        .expect("scenario-gen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn history(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_order-history"))
        .args(["--journal-dir", &dir.display().to_string()])
        .args(args)
        .output()
        .expect("order-history runs")
}

fn lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[test]
fn filled_order_shows_acceptance_fill_with_fee_and_is_found_by_cl_ord_id_too() {
    let dir = scenario("lifecycle");
    // RETAIL1's first IOC (ClOrdID 1) takes 0.01 BTC from a market maker.
    let by_cl = history(&dir, &["--cl-ord-id", "1", "--session", "RETAIL1"]);
    assert!(
        by_cl.status.success(),
        "{}",
        String::from_utf8_lossy(&by_cl.stderr)
    );
    let events = lines(&by_cl);
    let texts: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or(""))
        .collect();
    assert!(texts[0].starts_with("Accepted"), "{texts:?}");
    let fill = texts
        .iter()
        .find(|t| t.starts_with("Fill"))
        .expect("a fill");
    assert!(fill.contains("taker_fee: Units("), "{fill}");
    let order_id = texts[0]
        .split("OrderId(")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("the accepted order names its id")
        .to_string();
    let by_id = history(&dir, &["--order-id", &order_id]);
    assert!(by_id.status.success());
    assert_eq!(lines(&by_id), events);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn account_activity_respects_the_time_range() {
    let dir = scenario("account");
    let all = lines(&history(&dir, &["--account", "4"]));
    assert!(all.len() > 10, "{}", all.len());
    let cut = all[all.len() / 2]["time_ns"].as_u64().expect("time");
    let first_half = lines(&history(
        &dir,
        &["--account", "4", "--to", &cut.to_string()],
    ));
    assert!(first_half.len() < all.len());
    assert!(first_half
        .iter()
        .all(|l| l["time_ns"].as_u64() <= Some(cut)));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_order_id_is_a_clear_error_with_a_failure_exit() {
    let dir = scenario("unknown");
    let out = history(&dir, &["--order-id", "999"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("order id 999 not found in the journal"),
        "{err}"
    );
    let out = history(&dir, &["--cl-ord-id", "424242", "--session", "MM1"]);
    assert_eq!(out.status.code(), Some(1));
    let out = history(&dir, &["--cl-ord-id", "1", "--session", "NOBODY"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown session \"NOBODY\""));
    let _ = std::fs::remove_dir_all(&dir);
}

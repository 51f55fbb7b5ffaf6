//! `scenario-gen` and `surveil` as binaries: surveil flags exactly what the scenario seeded
//! (by kind and account), its report is byte-identical on every run, and a damaged journal
//! stops it with a clear error and a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use journal::record::{decode_record, Decoded};
use journal::segment::{list_segments, SEGMENT_HEADER_LEN};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("surveil-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn scenario(dir: &Path, seed: u64, ticks: u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_scenario-gen"))
        .args(["--out", &dir.display().to_string()])
        .args(["--seed", &seed.to_string(), "--ticks", &ticks.to_string()])
        .output()
        .expect("scenario-gen runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn surveil(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_surveil"))
        .args(["--journal-dir", &dir.display().to_string(), "--json"])
        .output()
        .expect("surveil runs")
}

/// (kind, account, counterparty) of every alert or seeded pattern, sorted.
type Keys = Vec<(String, u64, Option<u64>)>;

fn key(v: &serde_json::Value) -> (String, u64, Option<u64>) {
    let kind = v["kind"]
        .as_str()
        .expect("every entry has a kind")
        .to_string();
    let account = v["account"].as_u64().expect("every entry has an account");
    (kind, account, v["counterparty"].as_u64())
}

fn alert_keys(out: &Output) -> Keys {
    let mut keys: Keys = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| key(&serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"))))
        .collect();
    keys.sort();
    keys
}

fn manifest_keys(dir: &Path) -> Keys {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest written");
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("manifest is JSON");
    let mut keys: Keys = manifest["seeded"]
        .as_array()
        .expect("seeded is a list")
        .iter()
        .map(key)
        .collect();
    keys.sort();
    keys
}

#[test]
fn surveil_flags_exactly_the_seeded_patterns_for_several_seeds() {
    for seed in [1, 2, 3, 7] {
        let dir = temp_dir(&format!("exact-{seed}"));
        scenario(&dir, seed, 3_000);
        let out = surveil(&dir);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seeded = manifest_keys(&dir);
        assert!(
            seeded.len() >= 6,
            "every kind is seeded at least once: {seeded:?}"
        );
        assert_eq!(alert_keys(&out), seeded, "seed {seed}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn every_alert_kind_is_seeded_and_every_alert_carries_evidence() {
    let dir = temp_dir("kinds");
    scenario(&dir, 5, 3_000);
    let out = surveil(&dir);
    let kinds: std::collections::BTreeSet<String> =
        alert_keys(&out).into_iter().map(|k| k.0).collect();
    let all = [
        "affiliate_house_trade",
        "layering",
        "mm_obligation_breach",
        "quote_stuffing",
        "spoofing",
        "wash_trade",
    ];
    assert_eq!(kinds.iter().map(String::as_str).collect::<Vec<_>>(), all);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        assert!(v["seq"].as_u64().is_some_and(|s| s > 0), "{line}");
        assert!(v["time_ns"].as_u64().is_some(), "{line}");
        assert!(
            v["evidence"].as_object().is_some_and(|e| !e.is_empty()),
            "{line}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn same_journal_gives_a_byte_identical_report() {
    let dir = temp_dir("determinism");
    scenario(&dir, 11, 2_000);
    let first = surveil(&dir);
    let second = surveil(&dir);
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(first.stderr, second.stderr);
    let text = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_surveil"))
            .args(["--journal-dir", &dir.display().to_string()])
            .args(args)
            .output()
            .expect("surveil runs")
            .stdout
    };
    assert_eq!(text(&[]), text(&[]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The only segment and the offset of the record `back` records before its last one.
fn record_offset(dir: &Path, back: usize) -> (PathBuf, usize) {
    let segment = list_segments(dir)
        .expect("segments")
        .pop()
        .expect("a segment");
    let bytes = std::fs::read(&segment.path).expect("read segment");
    let mut offset = SEGMENT_HEADER_LEN;
    let mut offsets = Vec::new();
    while let Decoded::Valid(_, framed) = decode_record(&bytes[offset..]) {
        offsets.push(offset);
        offset += framed;
    }
    (segment.path, offsets[offsets.len() - 1 - back])
}

#[test]
fn flipped_byte_stops_surveil_with_the_damage_and_a_failure_exit() {
    let dir = temp_dir("flip");
    scenario(&dir, 3, 500);
    let (path, offset) = record_offset(&dir, 1_000);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes[offset + 40] ^= 0x5a;
    std::fs::write(&path, bytes).expect("write");
    let out = surveil(&dir);
    assert!(!out.status.success());
    // A thousand whole records follow the damaged one: the journal is refused as damaged in
    // the middle, with the place named, not read up to it as if its tail were torn.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("surveil: error:") && err.contains("corrupt record"),
        "{err}"
    );
    assert!(err.contains(&format!("offset {offset}")), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn journal_truncated_mid_record_stops_surveil_with_a_failure_exit() {
    let dir = temp_dir("truncate");
    scenario(&dir, 3, 500);
    let (path, offset) = record_offset(&dir, 10);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len(offset as u64 + 20).expect("truncate");
    drop(file);
    let out = surveil(&dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("surveil: error:"), "{err}");
    assert!(
        err.contains("damaged journal") || err.contains("journal:"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_journal_is_a_clear_error() {
    let dir = temp_dir("missing");
    let out = surveil(&dir);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("surveil: error:"));
}

#[test]
fn follow_mode_prints_trade_and_order_alerts_as_it_reads_and_keeps_waiting() {
    use std::io::BufRead;
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    let dir = temp_dir("follow");
    scenario(&dir, 2, 3_000);
    let online = [
        "wash_trade",
        "affiliate_house_trade",
        "spoofing",
        "layering",
    ];
    let expected: Keys = manifest_keys(&dir)
        .into_iter()
        .filter(|k| online.contains(&k.0.as_str()))
        .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_surveil"))
        .args([
            "--journal-dir",
            &dir.display().to_string(),
            "--json",
            "--follow",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("surveil --follow starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: Keys = Vec::new();
    while seen.len() < expected.len() {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("alerts so far {seen:?}, expected {expected:?}"));
        seen.push(key(&serde_json::from_str(&line).expect("JSON line")));
    }
    // Day-end measures (stuffing, obligations) wait for the day to end: still following.
    assert!(
        child.try_wait().expect("status").is_none(),
        "--follow exited"
    );
    child.kill().expect("stop surveil --follow");
    let _ = child.wait();
    seen.sort();
    assert_eq!(seen, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

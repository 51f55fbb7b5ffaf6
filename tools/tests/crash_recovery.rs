//! Kill -9 under load loses no acknowledged order, and every recovery reproduces the state a
//! from-scratch replay computes.
//!
//! `crash-child` runs the sequencer in `sync` durability and prints `ACK <cl_ord_id> <seq>`
//! only once a record is durable. This test kills it with SIGKILL at seeded random points (after
//! a random number of acks, or after a random delay), restarts it on the same journal, and
//! checks after every restart that:
//! - recovery succeeds and the recovered digest equals `replay --from-zero` and `replay` from
//!   the latest snapshot (run on the live journal while the child holds the writer);
//! - every acknowledged record is still there: its seq is at most the recovered last seq and
//!   the message journaled at that seq carries the acknowledged ClOrdID.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use exchange_tools::order_stream::{cl_ord_id_of, SplitMix64};
use journal::JournalReader;

const ROUNDS: u64 = 12;

/// Kills the child on drop, so a failing assertion leaves no process behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Running {
    child: KillOnDrop,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

fn spawn_child(dir: &Path, round: u64) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash-child"))
        .arg("--journal-dir")
        .arg(dir)
        .args(["--seed", &round.to_string()])
        .args(["--first-cl-ord-id", &(round * 1_000_000 + 1).to_string()])
        .args([
            "--batch",
            "8",
            "--digest-every",
            "50",
            "--snapshot-every",
            "300",
        ])
        .args(["--segment-mib", "1", "--wait-go"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("crash-child starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stdin = child.stdin.take().expect("stdin is piped");
    let (sender, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child: KillOnDrop(child),
        stdin,
        lines,
    }
}

/// `RECOVERED <digest> <last_seq> <snapshot_seq> <torn_bytes>`.
struct Recovered {
    digest: String,
    last_seq: u64,
    snapshot_seq: u64,
}

fn read_recovered(running: &Running) -> Recovered {
    let line = running
        .lines
        .recv_timeout(Duration::from_secs(30))
        .expect("crash-child reports its recovery");
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(parts.len(), 5, "unexpected line {line:?}");
    assert_eq!(parts[0], "RECOVERED", "unexpected line {line:?}");
    Recovered {
        digest: parts[1].to_string(),
        last_seq: parts[2].parse().expect("last seq"),
        snapshot_seq: parts[3].parse().expect("snapshot seq"),
    }
}

fn replay_json(dir: &Path, from_zero: bool) -> serde_json::Value {
    let mut command = Command::new(env!("CARGO_BIN_EXE_replay"));
    command.arg("--journal-dir").arg(dir).arg("--json");
    if from_zero {
        command.arg("--from-zero");
    }
    let output = command.output().expect("replay runs");
    assert!(
        output.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("replay prints one JSON line")
}

/// Every acknowledged (cl_ord_id, seq) is in the journal at that seq, up to `last_seq`.
fn check_acks_journaled(dir: &Path, acks: &BTreeMap<u64, u64>, last_seq: u64) {
    let by_seq: BTreeMap<u64, u64> = acks.iter().map(|(cl, seq)| (*seq, *cl)).collect();
    let mut reader = JournalReader::open(dir).expect("journal opens for reading");
    let mut found = 0;
    while let Some(record) = reader.next().expect("journal reads") {
        if let Some(cl) = by_seq.get(&record.header.seq) {
            assert_eq!(
                cl_ord_id_of(record.payload),
                Some(*cl),
                "record {} does not hold acknowledged ClOrdID {cl}",
                record.header.seq
            );
            found += 1;
        }
    }
    assert_eq!(
        found,
        by_seq.len(),
        "acknowledged records missing from the journal"
    );
    if let Some((max_seq, cl)) = by_seq.last_key_value() {
        assert!(
            *max_seq <= last_seq,
            "ack {cl} at seq {max_seq} > recovered {last_seq}"
        );
    }
}

/// Reads acks until the kill point: `ack_budget` acks, or `delay` after GO.
fn run_until_kill(running: &mut Running, kill: KillPoint, acks: &mut BTreeMap<u64, u64>) {
    let started = Instant::now();
    let mut this_round = 0u64;
    loop {
        let wait = match kill {
            KillPoint::AfterAcks(_) => Duration::from_secs(30),
            KillPoint::AfterDelay(d) => match d.checked_sub(started.elapsed()) {
                Some(left) => left,
                None => break,
            },
        };
        match running.lines.recv_timeout(wait) {
            Ok(line) => {
                let mut parts = line.split(' ');
                assert_eq!(parts.next(), Some("ACK"), "unexpected line {line:?}");
                let cl: u64 = parts.next().and_then(|s| s.parse().ok()).expect("cl");
                let seq: u64 = parts.next().and_then(|s| s.parse().ok()).expect("seq");
                acks.insert(cl, seq);
                this_round += 1;
                if matches!(kill, KillPoint::AfterAcks(n) if this_round >= n) {
                    break;
                }
            }
            Err(RecvTimeoutError::Timeout) if matches!(kill, KillPoint::AfterDelay(_)) => break,
            Err(e) => panic!("crash-child stopped acknowledging: {e:?}"),
        }
    }
    // std's Child::kill sends SIGKILL on Unix.
    running.child.0.kill().expect("SIGKILL delivered");
    running.child.0.wait().expect("child reaped");
    // Acks the child printed before dying are acks a client would have seen.
    while let Ok(line) = running.lines.recv_timeout(Duration::from_millis(200)) {
        let parts: Vec<&str> = line.split(' ').collect();
        if parts.len() == 3 && parts[0] == "ACK" {
            acks.insert(
                parts[1].parse().expect("cl"),
                parts[2].parse().expect("seq"),
            );
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum KillPoint {
    AfterAcks(u64),
    AfterDelay(Duration),
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn sigkill_under_load_loses_no_acknowledged_order_and_replays_to_the_same_digest() {
    let dir = temp_dir("sigkill");
    let mut rng = SplitMix64::new(0x5EED);
    let mut acks: BTreeMap<u64, u64> = BTreeMap::new();
    let mut kills = 0;
    let mut snapshot_restarts = 0;
    for round in 0..=ROUNDS {
        let mut running = spawn_child(&dir, round);
        let recovered = read_recovered(&running);
        check_acks_journaled(&dir, &acks, recovered.last_seq);
        let zero = replay_json(&dir, true);
        assert_eq!(
            zero["final_digest"],
            recovered.digest.as_str(),
            "round {round}"
        );
        assert_eq!(zero["last_seq"], recovered.last_seq, "round {round}");
        let snap = replay_json(&dir, false);
        assert_eq!(
            snap["final_digest"],
            recovered.digest.as_str(),
            "round {round}"
        );
        if recovered.snapshot_seq > 0 {
            snapshot_restarts += 1;
            assert_eq!(snap["from_snapshot_seq"], recovered.snapshot_seq);
        }
        if round == ROUNDS {
            break; // the last start only checks recovery
        }
        writeln!(running.stdin, "GO").expect("child reads GO");
        let kill = if round % 2 == 0 {
            KillPoint::AfterAcks(1 + rng.below(400))
        } else {
            KillPoint::AfterDelay(Duration::from_millis(5 + rng.below(150)))
        };
        run_until_kill(&mut running, kill, &mut acks);
        kills += 1;
    }
    eprintln!(
        "crash test: {kills} SIGKILLs, {} acknowledged orders checked, {snapshot_restarts} \
         restarts from a snapshot",
        acks.len()
    );
    assert!(kills >= 10);
    assert!(acks.len() > 100, "only {} acks", acks.len());
    assert!(snapshot_restarts > 0, "no restart started from a snapshot");
    std::fs::remove_dir_all(&dir).expect("temp dir removed");
}

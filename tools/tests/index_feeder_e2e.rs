//! `index-feeder` against the real `exchange` server: random-walk updates are acknowledged,
//! a CSV file is replayed as written, a rejected update fails the run unless `--keep-going`,
//! and a trading session cannot publish constituents.
//!
//! The server binary comes from the target directory this test runs from (see
//! `exchange_server/mod.rs`).

mod exchange_server;

use std::path::PathBuf;
use std::process::{Command, Output};

use exchange_server::ExchangeServer;
use serde_json::Value;

fn feeder(addr: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_index-feeder"))
        .args(["--addr", addr])
        .args(args)
        .output()
        .expect("run index-feeder")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

fn messages<'a>(lines: &'a [Value], msg: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["msg"] == msg).collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The ConstituentPx strings of each sent update, in order.
fn sent_prices(lines: &[Value]) -> Vec<Vec<String>> {
    messages(lines, "IndexConstituents")
        .iter()
        .map(|m| {
            let constituents = m["NoConstituents"].as_array().expect("a constituent list");
            constituents
                .iter()
                .map(|c| {
                    c["ConstituentPx"]
                        .as_str()
                        .expect("a decimal string")
                        .to_owned()
                })
                .collect()
        })
        .collect()
}

/// A CSV file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("{name}-{}.csv", std::process::id()));
        std::fs::write(&path, text).expect("write the CSV file");
        TempFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn five_walk_updates_are_each_acknowledged() {
    let server = ExchangeServer::start("index-feeder-e2e-walk");
    let output = feeder(
        &server.addr,
        &["--count", "5", "--json", "--interval-ms", "50"],
    );
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let lines = json_lines(&output);
    let sent = messages(&lines, "IndexConstituents");
    let acks = messages(&lines, "AdminAck");
    assert_eq!(sent.len(), 5, "{lines:#?}");
    assert_eq!(acks.len(), 5, "{lines:#?}");
    for (update, ack) in sent.iter().zip(&acks) {
        assert_eq!(ack["AdminReqID"], update["AdminReqID"]);
        assert_eq!(ack["RefTemplateID"], 103);
        assert_eq!(update["NoConstituents"].as_array().map(Vec::len), Some(3));
    }
    // Both perpetuals by default, alternating within each round.
    let symbols: Vec<&Value> = sent.iter().map(|m| &m["Symbol"]).collect();
    assert_eq!(
        symbols,
        [
            "BTC-USD-PERP",
            "ETH-USD-PERP",
            "BTC-USD-PERP",
            "ETH-USD-PERP",
            "BTC-USD-PERP"
        ]
    );
    assert!(messages(&lines, "AdminReject").is_empty());
    assert!(
        stderr(&output).contains("5 update(s) sent, 5 acknowledged, 0 rejected, 0 unanswered"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_same_seed_publishes_the_same_prices() {
    let server = ExchangeServer::start("index-feeder-e2e-seed");
    let args = [
        "--count",
        "3",
        "--json",
        "--interval-ms",
        "20",
        "--instrument",
        "ETH-USD-PERP",
        "--seed",
        "42",
    ];
    let first = feeder(&server.addr, &args);
    let second = feeder(&server.addr, &args);
    assert_eq!(first.status.code(), Some(0), "stderr: {}", stderr(&first));
    assert_eq!(second.status.code(), Some(0), "stderr: {}", stderr(&second));
    let (first, second) = (json_lines(&first), json_lines(&second));
    assert_eq!(sent_prices(&first).len(), 3);
    assert_eq!(sent_prices(&first), sent_prices(&second));
    assert_eq!(
        messages(&second, "AdminAck").len(),
        3,
        "a rerun is acknowledged too"
    );
}

#[test]
fn a_csv_file_is_replayed_as_written() {
    let server = ExchangeServer::start("index-feeder-e2e-csv");
    let csv = TempFile::new(
        "index-feeder-e2e-replay",
        "time_offset_ms,symbol,source_id,price\n\
         0,BTC-USD-PERP,1,100000.5\n\
         0,BTC-USD-PERP,2,100001\n\
         0,BTC-USD-PERP,3,99999.25\n\
         100,ETH-USD-PERP,7,3000.01\n\
         100,ETH-USD-PERP,8,3000.02\n\
         100,ETH-USD-PERP,9,2999.99\n\
         # a later BTC-USD-PERP update, by SecurityID\n\
         200,3,1,100010\n200,3,2,100011\n200,3,3,100009\n",
    );
    let output = feeder(
        &server.addr,
        &["--csv", csv.path(), "--speed", "2", "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(messages(&lines, "AdminAck").len(), 3, "{lines:#?}");
    assert_eq!(
        sent_prices(&lines),
        [
            ["100000.5", "100001", "99999.25"],
            ["3000.01", "3000.02", "2999.99"],
            ["100010", "100011", "100009"],
        ]
    );
    let eth = messages(&lines, "IndexConstituents")[1];
    assert_eq!(eth["Symbol"], "ETH-USD-PERP");
    assert_eq!(eth["NoConstituents"][0]["ConstituentSourceID"], 7);
}

#[test]
fn a_rejected_update_fails_the_run_unless_keep_going() {
    let server = ExchangeServer::start("index-feeder-e2e-reject");
    // The second update has two sources (213: too few); the third a negative price (218),
    // due long after the reject has arrived.
    let csv = TempFile::new(
        "index-feeder-e2e-reject",
        "0,3,1,100000\n0,3,2,100001\n0,3,3,99999\n\
         50,3,1,100000\n50,3,2,100001\n\
         5000,3,1,-1\n5000,3,2,100001\n5000,3,3,99999\n",
    );
    let stopped = feeder(&server.addr, &["--csv", csv.path(), "--json"]);
    assert_eq!(
        stopped.status.code(),
        Some(3),
        "stderr: {}",
        stderr(&stopped)
    );
    let lines = json_lines(&stopped);
    let rejects = messages(&lines, "AdminReject");
    assert_eq!(rejects.len(), 1, "{lines:#?}");
    assert_eq!(rejects[0]["AdminRejectReason"], 213);
    assert_eq!(
        messages(&lines, "IndexConstituents").len(),
        2,
        "nothing is sent after the reject"
    );

    let args = [
        "--csv",
        csv.path(),
        "--json",
        "--keep-going",
        "--speed",
        "20",
    ];
    let kept = feeder(&server.addr, &args);
    assert_eq!(kept.status.code(), Some(0), "stderr: {}", stderr(&kept));
    let lines = json_lines(&kept);
    let reasons: Vec<&Value> = messages(&lines, "AdminReject")
        .iter()
        .map(|m| &m["AdminRejectReason"])
        .collect();
    assert_eq!(reasons, [213, 218]);
    assert!(stderr(&kept).contains("3 update(s) sent, 1 acknowledged, 2 rejected"));
}

/// The gateway answers an admin message on a trading session with BusinessMessageReject
/// reason 6 (not authorized) before it reaches the engine, whose AdminReject 121
/// (NotOperator) therefore never reaches a client.
#[test]
fn a_trading_session_cannot_publish_constituents() {
    let server = ExchangeServer::start("index-feeder-e2e-mm1");
    let args = [
        "--session",
        "MM1",
        "--key",
        "mm1-demo-key",
        "--count",
        "1",
        "--json",
    ];
    let output = feeder(&server.addr, &args);
    assert_eq!(output.status.code(), Some(3), "stderr: {}", stderr(&output));
    let lines = json_lines(&output);
    let rejects = messages(&lines, "BusinessMessageReject");
    assert_eq!(rejects.len(), 1, "{lines:#?}");
    assert_eq!(rejects[0]["BusinessRejectReason"], 6);
    assert_eq!(rejects[0]["RefMsgType"], 103);
    assert_eq!(
        rejects[0]["Text"],
        "admin messages are for operator sessions only"
    );
    assert!(messages(&lines, "AdminAck").is_empty());
    assert!(stderr(&output).contains("1 update(s) sent, 0 acknowledged, 1 rejected"));
}

#[test]
fn connection_and_argument_failures_exit_non_zero_before_sending() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").to_string()
    };
    let refused = feeder(&closed, &["--count", "1"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("cannot connect"),
        "{}",
        stderr(&refused)
    );

    let usage = feeder(&closed, &["--sources", "2"]);
    assert_eq!(usage.status.code(), Some(1));
    assert!(stderr(&usage).contains("3..=16"), "{}", stderr(&usage));

    let missing = feeder(&closed, &["--csv", "/nonexistent/prices.csv"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("/nonexistent/prices.csv"));
}

#[test]
fn a_wrong_key_is_an_authentication_failure() {
    let server = ExchangeServer::start("index-feeder-e2e-key");
    let output = feeder(&server.addr, &["--key", "not-the-key", "--count", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("Credentials"),
        "{}",
        stderr(&output)
    );
}

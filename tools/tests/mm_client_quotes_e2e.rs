//! `mm-client` quote and MMP script lines against the real `exchange` server: MM1 configures
//! protection (a zero limit is refused), quotes with MMP, MM2 hits a quote, MM1 sees the
//! trigger, is refused while frozen, resets and quotes again; every reply is a JSON line.

mod exchange_server;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use exchange_server::ExchangeServer;
use serde_json::Value;

fn mm_client(addr: &str, session: &str, key: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mm-client"));
    command
        .args(["--connect", addr, "--session", session, "--key", key])
        .args(["--json", "--script", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
}

/// Reads lines from `rx` until `pred` matches one; returns every line read.
fn read_until(rx: &mpsc::Receiver<String>, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("timed out; read so far: {seen:#?}"));
        let value = json(&line);
        let done = pred(&value);
        seen.push(value);
        if done {
            return seen;
        }
    }
}

#[test]
fn quote_and_mmp_lines_drive_a_trigger_and_print_json() {
    let server = ExchangeServer::start("mm-client-quotes");
    let script = "\
mmp-config BTC window=1000 qty=0 delta=1
mmp-config BTC window=1000 qty=0.001 delta=1
quote BTC-USD 0.001@99990 0.001@100010 mmp
quote BTC-USD 0.001@99980 0.001@100020 id=2 mmp
sleep 1500
quote BTC-USD 0.001@99990 0.001@100010 mmp
mmp-reset BTC
quote BTC-USD 0.001@99990 0.001@100010 mmp
quote-cancel BTC-USD
";
    let mut maker = mm_client(&server.addr, "MM1", "mm1-demo-key")
        .spawn()
        .expect("start mm-client for MM1");
    maker
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(script.as_bytes())
        .expect("write MM1 script");
    let stdout = maker.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = read_until(&rx, |v| {
        v["msg"] == "MassQuoteAck" && v["QuoteEntries"][0]["QuoteEntryID"] == 2
    });

    let mut taker = mm_client(&server.addr, "MM2", "mm2-demo-key")
        .spawn()
        .expect("start mm-client for MM2");
    taker
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(b"sell BTC-USD 0.001 99990 ioc id=5\n")
        .expect("write MM2 script");
    let taker_out = taker.wait_with_output().expect("MM2 finishes");
    assert_eq!(taker_out.status.code(), Some(0));

    lines.extend(rx.iter().map(|l| json(&l)));
    let status = maker.wait().expect("MM1 finishes");
    assert_eq!(status.code(), Some(0), "{lines:#?}");

    let acks: Vec<&Value> = lines.iter().filter(|v| v["msg"] == "MmpAck").collect();
    assert_eq!(acks.len(), 3, "{lines:#?}");
    assert_eq!(acks[0]["MmpRejectReason"], 242);
    assert_eq!(acks[0]["Underlying"], "Btc");
    assert!(acks[1].get("MmpRejectReason").is_none());
    assert_eq!(acks[2]["MmpAckType"], "Reset");
    let trigger = lines
        .iter()
        .find(|v| v["msg"] == "MmpTriggered")
        .unwrap_or_else(|| panic!("a trigger: {lines:#?}"));
    assert_eq!(trigger["MmpBreach"], "Quantity");
    assert_eq!(trigger["MmpWindowGross"], "0.001");
    assert_eq!(trigger["TotalAffectedOrders"], 3);
    let quotes: Vec<&Value> = lines
        .iter()
        .filter(|v| v["msg"] == "MassQuoteAck")
        .collect();
    assert_eq!(quotes.len(), 4, "{lines:#?}");
    let entry = |q: &Value| q["QuoteEntries"][0].clone();
    assert_eq!(entry(quotes[0])["QuoteEntryStatus"], "Accepted");
    assert_eq!(entry(quotes[0])["Symbol"], "BTC-USD");
    assert_eq!(entry(quotes[2])["QuoteEntryRejectReason"], 240, "frozen");
    assert_eq!(
        entry(quotes[3])["QuoteEntryStatus"],
        "Accepted",
        "after the reset"
    );
    let cancel = lines
        .iter()
        .find(|v| v["msg"] == "QuoteCancelAck")
        .unwrap_or_else(|| panic!("a quote cancel ack: {lines:#?}"));
    assert_eq!(cancel["TotalAffectedOrders"], 2);
    let fill = lines
        .iter()
        .find(|v| v["msg"] == "ExecutionReport" && v["ExecType"] == "Trade")
        .unwrap_or_else(|| panic!("MM1's quote was hit: {lines:#?}"));
    assert_eq!(fill["LastPx"], "99990");
    drop(server);
}

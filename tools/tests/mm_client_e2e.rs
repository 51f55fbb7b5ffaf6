//! `mm-client` against the real `exchange` server: MM1 quotes BTC-USD and stays connected,
//! MM2 trades against both quotes; both sides' JSON lines show the fills. On BTC-USD-PERP,
//! after the operator's index, the lines show positions and collateral.
//!
//! The server is started by `exchange_server` (market data off, so tests need no shared
//! ports); `cargo test --workspace` builds its binary.

mod exchange_server;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};
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

fn parse_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

fn reports(lines: &[Value], cl_ord_id: u64) -> Vec<&Value> {
    lines
        .iter()
        .filter(|v| v["msg"] == "ExecutionReport" && v["ClOrdID"] == cl_ord_id)
        .collect()
}

/// Starts MM1 with two resting quotes and a long sleep (MM1's session cancels its orders on
/// disconnect, so it must stay connected while MM2 trades); returns once both are acked.
fn start_maker(addr: &str) -> (Child, mpsc::Receiver<String>) {
    let script = "buy BTC-USD 0.5 99000 id=1\nsell BTC-USD 0.5 101000 id=2\nsleep 4000\n";
    start_quoting(addr, script, 2)
}

/// Starts MM1 on `script` (which should end with a long sleep); returns once `acks` orders are
/// acknowledged, with MM1's output lines so far and to come.
fn start_quoting(addr: &str, script: &str, acks: usize) -> (Child, mpsc::Receiver<String>) {
    let mut maker = mm_client(addr, "MM1", "mm1-demo-key")
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
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut acked = 0;
    let mut seen = Vec::new();
    while acked < acks {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("MM1's quotes are acknowledged within 10 s");
        if line.contains("\"ExecType\":\"New\"") {
            acked += 1;
        }
        seen.push(line);
    }
    // Hand back what was read too, in order, through a fresh channel.
    let (tx, replay) = mpsc::channel();
    std::thread::spawn(move || {
        for line in seen.into_iter().chain(rx.iter()) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (maker, replay)
}

/// Runs `session` on `script` to the end.
fn run_script(addr: &str, session: &str, key: &str, script: &str) -> Output {
    let mut client = mm_client(addr, session, key)
        .spawn()
        .unwrap_or_else(|e| panic!("start mm-client for {session}: {e}"));
    client
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    let output = client.wait_with_output().expect("mm-client finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{session} stderr: {stderr}");
    output
}

fn run_taker(addr: &str) -> Output {
    let mut taker = mm_client(addr, "MM2", "mm2-demo-key")
        .spawn()
        .expect("start mm-client for MM2");
    let script = "sell BTC-USD 0.2 99000 ioc id=11\nbuy BTC-USD 0.1 101000 fok id=12\n";
    taker
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(script.as_bytes())
        .expect("write MM2 script");
    taker.wait_with_output().expect("MM2 finishes")
}

#[test]
fn two_market_makers_trade_through_the_exchange() {
    let server = ExchangeServer::start("mm-client-e2e");
    let (maker, maker_lines) = start_maker(&server.addr);
    let taker = run_taker(&server.addr);
    let stderr = String::from_utf8_lossy(&taker.stderr);
    assert_eq!(taker.status.code(), Some(0), "MM2 stderr: {stderr}");
    let taker_lines = parse_lines(&taker.stdout);

    let sold = reports(&taker_lines, 11);
    let fill = sold
        .iter()
        .find(|v| v["ExecType"] == "Trade")
        .unwrap_or_else(|| panic!("MM2's IOC sell filled: {taker_lines:#?}"));
    assert_eq!(fill["LastPx"], "99000");
    assert_eq!(fill["LastQty"], "0.2");
    assert_eq!(fill["OrdStatus"], "Filled");
    assert_eq!(fill["Side"], "Sell");
    assert_eq!(fill["AggressorIndicator"], "True");
    let bought = reports(&taker_lines, 12);
    let fok_fill = bought
        .iter()
        .find(|v| v["ExecType"] == "Trade")
        .unwrap_or_else(|| panic!("MM2's FOK buy filled: {taker_lines:#?}"));
    assert_eq!(fok_fill["LastPx"], "101000");
    assert_eq!(fok_fill["LastQty"], "0.1");
    assert_eq!(fok_fill["Symbol"], "BTC-USD");
    assert_eq!(
        taker_lines.last().map(|v| v["msg"].clone()),
        Some(Value::from("Terminate")),
        "MM2 ends with the server's Terminate"
    );

    let maker_out = maker.wait_with_output().expect("MM1 finishes");
    assert_eq!(
        maker_out.status.code(),
        Some(0),
        "MM1 stderr: {}",
        String::from_utf8_lossy(&maker_out.stderr)
    );
    // The reader thread ends at EOF, which disconnects the channel.
    let maker_text: Vec<String> = maker_lines.iter().collect();
    let maker_lines = parse_lines(maker_text.join("\n").as_bytes());
    let bid_fill = reports(&maker_lines, 1)
        .into_iter()
        .find(|v| v["ExecType"] == "Trade")
        .unwrap_or_else(|| panic!("MM1's bid was hit: {maker_lines:#?}"));
    assert_eq!(bid_fill["LastQty"], "0.2");
    assert_eq!(bid_fill["LeavesQty"], "0.3");
    assert_eq!(bid_fill["OrdStatus"], "PartiallyFilled");
    assert_eq!(bid_fill["AggressorIndicator"], "False");
    assert_eq!(
        bid_fill["TrdMatchID"], fill["TrdMatchID"],
        "one trade, two sides"
    );
    let ask_fill = reports(&maker_lines, 2)
        .into_iter()
        .find(|v| v["ExecType"] == "Trade")
        .unwrap_or_else(|| panic!("MM1's ask was lifted: {maker_lines:#?}"));
    assert_eq!(ask_fill["LastQty"], "0.1");
    assert_eq!(ask_fill["TrdMatchID"], fok_fill["TrdMatchID"]);
    drop(server);
}

/// A decimal field of a JSON line as a number (the wire's decimals fit an f64 well enough for
/// a range check).
fn number(line: &Value, field: &str) -> f64 {
    let text = line[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {line}"));
    text.parse()
        .unwrap_or_else(|e| panic!("{field} {text:?}: {e}"))
}

#[test]
fn perp_positions_and_collateral_print_as_json_lines() {
    let server = ExchangeServer::start("mm-client-e2e");
    let admin = run_script(
        &server.addr,
        "ADMIN",
        "admin-demo-key",
        "index BTC-USD-PERP 100000 100010 99990\n",
    );
    let admin_lines = parse_lines(&admin.stdout);
    assert!(
        admin_lines.iter().any(|v| v["msg"] == "AdminAck"),
        "{admin_lines:#?}"
    );
    let (maker, maker_lines) = start_quoting(
        &server.addr,
        "sell BTC-USD-PERP 1 100000 id=1\nsleep 2000\n",
        1,
    );
    let taker = run_script(
        &server.addr,
        "MM2",
        "mm2-demo-key",
        "buy BTC-USD-PERP 1 100000 id=2\npositions\ncollateral\n",
    );
    let lines = parse_lines(&taker.stdout);
    let positions: Vec<&Value> = lines
        .iter()
        .filter(|v| v["msg"] == "PositionReport")
        .collect();
    let pushed = positions
        .iter()
        .find(|v| v.get("PosReqID").is_none())
        .unwrap_or_else(|| panic!("an unsolicited PositionReport: {lines:#?}"));
    assert_eq!(pushed["Symbol"], "BTC-USD-PERP");
    assert_eq!(
        (&pushed["LongQty"], &pushed["ShortQty"]),
        (&"1".into(), &"0".into())
    );
    assert_eq!(pushed["EntryPx"], "100000");
    assert!(pushed.get("MarkPx").is_some(), "{pushed}");
    let answered: Vec<&&Value> = positions
        .iter()
        .filter(|v| v.get("PosReqID").is_some())
        .collect();
    assert_eq!(answered.len(), 2, "one per perpetual: {positions:#?}");
    let collateral = lines
        .iter()
        .find(|v| v["msg"] == "CollateralReport")
        .unwrap_or_else(|| panic!("a CollateralReport: {lines:#?}"));
    let initial = number(collateral, "InitialMargin");
    assert!((1_990.0..=2_010.0).contains(&initial), "{collateral}");
    assert_eq!(collateral["BTCCollateralValue"], "4000000");

    let maker_out = maker.wait_with_output().expect("MM1 finishes");
    assert_eq!(maker_out.status.code(), Some(0));
    let maker_text: Vec<String> = maker_lines.iter().collect();
    let maker_lines = parse_lines(maker_text.join("\n").as_bytes());
    let short = maker_lines
        .iter()
        .find(|v| v["msg"] == "PositionReport")
        .unwrap_or_else(|| panic!("MM1's position: {maker_lines:#?}"));
    assert_eq!(
        (&short["LongQty"], &short["ShortQty"]),
        (&"0".into(), &"1".into())
    );
    drop(server);
}

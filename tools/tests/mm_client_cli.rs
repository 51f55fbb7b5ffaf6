//! The `mm-client` binary against the in-test FIXP server: output, exit codes, and that a bad
//! script sends nothing.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn mm_client(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mm-client"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mm-client");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("mm-client runs")
}

fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    addr
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

#[test]
fn one_shot_buy_prints_json_lines_and_exits_zero() {
    let (addr, server) = support::spawn(1);
    let out = mm_client(
        &[
            "--connect",
            &addr,
            "--session",
            support::SESSION,
            "--key",
            support::SECRET,
            "--json",
            "buy",
            "BTC-USD",
            "0.25",
            "99000.5",
            "--id",
            "31",
            "--post-only",
        ],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    let names: Vec<&str> = lines.iter().filter_map(|v| v["msg"].as_str()).collect();
    assert_eq!(
        names,
        [
            "NegotiationResponse",
            "EstablishmentAck",
            "ExecutionReport",
            "Terminate"
        ]
    );
    let report = &lines[2];
    assert_eq!(report["ExecType"], "New");
    assert_eq!(report["ClOrdID"], 31);
    assert_eq!(report["Symbol"], "BTC-USD");
    assert_eq!(report["Price"], "99000.5");
    assert_eq!(report["OrderQty"], "0.25");
    assert_eq!(lines[3]["TerminationCode"], "Finished");
    server.join().expect("server thread");
}

#[test]
fn script_from_stdin_prints_readable_lines() {
    let (addr, server) = support::spawn(1);
    let script = "# two quotes\nbuy ETH-USD 1 2999.99 id=1\nsell ETH-USD 1 3000.01 id=2\n";
    let out = mm_client(
        &[
            "--connect",
            &addr,
            "--session",
            support::SESSION,
            "--key",
            support::SECRET,
            "--script",
            "-",
        ],
        script,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reports: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("ExecutionReport"))
        .collect();
    assert_eq!(reports.len(), 2, "{stdout}");
    assert!(reports[0].contains("ExecType=New") && reports[0].contains("Price=2999.99"));
    assert!(reports[1].contains("ClOrdID=2") && reports[1].contains("Side=Sell"));
    server.join().expect("server thread");
}

#[test]
fn bad_script_line_exits_one_before_connecting() {
    // Nothing listens: a connection attempt would exit 2, so exit 1 shows nothing was sent.
    let out = mm_client(
        &[
            "--connect",
            &closed_port(),
            "--session",
            "MM1",
            "--key",
            "k",
            "--script",
            "-",
        ],
        "buy BTC-USD 1 100000\nbuy BTC-USD 1 0.000000001\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2:"), "{stderr}");
    assert!(stderr.contains("at most 8"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn connection_refused_exits_two() {
    let out = mm_client(
        &[
            "--connect",
            &closed_port(),
            "--session",
            "MM1",
            "--key",
            "k",
            "positions",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[test]
fn wrong_key_exits_two_with_the_reject_reason() {
    let (addr, server) = support::spawn(1);
    let out = mm_client(
        &[
            "--connect",
            &addr,
            "--session",
            support::SESSION,
            "--key",
            "wrong",
            "positions",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("negotiation rejected: Credentials"),
        "{stderr}"
    );
    server.join().expect("server thread");
}

#[test]
fn unanswered_request_exits_three_after_the_wait() {
    // The in-test server never answers a position request.
    let (addr, server) = support::spawn(1);
    let out = mm_client(
        &[
            "--connect",
            &addr,
            "--session",
            support::SESSION,
            "--key",
            support::SECRET,
            "--wait-ms",
            "300",
            "positions",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 of 1 request(s) unanswered after 300 ms"),
        "{stderr}"
    );
    server.join().expect("server thread");
}

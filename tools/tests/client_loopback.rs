//! The client against a tiny FIXP server built on the protocol module's `ServerSession`:
//! connect (signed Negotiate and Establish), send, receive, heartbeats, terminate.

mod support;

use std::time::Duration;

use exchange::protocol::codec::{
    ExecType, NegotiationRejectCode, Side, TerminationCode, TimeInForce,
};
use exchange::protocol::Plain;
use exchange_tools::client::{
    limit_order, parse_script, render, run, Client, ClientConfig, ClientError, Reference,
    RunOptions,
};

#[test]
fn connect_send_receive_terminate() {
    let (addr, server) = support::spawn(1);
    let mut client = Client::connect(&addr, support::SESSION, support::SECRET).expect("connect");
    assert_eq!(client.handshake().establishment.next_seq_no, 1);
    assert_eq!(client.handshake().negotiation.uuid, client.uuid());
    let reference = Reference::from_default_config();
    let order = limit_order(&reference, 42, Side::Buy, "BTC-USD", "0.5", "99000.5").expect("ok");
    assert_eq!(client.send(&order).expect("sent"), 1);
    let reply = client
        .recv(Duration::from_secs(5))
        .expect("no error")
        .expect("a reply within 5 s");
    assert_eq!(reply.seq_no, Some(1));
    let Plain::ExecutionReport(report) = reply.message else {
        panic!("expected an ExecutionReport, got {:?}", reply.message);
    };
    assert_eq!(report.cl_ord_id, 42);
    assert_eq!(report.exec_type, ExecType::New);
    assert_eq!(report.price, Some(9_900_050_000_000));
    let terminated = client.terminate().expect("terminate");
    assert_eq!(terminated.code, Some(TerminationCode::Finished));
    let log = server.join().expect("server thread");
    assert_eq!(
        log,
        ["Negotiate", "Establish", "NewOrderSingle", "Terminate"],
        "the server saw the handshake, the order and the Terminate"
    );
}

#[test]
fn wrong_key_is_reported_as_a_credentials_reject() {
    let (addr, server) = support::spawn(1);
    let err = Client::connect(&addr, support::SESSION, "not-the-secret").expect_err("refused");
    assert!(
        matches!(
            err,
            ClientError::NegotiationRejected {
                code: NegotiationRejectCode::Credentials
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("key does not match"), "{err}");
    server.join().expect("server thread");
}

#[test]
fn unknown_session_is_reported() {
    let (addr, server) = support::spawn(1);
    let err = Client::connect(&addr, "NOBODY", "x").expect_err("refused");
    assert!(
        matches!(
            err,
            ClientError::NegotiationRejected {
                code: NegotiationRejectCode::UnknownSession
            }
        ),
        "{err}"
    );
    server.join().expect("server thread");
}

#[test]
fn keepalive_out_of_range_is_an_establishment_reject() {
    let (addr, server) = support::spawn(1);
    let config = ClientConfig {
        keepalive_interval_ms: 50,
        ..ClientConfig::default()
    };
    let err = Client::connect_with(&addr, support::SESSION, support::SECRET, config)
        .expect_err("50 ms is below the server's minimum");
    assert!(err.to_string().contains("establishment rejected"), "{err}");
    server.join().expect("server thread");
}

#[test]
fn nothing_listening_is_a_connect_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    // The listener is dropped: nothing listens on the port any more.
    let err = Client::connect(&format!("127.0.0.1:{port}"), "MM1", "k").expect_err("refused");
    assert!(matches!(err, ClientError::Connect { .. }), "{err}");
}

#[test]
fn script_run_waits_for_answers_and_keeps_the_session_alive_while_sleeping() {
    let (addr, server) = support::spawn(1);
    let config = ClientConfig {
        keepalive_interval_ms: 100,
        ..ClientConfig::default()
    };
    let client =
        Client::connect_with(&addr, support::SESSION, support::SECRET, config).expect("connect");
    let reference = Reference::from_default_config();
    // The server terminates after two silent keepalive intervals (200 ms); the client must
    // send heartbeats through a 600 ms sleep.
    let script = "buy BTC-USD 1 100000 id=7\nsleep 600\nsell ETH-USD 13 3000 ioc id=8\n";
    let lines = parse_script(script, &reference).expect("valid script");
    let options = RunOptions {
        wait: Duration::from_secs(5),
        account: 1,
        first_id: 1000,
    };
    let mut seen = Vec::new();
    let summary = run(client, &lines, &options, &mut |r| {
        seen.push(render(r, &reference).to_json());
    })
    .expect("run");
    assert!(!summary.ended_by_server, "{seen:?}");
    assert_eq!(summary.sent, 2);
    assert_eq!(summary.unanswered, 0);
    assert_eq!(summary.termination, Some(TerminationCode::Finished));
    let reports: Vec<serde_json::Value> = seen
        .iter()
        .map(|line| serde_json::from_str(line).expect("JSON"))
        .filter(|v: &serde_json::Value| v["msg"] == "ExecutionReport")
        .collect();
    assert_eq!(reports.len(), 2, "{seen:?}");
    assert_eq!(reports[0]["ClOrdID"], 7);
    assert_eq!(reports[0]["ExecType"], "New");
    assert_eq!(reports[0]["Price"], "100000");
    assert_eq!(reports[1]["ClOrdID"], 8);
    assert_eq!(reports[1]["ExecType"], "Rejected");
    assert_eq!(
        reports[1]["TimeInForce"],
        format!("{:?}", TimeInForce::ImmediateOrCancel)
    );
    assert!(
        seen.iter().any(|l| l.contains("\"msg\":\"Sequence\"")),
        "the server's heartbeats arrive during the sleep: {seen:?}"
    );
    let log = server.join().expect("server thread");
    assert!(
        log.iter().filter(|m| *m == "Sequence").count() >= 3,
        "client heartbeats: {log:?}"
    );
}

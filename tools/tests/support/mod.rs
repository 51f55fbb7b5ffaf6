//! A tiny in-test FIXP server: the protocol module's `ServerSession` over one TCP connection
//! at a time, answering every NewOrderSingle with an ExecutionReport New (or Rejected for a
//! quantity of exactly 13 units, so tests can see a reject) and nothing else.

#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use exchange::protocol::codec::{ExecType, ExecutionReport, OrdStatus};
use exchange::protocol::fixp::{
    Action, FixpConfig, ServerSession, SessionDirectory, SessionEntry, SessionRole,
};
use exchange::protocol::sofh::{frame_len, write_header, SOFH_LEN};
use exchange::protocol::{decode, Encode, Inbound};

/// The one session the server knows.
pub const SESSION: &str = "MM1";
/// Its secret.
pub const SECRET: &str = "loopback-secret";

struct OneSession;

impl SessionDirectory for OneSession {
    fn lookup(&self, session_id: &str) -> Option<SessionEntry<'_>> {
        (session_id == SESSION).then_some(SessionEntry {
            secret: SECRET.as_bytes(),
            role: SessionRole::Trading,
            live: false,
            last_uuid: None,
            last_outbound_seq_no: 0,
            first_retained_seq_no: 1,
        })
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Listens on a free loopback port and serves `connections` connections one after another.
pub fn spawn(connections: usize) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    let addr = listener.local_addr().expect("bound").to_string();
    let handle = std::thread::spawn(move || {
        let mut log = Vec::new();
        for _ in 0..connections {
            let (stream, _) = listener.accept().expect("accept");
            serve(stream, &mut log);
        }
        log
    });
    (addr, handle)
}

fn send(stream: &mut TcpStream, message: &impl Encode) {
    let mut buf = [0u8; 1024];
    let n = message.encode(&mut buf[SOFH_LEN..]).expect("fits");
    let total = write_header(&mut buf, n).expect("fits");
    // The client may already be gone after a reject; that is its business.
    let _ = stream.write_all(&buf[..total]);
}

/// Serves one connection; logs the names of the messages received.
fn serve(mut stream: TcpStream, log: &mut Vec<String>) {
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("timeout");
    let mut session = ServerSession::new(FixpConfig::default(), now_ns());
    let mut rx = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Ok(Some(len)) = frame_len(&rx, 4096) {
            if rx.len() < len {
                break;
            }
            let frame: Vec<u8> = rx.drain(..len).collect();
            let message = decode(&frame[SOFH_LEN..]).expect("client sends valid SBE");
            log.push(message.name().to_owned());
            let actions = session.on_message(&message, now_ns(), &OneSession);
            if execute(&mut stream, &mut session, &actions, Some(&message)) {
                return;
            }
        }
        let actions = session.on_timer(now_ns());
        if execute(&mut stream, &mut session, &actions, None) {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => rx.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Executes the session's actions; true when the connection is to close.
fn execute(
    stream: &mut TcpStream,
    session: &mut ServerSession,
    actions: &exchange::protocol::fixp::Actions,
    message: Option<&Inbound<'_>>,
) -> bool {
    for action in actions.iter() {
        match action {
            Action::Send(reply) => {
                let mut buf = [0u8; 1024];
                let n = reply.encode(&mut buf[SOFH_LEN..]).expect("fits");
                let total = write_header(&mut buf, n).expect("fits");
                let _ = stream.write_all(&buf[..total]);
            }
            Action::Deliver { .. } => {
                if let Some(Inbound::NewOrderSingle(order)) = message {
                    let rejected = order.order_qty() == 13 * 100_000_000;
                    session.assign_outbound_seq_no(now_ns());
                    let report = ExecutionReport {
                        order_id: 1000 + order.cl_ord_id(),
                        cl_ord_id: order.cl_ord_id(),
                        exec_id: 1,
                        price: order.price(),
                        order_qty: order.order_qty(),
                        leaves_qty: if rejected { 0 } else { order.order_qty() },
                        transact_time: now_ns(),
                        security_id: order.security_id(),
                        ord_rej_reason: rejected.then_some(99),
                        exec_type: if rejected {
                            ExecType::Rejected
                        } else {
                            ExecType::New
                        },
                        ord_status: if rejected {
                            OrdStatus::Rejected
                        } else {
                            OrdStatus::New
                        },
                        side: order.side(),
                        ord_type: order.ord_type(),
                        time_in_force: order.time_in_force(),
                        ..Default::default()
                    };
                    send(stream, &report);
                }
            }
            Action::Close => {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return true;
            }
            _ => {}
        }
    }
    false
}

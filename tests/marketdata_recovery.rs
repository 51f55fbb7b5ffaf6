//! The TCP recovery service: serves retained ranges in order and refuses, with a reason,
//! malformed requests, ranges beyond retention or too long, abusive rates and extra
//! connections.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use exchange::marketdata::codec::{Inbound, Plain, RecoveryRejectReason, RecoveryRequest};
use exchange::marketdata::recovery::write_control;
use exchange::marketdata::{
    messages, PacketBuilder, PacketHeader, PacketRing, RecoveryLimits, RecoveryServer,
};

const LIMITS: RecoveryLimits = RecoveryLimits {
    request_packets_max: 16,
    requests_per_sec: 1000,
    connections_max: 4,
};

/// A ring of 32 packets holding sequences 1..=`last`, each a packet with one status message.
fn ring(last: u64) -> Arc<PacketRing> {
    let ring = Arc::new(PacketRing::new(32, 1400));
    let mut builder = PacketBuilder::new(1400);
    for seq in 1..=last {
        builder.start(seq as u32);
        let status = exchange::marketdata::codec::SecurityStatus {
            engine_seq: seq * 10,
            ..Default::default()
        };
        builder.push(&status).unwrap();
        ring.write(seq, builder.close(seq));
    }
    ring.publish(last);
    ring
}

fn server(ring: Arc<PacketRing>, limits: RecoveryLimits) -> RecoveryServer {
    RecoveryServer::start("127.0.0.1:0".parse().unwrap(), ring, limits).unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

fn request(stream: &mut TcpStream, id: u32, begin: u32, end: u32) {
    let mut frame = Vec::new();
    let request = RecoveryRequest {
        request_id: id,
        begin_seq_no: begin,
        end_seq_no: end,
    };
    write_control(&mut frame, &request).unwrap();
    stream.write_all(&frame).unwrap();
}

/// The next frame's packet, or `None` when the server closed the connection.
fn frame(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).ok()?;
    let mut packet = vec![0u8; u16::from_le_bytes(len) as usize];
    stream.read_exact(&mut packet).ok()?;
    Some(packet)
}

fn control(packet: &[u8]) -> Plain {
    assert_eq!(PacketHeader::read(packet).unwrap().msg_seq_num, 0);
    messages(packet).next().unwrap().unwrap().to_plain()
}

fn rejected(stream: &mut TcpStream) -> RecoveryRejectReason {
    match control(&frame(stream).expect("a reply")) {
        Plain::RecoveryReject(r) => r.reject_reason,
        other => panic!("expected a reject, got {other:?}"),
    }
}

#[test]
fn a_retained_range_is_resent_in_order_then_completed() {
    let server = server(ring(20), LIMITS);
    let mut stream = connect(server.local_addr());
    for round in 0..2 {
        request(&mut stream, 7 + round, 5, 9);
        for seq in 5..=9u32 {
            let packet = frame(&mut stream).unwrap();
            assert_eq!(PacketHeader::read(&packet).unwrap().msg_seq_num, seq);
            match messages(&packet).next().unwrap().unwrap() {
                Inbound::SecurityStatus(v) => assert_eq!(v.engine_seq(), u64::from(seq) * 10),
                other => panic!("unexpected {}", other.name()),
            }
        }
        match control(&frame(&mut stream).unwrap()) {
            Plain::RecoveryComplete(c) => assert_eq!((c.request_id, c.end_seq_no), (7 + round, 9)),
            other => panic!("expected completion, got {other:?}"),
        }
    }
}

#[test]
fn ranges_beyond_retention_or_too_long_are_refused() {
    // 40 packets in a ring of 32: 1..=8 are gone.
    let server = server(ring(40), LIMITS);
    let mut stream = connect(server.local_addr());
    request(&mut stream, 1, 3, 10);
    assert_eq!(rejected(&mut stream), RecoveryRejectReason::OutOfRange);
    request(&mut stream, 2, 39, 45);
    assert_eq!(rejected(&mut stream), RecoveryRejectReason::OutOfRange);
    request(&mut stream, 3, 10, 30);
    assert_eq!(rejected(&mut stream), RecoveryRejectReason::TooLarge);
    request(&mut stream, 4, 12, 11);
    assert_eq!(rejected(&mut stream), RecoveryRejectReason::Malformed);
    // The connection still serves a good request after those refusals.
    request(&mut stream, 5, 40, 40);
    assert!(frame(&mut stream).is_some());
}

#[test]
fn a_malformed_frame_is_refused_and_the_connection_closed() {
    let server = server(ring(4), LIMITS);
    let mut stream = connect(server.local_addr());
    stream.write_all(&[5, 0, 1, 2, 3, 4, 5]).unwrap();
    assert_eq!(rejected(&mut stream), RecoveryRejectReason::Malformed);
    assert!(frame(&mut stream).is_none(), "connection closed");
    let mut stream = connect(server.local_addr());
    stream.write_all(&[0xff, 0xff]).unwrap();
    assert_eq!(rejected(&mut stream), RecoveryRejectReason::Malformed);
}

#[test]
fn an_abusive_rate_is_refused_and_the_connection_closed() {
    let limits = RecoveryLimits {
        requests_per_sec: 3,
        ..LIMITS
    };
    let server = server(ring(4), limits);
    let mut stream = connect(server.local_addr());
    let mut limited = false;
    for id in 0..10 {
        request(&mut stream, id, 1, 1);
        let Some(packet) = frame(&mut stream) else {
            break;
        };
        if let Plain::RecoveryReject(r) = control_or_data(&packet) {
            assert_eq!(r.reject_reason, RecoveryRejectReason::RateLimited);
            assert!(r.retry_after_ms > 0);
            limited = true;
            break;
        }
        frame(&mut stream).unwrap(); // RecoveryComplete
    }
    assert!(
        limited,
        "ten requests at once passed a limit of 3 per second"
    );
    assert!(frame(&mut stream).is_none(), "connection closed");
}

fn control_or_data(packet: &[u8]) -> Plain {
    messages(packet).next().unwrap().unwrap().to_plain()
}

#[test]
fn connections_beyond_the_limit_are_refused_busy() {
    let limits = RecoveryLimits {
        connections_max: 1,
        ..LIMITS
    };
    let server = server(ring(4), limits);
    let mut first = connect(server.local_addr());
    request(&mut first, 1, 1, 1);
    assert!(
        frame(&mut first).is_some(),
        "the first connection is served"
    );
    let mut second = connect(server.local_addr());
    assert_eq!(rejected(&mut second), RecoveryRejectReason::Busy);
}

//! FIXP server state machine: every reject reason, sequencing, heartbeats, timeouts and
//! retransmission, driven through real encoded and decoded messages.

use exchange::protocol::codec::{
    AccountSetup, EstablishmentRejectCode, ExecutionReport, NegotiationRejectCode, NewOrderSingle,
    Plain, RetransmitRejectCode, RetransmitRequest, Sequence, Terminate, TerminationCode,
};
use exchange::protocol::decode;
use exchange::protocol::fixp::{
    establish_request, establish_signature, negotiate_request, negotiate_signature, Action,
    Actions, FixpConfig, Reply, ServerSession, SessionDirectory, SessionEntry, SessionRole,
    SessionState,
};

const NOW: u64 = 1_700_000_000_000_000_000;
const MS: u64 = 1_000_000;
const UUID: u64 = 42;
const SECRET: &str = "mm1-secret";

struct Directory {
    live: bool,
    role: SessionRole,
    last_outbound_seq_no: u32,
}

impl SessionDirectory for Directory {
    fn lookup(&self, session_id: &str) -> Option<SessionEntry<'_>> {
        (session_id == "MM1").then_some(SessionEntry {
            secret: SECRET.as_bytes(),
            role: self.role,
            live: self.live,
            last_uuid: Some(7),
            last_outbound_seq_no: self.last_outbound_seq_no,
            first_retained_seq_no: 1,
        })
    }
}

fn directory() -> Directory {
    Directory {
        live: false,
        role: SessionRole::Trading,
        last_outbound_seq_no: 10,
    }
}

fn feed(session: &mut ServerSession, msg: Plain, now: u64, dir: &Directory) -> Actions {
    let mut buf = [0u8; 1024];
    let n = msg.encode(&mut buf).expect("fits");
    let decoded = decode(&buf[..n]).expect("valid message");
    session.on_message(&decoded, now, dir)
}

fn first(actions: &Actions) -> Action {
    *actions.iter().next().expect("at least one action")
}

fn negotiate(session: &mut ServerSession, dir: &Directory) -> Actions {
    let request = negotiate_request("MM1", SECRET, UUID, NOW).expect("valid id");
    feed(session, Plain::Negotiate(request), NOW, dir)
}

fn established() -> (ServerSession, Directory) {
    let dir = directory();
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    negotiate(&mut session, &dir);
    let establish = establish_request("MM1", SECRET, UUID, NOW, 1, 1000).expect("valid id");
    let actions = feed(&mut session, Plain::Establish(establish), NOW, &dir);
    assert!(matches!(
        first(&actions),
        Action::Send(Reply::EstablishmentAck(_))
    ));
    assert_eq!(session.state(), SessionState::Established);
    (session, dir)
}

fn negotiation_reject(actions: &Actions) -> NegotiationRejectCode {
    assert!(
        actions.closes(),
        "a rejected negotiation closes the connection"
    );
    match first(actions) {
        Action::Send(Reply::NegotiationReject(r)) => r.negotiation_reject_code,
        other => panic!("expected NegotiationReject, got {other:?}"),
    }
}

fn establishment_reject(actions: &Actions) -> EstablishmentRejectCode {
    assert!(actions.closes());
    match first(actions) {
        Action::Send(Reply::EstablishmentReject(r)) => r.establishment_reject_code,
        other => panic!("expected EstablishmentReject, got {other:?}"),
    }
}

fn termination(actions: &Actions) -> TerminationCode {
    assert!(actions.closes());
    match first(actions) {
        Action::Send(Reply::Terminate(t)) => t.termination_code,
        other => panic!("expected Terminate, got {other:?}"),
    }
}

#[test]
fn hmac_signatures_match_known_answers() {
    let hex = |s: [u8; 32]| s.iter().map(|b| format!("{b:02x}")).collect::<String>();
    // Computed independently: HMAC-SHA256(b"mm1-secret", b"1700000000000000000\n42\nMM1").
    assert_eq!(
        hex(negotiate_signature(SECRET.as_bytes(), NOW, UUID, "MM1")),
        "a6e004e9fa23082caa16924b73d41ffe64f07eadef3aa0f9f60089fbcf05ff3d"
    );
    // ... and over b"1700000000000000000\n42\nMM1\n1\n1000".
    assert_eq!(
        hex(establish_signature(
            SECRET.as_bytes(),
            NOW,
            UUID,
            "MM1",
            1,
            1000
        )),
        "d728bb9056632810a88529248f2e0b9ce151333045b741589b4be086d36de383"
    );
}

#[test]
fn valid_negotiate_is_accepted_and_binds_the_session() {
    let dir = directory();
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    let actions = negotiate(&mut session, &dir);
    let Action::Send(Reply::NegotiationResponse(r)) = first(&actions) else {
        panic!("{actions:?}")
    };
    assert_eq!(
        (r.uuid, r.previous_uuid, r.previous_seq_no),
        (UUID, Some(7), 10)
    );
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::Bind { uuid: UUID, .. })));
    assert_eq!(session.state(), SessionState::Negotiated);
    assert_eq!(
        session.next_outbound_seq_no(),
        11,
        "server flow continues across connections"
    );
}

#[test]
fn negotiate_with_bad_signature_is_rejected_as_credentials() {
    let mut request = negotiate_request("MM1", "wrong-secret", UUID, NOW).expect("valid id");
    request.uuid = UUID;
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    let actions = feed(&mut session, Plain::Negotiate(request), NOW, &directory());
    assert_eq!(
        negotiation_reject(&actions),
        NegotiationRejectCode::Credentials
    );
}

#[test]
fn negotiate_outside_freshness_window_is_rejected_as_stale() {
    let request = negotiate_request("MM1", SECRET, UUID, NOW).expect("valid id");
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    let late = NOW + 5_000 * MS + 1;
    let actions = feed(&mut session, Plain::Negotiate(request), late, &directory());
    assert_eq!(
        negotiation_reject(&actions),
        NegotiationRejectCode::StaleTimestamp
    );
    // Exactly at the edge of the window is still fresh.
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    let actions = feed(
        &mut session,
        Plain::Negotiate(request),
        NOW - 5_000 * MS,
        &directory(),
    );
    assert!(matches!(
        first(&actions),
        Action::Send(Reply::NegotiationResponse(_))
    ));
}

#[test]
fn negotiate_for_unknown_session_is_rejected() {
    let request = negotiate_request("NOPE", SECRET, UUID, NOW).expect("valid id");
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    let actions = feed(&mut session, Plain::Negotiate(request), NOW, &directory());
    assert_eq!(
        negotiation_reject(&actions),
        NegotiationRejectCode::UnknownSession
    );
}

#[test]
fn negotiate_for_live_session_is_rejected_as_duplicate() {
    let dir = Directory {
        live: true,
        ..directory()
    };
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    assert_eq!(
        negotiation_reject(&negotiate(&mut session, &dir)),
        NegotiationRejectCode::DuplicateId
    );
}

#[test]
fn second_negotiate_on_a_connection_is_rejected() {
    let dir = directory();
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    negotiate(&mut session, &dir);
    assert_eq!(
        negotiation_reject(&negotiate(&mut session, &dir)),
        NegotiationRejectCode::AlreadyNegotiated
    );
}

#[test]
fn establish_reject_reasons() {
    let dir = directory();
    let cases: [(u64, &str, u32, u64, EstablishmentRejectCode); 5] = [
        (
            UUID + 1,
            SECRET,
            1000,
            NOW,
            EstablishmentRejectCode::Unnegotiated,
        ),
        (UUID, "bad", 1000, NOW, EstablishmentRejectCode::Credentials),
        (
            UUID,
            SECRET,
            1000,
            NOW - 6_000 * MS,
            EstablishmentRejectCode::StaleTimestamp,
        ),
        (
            UUID,
            SECRET,
            50,
            NOW,
            EstablishmentRejectCode::KeepaliveInterval,
        ),
        (
            UUID,
            SECRET,
            60_001,
            NOW,
            EstablishmentRejectCode::KeepaliveInterval,
        ),
    ];
    for (uuid, secret, keepalive, ts, code) in cases {
        let mut session = ServerSession::new(FixpConfig::default(), NOW);
        negotiate(&mut session, &dir);
        let establish = establish_request("MM1", secret, uuid, ts, 1, keepalive).expect("valid id");
        let actions = feed(&mut session, Plain::Establish(establish), NOW, &dir);
        assert_eq!(
            establishment_reject(&actions),
            code,
            "case {uuid} {secret} {keepalive} {ts}"
        );
    }
}

#[test]
fn establish_before_negotiate_or_twice_is_rejected() {
    let dir = directory();
    let establish = establish_request("MM1", SECRET, UUID, NOW, 1, 1000).expect("valid id");
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    let actions = feed(&mut session, Plain::Establish(establish), NOW, &dir);
    assert_eq!(
        establishment_reject(&actions),
        EstablishmentRejectCode::Unnegotiated
    );

    let (mut session, dir) = established();
    let actions = feed(&mut session, Plain::Establish(establish), NOW, &dir);
    assert_eq!(
        establishment_reject(&actions),
        EstablishmentRejectCode::AlreadyEstablished
    );
}

#[test]
fn application_message_before_establish_terminates() {
    let dir = directory();
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    negotiate(&mut session, &dir);
    let actions = feed(
        &mut session,
        Plain::NewOrderSingle(NewOrderSingle::default()),
        NOW,
        &dir,
    );
    assert_eq!(termination(&actions), TerminationCode::UnexpectedMessage);
    assert_eq!(session.state(), SessionState::Terminated);
    assert!(feed(
        &mut session,
        Plain::NewOrderSingle(NewOrderSingle::default()),
        NOW,
        &dir
    )
    .is_empty());
}

#[test]
fn application_messages_get_consecutive_sequence_numbers() {
    let (mut session, dir) = established();
    for expected in 1..=3 {
        let actions = feed(
            &mut session,
            Plain::NewOrderSingle(NewOrderSingle::default()),
            NOW,
            &dir,
        );
        assert_eq!(
            first(&actions),
            Action::Deliver {
                seq_no: expected,
                template_id: 1
            }
        );
    }
}

#[test]
fn admin_message_on_trading_session_is_refused_but_accepted_on_admin_session() {
    let (mut session, dir) = established();
    let actions = feed(
        &mut session,
        Plain::AccountSetup(AccountSetup::default()),
        NOW,
        &dir,
    );
    assert_eq!(
        first(&actions),
        Action::RejectUnauthorized {
            seq_no: 1,
            template_id: 100
        }
    );

    let admin = Directory {
        role: SessionRole::Admin,
        ..directory()
    };
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    negotiate(&mut session, &admin);
    let establish = establish_request("MM1", SECRET, UUID, NOW, 5, 1000).expect("valid id");
    feed(&mut session, Plain::Establish(establish), NOW, &admin);
    let actions = feed(
        &mut session,
        Plain::AccountSetup(AccountSetup::default()),
        NOW,
        &admin,
    );
    assert_eq!(
        first(&actions),
        Action::Deliver {
            seq_no: 5,
            template_id: 100
        }
    );
}

#[test]
fn server_only_message_from_client_terminates() {
    let (mut session, dir) = established();
    let actions = feed(
        &mut session,
        Plain::ExecutionReport(ExecutionReport::default()),
        NOW,
        &dir,
    );
    assert_eq!(termination(&actions), TerminationCode::UnexpectedMessage);
}

#[test]
fn sequence_gap_is_reported_not_applied_and_regression_terminates() {
    let (mut session, dir) = established();
    let actions = feed(
        &mut session,
        Plain::Sequence(Sequence {
            uuid: UUID,
            next_seq_no: 5,
        }),
        NOW,
        &dir,
    );
    let Action::Send(Reply::NotApplied(n)) = first(&actions) else {
        panic!("{actions:?}")
    };
    assert_eq!((n.from_seq_no, n.msg_count), (1, 4));
    assert_eq!(session.next_inbound_seq_no(), 5);
    let same = feed(
        &mut session,
        Plain::Sequence(Sequence {
            uuid: UUID,
            next_seq_no: 5,
        }),
        NOW,
        &dir,
    );
    assert!(same.is_empty(), "a heartbeat without gap needs no answer");
    let back = feed(
        &mut session,
        Plain::Sequence(Sequence {
            uuid: UUID,
            next_seq_no: 4,
        }),
        NOW,
        &dir,
    );
    assert_eq!(termination(&back), TerminationCode::SequenceRegression);
}

#[test]
fn heartbeat_is_sent_after_a_quiet_interval_and_silence_terminates() {
    let (mut session, dir) = established();
    assert!(session.on_timer(NOW + 999 * MS).is_empty());
    let actions = session.on_timer(NOW + 1_000 * MS);
    let Action::Send(Reply::Sequence(s)) = first(&actions) else {
        panic!("{actions:?}")
    };
    assert_eq!((s.uuid, s.next_seq_no), (UUID, 11));
    // The client's own heartbeat keeps the session alive.
    feed(
        &mut session,
        Plain::Sequence(Sequence {
            uuid: UUID,
            next_seq_no: 1,
        }),
        NOW + 1_500 * MS,
        &dir,
    );
    assert!(!session.on_timer(NOW + 3_000 * MS).closes());
    assert_eq!(
        termination(&session.on_timer(NOW + 3_501 * MS)),
        TerminationCode::KeepaliveLapsed
    );
}

#[test]
fn unestablished_connection_is_closed_after_handshake_timeout() {
    let mut session = ServerSession::new(FixpConfig::default(), NOW);
    assert!(session.on_timer(NOW + 10_000 * MS).is_empty());
    assert_eq!(first(&session.on_timer(NOW + 10_001 * MS)), Action::Close);
}

#[test]
fn retransmit_request_serves_a_bounded_range_from_the_outbound_log() {
    let (mut session, dir) = established();
    let seq = session.assign_outbound_seq_no(NOW);
    assert_eq!(seq, 11);
    let request = |from, count| {
        Plain::RetransmitRequest(RetransmitRequest {
            uuid: UUID,
            request_timestamp: NOW,
            from_seq_no: from,
            msg_count: count,
        })
    };
    let actions = feed(&mut session, request(3, 9), NOW, &dir);
    let Action::Send(Reply::Retransmission(r)) = first(&actions) else {
        panic!("{actions:?}")
    };
    assert_eq!((r.next_seq_no, r.msg_count), (3, 9));
    assert!(actions.iter().any(|a| *a
        == Action::Retransmit {
            from_seq_no: 3,
            count: 9
        }));

    let reject = |actions: Actions| match first(&actions) {
        Action::Send(Reply::RetransmitReject(r)) => r.retransmit_reject_code,
        other => panic!("expected RetransmitReject, got {other:?}"),
    };
    assert_eq!(
        reject(feed(&mut session, request(3, 10), NOW, &dir)),
        RetransmitRejectCode::OutOfRange
    );
    assert_eq!(
        reject(feed(&mut session, request(0, 1), NOW, &dir)),
        RetransmitRejectCode::OutOfRange
    );
    assert_eq!(
        reject(feed(&mut session, request(1, 10_001), NOW, &dir)),
        RetransmitRejectCode::RequestLimitExceeded
    );
    let mut other = RetransmitRequest {
        uuid: UUID + 1,
        from_seq_no: 1,
        msg_count: 1,
        ..Default::default()
    };
    other.request_timestamp = NOW;
    assert_eq!(
        reject(feed(
            &mut session,
            Plain::RetransmitRequest(other),
            NOW,
            &dir
        )),
        RetransmitRejectCode::InvalidSession
    );
}

#[test]
fn client_terminate_is_answered_and_closes() {
    let (mut session, dir) = established();
    let terminate = Terminate {
        uuid: UUID,
        request_timestamp: NOW,
        termination_code: TerminationCode::Finished,
    };
    let actions = feed(&mut session, Plain::Terminate(terminate), NOW, &dir);
    assert_eq!(termination(&actions), TerminationCode::Finished);
}

#[test]
fn malformed_input_terminates_with_invalid_message() {
    let (mut session, _dir) = established();
    assert_eq!(
        termination(&session.on_malformed(NOW)),
        TerminationCode::InvalidMessage
    );
    assert!(session.on_malformed(NOW).is_empty());
}

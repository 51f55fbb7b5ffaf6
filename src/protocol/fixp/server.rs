//! The server side of one FIXP connection.

use super::action::{Action, Actions, Reply};
use super::config::FixpConfig;
use super::directory::{SessionDirectory, SessionEntry, SessionRole};
use super::session_id::{session_id_str, SESSION_ID_LEN};
use super::signature::{establish_signature, negotiate_signature, verify};
use crate::protocol::codec::{
    EstablishView, EstablishmentAck, EstablishmentReject, EstablishmentRejectCode, Inbound,
    NegotiateView, NegotiationReject, NegotiationRejectCode, NegotiationResponse, NotApplied,
    Retransmission, RetransmitReject, RetransmitRejectCode, RetransmitRequestView, Sequence,
    SequenceView, Terminate, TerminationCode,
};

/// Where a connection is in the FIXP handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Connected; waiting for Negotiate.
    AwaitNegotiate,
    /// Negotiated; waiting for Establish.
    Negotiated,
    /// Established: application messages flow.
    Established,
    /// Terminated; the connection is closing and input is ignored.
    Terminated,
}

/// State of one connection. Pure: every input carries the current time in ns since the Unix
/// epoch, and every output is an [`Actions`] list for the gateway to execute.
#[derive(Debug, Clone)]
pub struct ServerSession {
    config: FixpConfig,
    state: SessionState,
    session_id: [u8; SESSION_ID_LEN],
    role: SessionRole,
    uuid: u64,
    keepalive_ms: u32,
    next_inbound_seq_no: u32,
    next_outbound_seq_no: u32,
    opened_ns: u64,
    last_received_ns: u64,
    last_sent_ns: u64,
}

impl ServerSession {
    /// A connection accepted at `now_ns`.
    pub fn new(config: FixpConfig, now_ns: u64) -> Self {
        ServerSession {
            config,
            state: SessionState::AwaitNegotiate,
            session_id: [0; SESSION_ID_LEN],
            role: SessionRole::Trading,
            uuid: 0,
            keepalive_ms: 0,
            next_inbound_seq_no: 1,
            next_outbound_seq_no: 1,
            opened_ns: now_ns,
            last_received_ns: now_ns,
            last_sent_ns: now_ns,
        }
    }

    /// Handshake state.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Wire SessionID (zeros before negotiation).
    pub fn session_id(&self) -> [u8; SESSION_ID_LEN] {
        self.session_id
    }

    /// UUID of the connection (0 before negotiation).
    pub fn uuid(&self) -> u64 {
        self.uuid
    }

    /// Rights of the negotiated session.
    pub fn role(&self) -> SessionRole {
        self.role
    }

    /// Sequence number the next client application message will get.
    pub fn next_inbound_seq_no(&self) -> u32 {
        self.next_inbound_seq_no
    }

    /// Sequence number the next server application message will get.
    pub fn next_outbound_seq_no(&self) -> u32 {
        self.next_outbound_seq_no
    }

    /// Stamps a server application message the gateway is about to send at `now_ns` and
    /// returns its sequence number (it then goes to the outbound log under that number).
    pub fn assign_outbound_seq_no(&mut self, now_ns: u64) -> u32 {
        let seq_no = self.next_outbound_seq_no;
        self.next_outbound_seq_no = seq_no.saturating_add(1);
        self.last_sent_ns = now_ns;
        seq_no
    }

    /// Handles one decoded message received at `now_ns`.
    pub fn on_message(
        &mut self,
        message: &Inbound<'_>,
        now_ns: u64,
        directory: &impl SessionDirectory,
    ) -> Actions {
        if self.state == SessionState::Terminated {
            return Actions::none();
        }
        self.last_received_ns = now_ns;
        match message {
            Inbound::Negotiate(m) => self.on_negotiate(m, now_ns, directory),
            Inbound::Establish(m) => self.on_establish(m, now_ns, directory),
            Inbound::Sequence(m) => self.on_sequence(m, now_ns),
            Inbound::RetransmitRequest(m) => self.on_retransmit_request(m, now_ns, directory),
            Inbound::Terminate(_) => self.terminate(TerminationCode::Finished, now_ns),
            Inbound::NewOrderSingle(_)
            | Inbound::OrderCancelRequest(_)
            | Inbound::OrderCancelReplaceRequest(_)
            | Inbound::OrderMassCancelRequest(_)
            | Inbound::RequestForPositions(_)
            | Inbound::CollateralInquiry(_)
            | Inbound::MassQuote(_)
            | Inbound::QuoteCancel(_)
            | Inbound::MmpConfig(_)
            | Inbound::MmpReset(_) => self.on_application(message.template_id(), false, now_ns),
            Inbound::AccountSetup(_)
            | Inbound::FundsTransfer(_)
            | Inbound::CollateralValueUpdate(_)
            | Inbound::IndexConstituents(_)
            | Inbound::SecurityStatusUpdate(_)
            | Inbound::RiskParameterUpdate(_)
            | Inbound::KillSwitch(_) => self.on_application(message.template_id(), true, now_ns),
            // Everything else only ever flows from the server to the client.
            _ => self.terminate(TerminationCode::UnexpectedMessage, now_ns),
        }
    }

    /// A frame that failed to decode (SOFH or SBE): the stream cannot be trusted any more.
    pub fn on_malformed(&mut self, now_ns: u64) -> Actions {
        if self.state == SessionState::Terminated {
            return Actions::none();
        }
        self.terminate(TerminationCode::InvalidMessage, now_ns)
    }

    /// Time passes: sends a heartbeat when the server has been quiet for a keepalive interval,
    /// terminates when the client has been silent for `keepalive_lapse_intervals` intervals,
    /// and closes a connection that has not established within the handshake timeout.
    pub fn on_timer(&mut self, now_ns: u64) -> Actions {
        match self.state {
            SessionState::Terminated => Actions::none(),
            SessionState::AwaitNegotiate | SessionState::Negotiated => {
                if now_ns.saturating_sub(self.opened_ns) > self.config.handshake_timeout_ns {
                    self.state = SessionState::Terminated;
                    Actions::one(Action::Close)
                } else {
                    Actions::none()
                }
            }
            SessionState::Established => {
                let interval_ns = u64::from(self.keepalive_ms) * 1_000_000;
                let lapse_ns = interval_ns * u64::from(self.config.keepalive_lapse_intervals);
                if now_ns.saturating_sub(self.last_received_ns) > lapse_ns {
                    return self.terminate(TerminationCode::KeepaliveLapsed, now_ns);
                }
                if now_ns.saturating_sub(self.last_sent_ns) >= interval_ns {
                    self.last_sent_ns = now_ns;
                    let next_seq_no = self.next_outbound_seq_no;
                    return Actions::one(Action::Send(Reply::Sequence(Sequence {
                        uuid: self.uuid,
                        next_seq_no,
                    })));
                }
                Actions::none()
            }
        }
    }

    fn is_fresh(&self, timestamp_ns: u64, now_ns: u64) -> bool {
        timestamp_ns.abs_diff(now_ns) <= self.config.freshness_window_ns
    }

    fn terminate(&mut self, code: TerminationCode, now_ns: u64) -> Actions {
        self.state = SessionState::Terminated;
        self.last_sent_ns = now_ns;
        let reply = Terminate {
            uuid: self.uuid,
            request_timestamp: now_ns,
            termination_code: code,
        };
        Actions::two(Action::Send(Reply::Terminate(reply)), Action::Close)
    }

    fn reject_negotiation(
        &mut self,
        m: &NegotiateView<'_>,
        code: NegotiationRejectCode,
    ) -> Actions {
        self.state = SessionState::Terminated;
        let reply = NegotiationReject {
            uuid: m.uuid(),
            request_timestamp: m.request_timestamp(),
            negotiation_reject_code: code,
        };
        Actions::two(Action::Send(Reply::NegotiationReject(reply)), Action::Close)
    }

    /// Checks, in order: not negotiated yet, known session, signature, freshness, not live.
    fn on_negotiate(
        &mut self,
        m: &NegotiateView<'_>,
        now_ns: u64,
        directory: &impl SessionDirectory,
    ) -> Actions {
        if self.state != SessionState::AwaitNegotiate {
            return self.reject_negotiation(m, NegotiationRejectCode::AlreadyNegotiated);
        }
        let wire_id = m.session_id();
        let Some((name, entry)) = lookup(&wire_id, directory) else {
            return self.reject_negotiation(m, NegotiationRejectCode::UnknownSession);
        };
        let expected = negotiate_signature(entry.secret, m.request_timestamp(), m.uuid(), name);
        if !verify(&expected, &m.hmac_signature()) {
            return self.reject_negotiation(m, NegotiationRejectCode::Credentials);
        }
        if !self.is_fresh(m.request_timestamp(), now_ns) {
            return self.reject_negotiation(m, NegotiationRejectCode::StaleTimestamp);
        }
        if entry.live {
            return self.reject_negotiation(m, NegotiationRejectCode::DuplicateId);
        }
        self.state = SessionState::Negotiated;
        self.session_id = wire_id;
        self.role = entry.role;
        self.uuid = m.uuid();
        self.next_outbound_seq_no = entry.last_outbound_seq_no.saturating_add(1);
        self.last_sent_ns = now_ns;
        let reply = NegotiationResponse {
            uuid: m.uuid(),
            request_timestamp: m.request_timestamp(),
            previous_uuid: entry.last_uuid,
            previous_seq_no: entry.last_outbound_seq_no,
        };
        Actions::two(
            Action::Send(Reply::NegotiationResponse(reply)),
            Action::Bind {
                session_id: wire_id,
                uuid: m.uuid(),
            },
        )
    }

    fn reject_establish(
        &mut self,
        m: &EstablishView<'_>,
        code: EstablishmentRejectCode,
    ) -> Actions {
        self.state = SessionState::Terminated;
        let reply = EstablishmentReject {
            uuid: m.uuid(),
            request_timestamp: m.request_timestamp(),
            next_seq_no: self.next_outbound_seq_no,
            establishment_reject_code: code,
        };
        Actions::two(
            Action::Send(Reply::EstablishmentReject(reply)),
            Action::Close,
        )
    }

    /// Checks, in order: negotiated, same UUID, signature, freshness, keepalive range,
    /// a non-zero NextSeqNo.
    fn on_establish(
        &mut self,
        m: &EstablishView<'_>,
        now_ns: u64,
        directory: &impl SessionDirectory,
    ) -> Actions {
        match self.state {
            SessionState::AwaitNegotiate => {
                return self.reject_establish(m, EstablishmentRejectCode::Unnegotiated);
            }
            SessionState::Established => {
                return self.reject_establish(m, EstablishmentRejectCode::AlreadyEstablished);
            }
            SessionState::Negotiated | SessionState::Terminated => {}
        }
        if m.uuid() != self.uuid {
            return self.reject_establish(m, EstablishmentRejectCode::Unnegotiated);
        }
        let wire_id = self.session_id;
        let Some((name, entry)) = lookup(&wire_id, directory) else {
            return self.reject_establish(m, EstablishmentRejectCode::Unnegotiated);
        };
        let expected = establish_signature(
            entry.secret,
            m.request_timestamp(),
            m.uuid(),
            name,
            m.next_seq_no(),
            m.keepalive_interval(),
        );
        if !verify(&expected, &m.hmac_signature()) {
            return self.reject_establish(m, EstablishmentRejectCode::Credentials);
        }
        if !self.is_fresh(m.request_timestamp(), now_ns) {
            return self.reject_establish(m, EstablishmentRejectCode::StaleTimestamp);
        }
        let keepalive = m.keepalive_interval();
        if keepalive < self.config.keepalive_min_ms || keepalive > self.config.keepalive_max_ms {
            return self.reject_establish(m, EstablishmentRejectCode::KeepaliveInterval);
        }
        if m.next_seq_no() == 0 {
            return self.reject_establish(m, EstablishmentRejectCode::Unspecified);
        }
        self.establish(m, now_ns)
    }

    fn establish(&mut self, m: &EstablishView<'_>, now_ns: u64) -> Actions {
        self.state = SessionState::Established;
        self.keepalive_ms = m.keepalive_interval();
        self.next_inbound_seq_no = m.next_seq_no();
        self.last_sent_ns = now_ns;
        let reply = EstablishmentAck {
            uuid: m.uuid(),
            request_timestamp: m.request_timestamp(),
            next_seq_no: self.next_outbound_seq_no,
            keepalive_interval: self.keepalive_ms,
        };
        Actions::one(Action::Send(Reply::EstablishmentAck(reply)))
    }

    /// Idempotent client flow: a forward jump is reported with NotApplied and accepted; a
    /// jump backwards would reuse numbers of applied messages, so it terminates.
    fn on_sequence(&mut self, m: &SequenceView<'_>, now_ns: u64) -> Actions {
        if self.state != SessionState::Established {
            return self.terminate(TerminationCode::UnexpectedMessage, now_ns);
        }
        let announced = m.next_seq_no();
        let expected = self.next_inbound_seq_no;
        if announced < expected {
            return self.terminate(TerminationCode::SequenceRegression, now_ns);
        }
        if announced == expected {
            return Actions::none();
        }
        self.next_inbound_seq_no = announced;
        self.last_sent_ns = now_ns;
        let reply = NotApplied {
            uuid: self.uuid,
            from_seq_no: expected,
            msg_count: announced - expected,
        };
        Actions::one(Action::Send(Reply::NotApplied(reply)))
    }

    fn on_application(&mut self, template_id: u16, admin: bool, now_ns: u64) -> Actions {
        if self.state != SessionState::Established {
            return self.terminate(TerminationCode::UnexpectedMessage, now_ns);
        }
        let seq_no = self.next_inbound_seq_no;
        let Some(next) = seq_no.checked_add(1) else {
            // 2^32 - 1 messages on one session: the client must start a new session.
            return self.terminate(TerminationCode::Unspecified, now_ns);
        };
        self.next_inbound_seq_no = next;
        if admin && self.role != SessionRole::Admin {
            return Actions::one(Action::RejectUnauthorized {
                seq_no,
                template_id,
            });
        }
        Actions::one(Action::Deliver {
            seq_no,
            template_id,
        })
    }

    fn on_retransmit_request(
        &mut self,
        m: &RetransmitRequestView<'_>,
        now_ns: u64,
        directory: &impl SessionDirectory,
    ) -> Actions {
        if self.state != SessionState::Established {
            return self.terminate(TerminationCode::UnexpectedMessage, now_ns);
        }
        let reject = |code| {
            Actions::one(Action::Send(Reply::RetransmitReject(RetransmitReject {
                uuid: m.uuid(),
                request_timestamp: m.request_timestamp(),
                retransmit_reject_code: code,
            })))
        };
        if m.uuid() != self.uuid {
            return reject(RetransmitRejectCode::InvalidSession);
        }
        let (from, count) = (m.from_seq_no(), m.msg_count());
        if count > self.config.retransmit_max_msgs {
            return reject(RetransmitRejectCode::RequestLimitExceeded);
        }
        let last_sent = self.next_outbound_seq_no.saturating_sub(1);
        // Messages that aged out of the gateway's outbound log cannot be resent.
        let first_kept = session_id_str(&self.session_id)
            .ok()
            .and_then(|name| directory.lookup(name))
            .map_or(1, |entry| entry.first_retained_seq_no.max(1));
        let in_range = from >= first_kept
            && count >= 1
            && u64::from(from) + u64::from(count) - 1 <= u64::from(last_sent);
        if !in_range {
            return reject(RetransmitRejectCode::OutOfRange);
        }
        self.last_sent_ns = now_ns;
        let reply = Retransmission {
            uuid: self.uuid,
            request_timestamp: m.request_timestamp(),
            next_seq_no: from,
            msg_count: count,
        };
        Actions::two(
            Action::Send(Reply::Retransmission(reply)),
            Action::Retransmit {
                from_seq_no: from,
                count,
            },
        )
    }
}

fn lookup<'d>(
    wire_id: &'d [u8; SESSION_ID_LEN],
    directory: &'d impl SessionDirectory,
) -> Option<(&'d str, SessionEntry<'d>)> {
    let name = session_id_str(wire_id).ok()?;
    directory.lookup(name).map(|entry| (name, entry))
}

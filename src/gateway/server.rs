//! The gateway proper: accepts connections, splits frames, runs the FIXP session layer, rate
//! limits, and collects application messages into a batch for the sequencer. Replies come back
//! through `send_to_account`, which numbers them in the session's outbound flow, keeps them in
//! its outbound log and queues them on the live connection, if any.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};

use super::config::GatewayConfig;
use super::connection::{Connection, ReadOutcome};
use super::rate_limit::RateLimiter;
use super::sessions::{SessionIndex, SessionTable};
use crate::engine::AccountId;
use crate::protocol::codec::{self as wire, decode, Encode};
use crate::protocol::fixp::{session_id_str, Action, Actions, ServerSession, SessionState};
use crate::protocol::mapping::Reply;
use crate::protocol::sofh::Frames;

const LISTENER: Token = Token(usize::MAX);

/// BusinessRejectReason for a message beyond the session's rate limit (venue-specific).
pub const REJECT_THROTTLED: u16 = 100;
/// BusinessRejectReason 6: not authorized (admin message on a trading session).
pub const REJECT_NOT_AUTHORIZED: u16 = 6;

/// The gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot listen on {addr}: {source} (is another exchange running on that port?)")]
    Listen { addr: String, source: io::Error },
    #[error("poll: {0}")]
    Poll(#[from] io::Error),
}

/// One application message waiting for the sequencer.
#[derive(Clone, Copy, Debug)]
pub struct Inbound {
    pub connection: usize,
    pub session: SessionIndex,
    pub account: AccountId,
    pub operator: bool,
    pub template_id: u16,
    offset: usize,
    len: usize,
}

/// Application messages collected by one poll, with their bytes, in arrival order.
pub struct InboundBatch {
    bytes: Vec<u8>,
    pub items: Vec<Inbound>,
    max_items: usize,
}

impl InboundBatch {
    fn new(max_items: usize, max_frame_bytes: usize) -> InboundBatch {
        InboundBatch {
            bytes: Vec::with_capacity(max_items * max_frame_bytes),
            items: Vec::with_capacity(max_items),
            max_items,
        }
    }

    fn is_full(&self) -> bool {
        self.items.len() >= self.max_items
    }

    /// The SBE bytes of `item`.
    pub fn message(&self, item: &Inbound) -> &[u8] {
        &self.bytes[item.offset..item.offset + item.len]
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }
}

/// The order-entry gateway.
pub struct Gateway {
    poll: Poll,
    events: Events,
    /// Tokens of the last poll's events (kept to avoid allocating per poll).
    tokens: Vec<Token>,
    listener: TcpListener,
    local_addr: SocketAddr,
    connections: Vec<Option<Connection>>,
    pub sessions: SessionTable,
    config: GatewayConfig,
    pub batch: InboundBatch,
    /// Sessions that lost their connection with cancel-on-disconnect set.
    disconnects: Vec<SessionIndex>,
    scratch: Vec<u8>,
    frame: Vec<u8>,
    /// Connections refused because the table was full.
    pub refused_connections: u64,
    /// The connection `take_in_turn` serves first at the next poll.
    first_in_turn: usize,
    /// Malformed and throttled messages of closed connections.
    pub totals: super::connection::ConnStats,
}

impl Gateway {
    /// Binds the listening socket.
    ///
    /// # Errors
    /// The address cannot be parsed or bound, or the poller cannot be created.
    pub fn bind(config: GatewayConfig) -> Result<Gateway, GatewayError> {
        let listen_err = |source| GatewayError::Listen {
            addr: config.listen.clone(),
            source,
        };
        let addr: SocketAddr = config
            .listen
            .parse()
            .map_err(|e| listen_err(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        let mut listener = TcpListener::bind(addr).map_err(listen_err)?;
        let local_addr = listener.local_addr()?;
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let sessions = SessionTable::new(
            &config.sessions,
            config.outbound_log_messages,
            config.outbound_log_bytes,
        );
        let connections = (0..config.max_connections).map(|_| None).collect();
        Ok(Gateway {
            poll,
            events: Events::with_capacity(256),
            tokens: Vec::with_capacity(256),
            listener,
            local_addr,
            connections,
            sessions,
            batch: InboundBatch::new(config.max_batch_messages, config.max_frame_bytes),
            disconnects: Vec::with_capacity(config.sessions.len()),
            scratch: vec![0; config.max_frame_bytes],
            frame: Vec::with_capacity(config.max_frame_bytes),
            refused_connections: 0,
            first_in_turn: 0,
            totals: Default::default(),
            config,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits up to `timeout` (`Some(ZERO)` to spin) for socket events, accepts, reads and
    /// decodes; application messages land in `self.batch`.
    ///
    /// # Errors
    /// The poller failed.
    pub fn poll(&mut self, timeout: Option<Duration>, now_ns: u64) -> io::Result<()> {
        if let Err(e) = self.poll.poll(&mut self.events, timeout) {
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        self.tokens.clear();
        self.tokens.extend(self.events.iter().map(|e| e.token()));
        for i in 0..self.tokens.len() {
            let token = self.tokens[i];
            if token == LISTENER {
                self.accept(now_ns);
            } else {
                self.service(token.0, now_ns);
            }
        }
        self.take_in_turn(now_ns);
        Ok(())
    }

    /// Fills the batch one message per connection in turn, starting one connection further
    /// at each poll, so that a session flooding the gateway (within its rate limit) cannot
    /// hold another session's messages behind its own backlog: another session waits for at
    /// most one message of each busy connection per turn.
    fn take_in_turn(&mut self, now_ns: u64) {
        let n = self.connections.len();
        loop {
            let mut took = false;
            for k in 0..n {
                if self.batch.is_full() {
                    return;
                }
                let index = (self.first_in_turn + k) % n;
                self.refill(index, now_ns);
                if self.has_input(index) {
                    took |= self.process_input(index, now_ns, 1) > 0;
                }
            }
            if !took {
                break;
            }
        }
        self.first_in_turn = (self.first_in_turn + 1) % n.max(1);
    }

    /// Reads again a connection whose last read stopped at a full buffer, once half of the
    /// buffer is free: its socket may hold more that no new edge will announce.
    fn refill(&mut self, index: usize, now_ns: u64) {
        let due = self.connections[index]
            .as_ref()
            .is_some_and(|c| c.more_on_socket && c.input_half_free() && !c.closing);
        if due {
            self.service(index, now_ns);
        }
    }

    fn has_input(&self, index: usize) -> bool {
        self.connections[index]
            .as_ref()
            .is_some_and(|c| !c.input().is_empty() && !c.closing)
    }

    /// Whether some connection holds unprocessed input (the caller should not block).
    pub fn has_pending_input(&self) -> bool {
        let unread = |i: usize| {
            self.connections[i]
                .as_ref()
                .is_some_and(|c| c.more_on_socket && !c.closing)
        };
        (0..self.connections.len()).any(|i| self.has_input(i) || unread(i))
    }

    fn accept(&mut self, now_ns: u64) {
        loop {
            let (mut stream, _) = match self.listener.accept() {
                Ok(pair) => pair,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    eprintln!("exchange: accept failed: {e}");
                    return;
                }
            };
            let Some(index) = self.connections.iter().position(Option::is_none) else {
                self.refused_connections += 1;
                continue; // dropping the stream closes it
            };
            let _ = stream.set_nodelay(true);
            let interest = Interest::READABLE | Interest::WRITABLE;
            if self
                .poll
                .registry()
                .register(&mut stream, Token(index), interest)
                .is_err()
            {
                continue;
            }
            let c = &self.config;
            let fixp = ServerSession::new(c.fixp, now_ns);
            let limiter = RateLimiter::new(c.rate_limit_per_sec, c.rate_limit_burst, now_ns);
            let conn = Connection::new(
                stream,
                fixp,
                limiter,
                c.input_buffer_bytes,
                c.output_buffer_bytes,
            );
            self.connections[index] = Some(conn);
        }
    }

    fn service(&mut self, index: usize, now_ns: u64) {
        let Some(conn) = self.connections.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        if conn.has_output() && conn.flush().is_err() {
            self.close(index);
            return;
        }
        match conn.fill() {
            // Messages are taken in turn with the other connections (`take_in_turn`).
            Ok(ReadOutcome::Open) => {}
            Ok(ReadOutcome::Closed) | Err(_) => {
                self.process_input(index, now_ns, usize::MAX);
                self.close(index);
            }
        }
    }

    /// Splits up to `max` complete frames out of the connection's input and handles each one;
    /// returns how many.
    fn process_input(&mut self, index: usize, now_ns: u64, max: usize) -> usize {
        let mut taken = 0;
        loop {
            if self.batch.is_full() || taken == max {
                return taken;
            }
            let Some(conn) = self.connections[index].as_mut() else {
                return taken;
            };
            if conn.closing {
                let consumed = conn.input().len();
                conn.consume(consumed);
                return taken;
            }
            let mut frames = Frames::new(conn.input(), self.config.max_frame_bytes);
            let frame = match frames.next() {
                None => return taken,
                Some(Ok(frame)) => frame,
                Some(Err(_)) => {
                    conn.stats.malformed += 1;
                    let actions = conn.fixp.on_malformed(now_ns);
                    self.execute(index, actions, None, now_ns);
                    return taken;
                }
            };
            self.frame.clear();
            self.frame.extend_from_slice(frame);
            let consumed = frames.consumed();
            conn.consume(consumed);
            conn.stats.messages_in += 1;
            self.handle_frame(index, now_ns);
            taken += 1;
        }
    }

    fn handle_frame(&mut self, index: usize, now_ns: u64) {
        let frame = std::mem::take(&mut self.frame);
        let actions = match decode(&frame) {
            Ok(message) => {
                let conn = self.connections[index]
                    .as_mut()
                    .expect("connection being served");
                conn.fixp.on_message(&message, now_ns, &self.sessions)
            }
            Err(_) => {
                let conn = self.connections[index]
                    .as_mut()
                    .expect("connection being served");
                conn.stats.malformed += 1;
                conn.fixp.on_malformed(now_ns)
            }
        };
        self.execute(index, actions, Some(&frame), now_ns);
        self.frame = frame;
    }

    /// Carries out what the session layer asked for.
    fn execute(&mut self, index: usize, actions: Actions, frame: Option<&[u8]>, now_ns: u64) {
        for action in actions.iter() {
            match *action {
                Action::Send(reply) => {
                    let conn = self.connections[index].as_mut().expect("live connection");
                    let len = self.config.max_frame_bytes;
                    if !conn.queue_with(len, |buf| reply.encode(buf)) {
                        conn.closing = true;
                    }
                }
                Action::Bind { session_id, uuid } => self.bind_session(index, session_id, uuid),
                Action::Deliver { template_id, .. } => {
                    if let Some(frame) = frame {
                        self.deliver(index, template_id, frame, now_ns);
                    }
                }
                Action::RejectUnauthorized {
                    seq_no,
                    template_id,
                } => {
                    self.business_reject(index, seq_no, template_id, REJECT_NOT_AUTHORIZED, now_ns);
                }
                Action::Retransmit { from_seq_no, count } => {
                    self.retransmit(index, from_seq_no, count);
                }
                Action::Close => {
                    if let Some(conn) = self.connections[index].as_mut() {
                        conn.closing = true;
                    }
                }
            }
        }
    }

    fn bind_session(&mut self, index: usize, session_id: [u8; 16], uuid: u64) {
        let Some(session) = session_id_str(&session_id)
            .ok()
            .and_then(|n| self.sessions.by_name(n))
        else {
            return;
        };
        let slot = &mut self.sessions.sessions[session];
        slot.connection = Some(index);
        slot.last_uuid = Some(uuid);
        if let Some(conn) = self.connections[index].as_mut() {
            conn.session = Some(session);
        }
    }

    fn deliver(&mut self, index: usize, template_id: u16, frame: &[u8], now_ns: u64) {
        let conn = self.connections[index].as_mut().expect("live connection");
        let Some(session) = conn.session else {
            return;
        };
        let seq_no = conn.fixp.next_inbound_seq_no().saturating_sub(1);
        if !conn.limiter.try_take(now_ns) {
            conn.stats.throttled += 1;
            self.business_reject(index, seq_no, template_id, REJECT_THROTTLED, now_ns);
            return;
        }
        let config = &self.sessions.sessions[session].config;
        let offset = self.batch.bytes.len();
        self.batch.bytes.extend_from_slice(frame);
        self.batch.items.push(Inbound {
            connection: index,
            session,
            account: config.account,
            operator: config.operator,
            template_id,
            offset,
            len: frame.len(),
        });
    }

    fn business_reject(&mut self, index: usize, seq_no: u32, template: u16, reason: u16, now: u64) {
        let Some(session) = self.connections[index].as_ref().and_then(|c| c.session) else {
            return;
        };
        let text = match reason {
            REJECT_THROTTLED => "message rate limit exceeded",
            REJECT_NOT_AUTHORIZED => "admin messages are for operator sessions only",
            _ => "rejected",
        };
        let reject = wire::BusinessMessageReject {
            business_reject_ref_id: None,
            transact_time: now,
            ref_seq_num: seq_no,
            ref_msg_type: template,
            business_reject_reason: reason,
            text: wire::VarData::from_text(text).unwrap_or_default(),
        };
        self.send_to_session(session, &reject, now);
    }

    fn retransmit(&mut self, index: usize, from: u32, count: u32) {
        let Some(conn) = self.connections[index].as_mut() else {
            return;
        };
        let Some(session) = conn.session else {
            return;
        };
        // The session layer refused ranges outside the log (first_retained_seq_no).
        let log = &self.sessions.sessions[session].log;
        debug_assert!(
            log.holds(from, count),
            "FIXP accepted a range the log no longer holds"
        );
        for seq_no in from..from.saturating_add(count) {
            let Some(message) = log.get(seq_no) else {
                conn.closing = true;
                return;
            };
            if !conn.queue_bytes(message) {
                conn.closing = true;
                return;
            }
        }
    }

    /// Numbers `message` in the session's outbound flow, logs it, and queues it on the
    /// session's live connection. A connection whose output buffer is full is terminated
    /// (slow consumer); the message stays in the log for retransmission.
    pub fn send_to_session(&mut self, session: SessionIndex, message: &impl Encode, now_ns: u64) {
        let Ok(len) = message.encode(&mut self.scratch) else {
            return;
        };
        let slot = &mut self.sessions.sessions[session];
        let mut conn = slot.connection.and_then(|i| self.connections[i].as_mut());
        let seq_no = match conn {
            Some(ref mut conn) if conn.fixp.state() == SessionState::Established => {
                conn.fixp.assign_outbound_seq_no(now_ns)
            }
            _ => slot.last_outbound_seq_no.wrapping_add(1),
        };
        slot.last_outbound_seq_no = seq_no;
        slot.log.push(seq_no, &self.scratch[..len]);
        if let Some(conn) = conn {
            if conn.fixp.state() == SessionState::Established
                && !conn.closing
                && !conn.queue_bytes(&self.scratch[..len])
            {
                slow_consumer(conn);
            }
        }
    }

    /// Sends an engine reply to every session of `account`.
    pub fn send_to_account(&mut self, account: AccountId, reply: &Reply, now_ns: u64) {
        for session in 0..self.sessions.sessions.len() {
            if self.sessions.sessions[session].config.account != account {
                continue;
            }
            match reply {
                Reply::Execution(m) => self.send_to_session(session, m, now_ns),
                Reply::CancelReject(m) => self.send_to_session(session, m, now_ns),
                Reply::MassCancelReport(m) => self.send_to_session(session, m, now_ns),
                Reply::AdminAck(m) => self.send_to_session(session, m, now_ns),
                Reply::AdminReject(m) => self.send_to_session(session, m, now_ns),
                Reply::Position(m) => self.send_to_session(session, m, now_ns),
                Reply::FundingPayment(m) => self.send_to_session(session, m, now_ns),
                Reply::MarginCall(m) => self.send_to_session(session, m, now_ns),
                Reply::Liquidation(m) => self.send_to_session(session, m, now_ns),
                Reply::MassQuoteAck(m) => self.send_to_session(session, m, now_ns),
                Reply::QuoteCancelAck(m) => self.send_to_session(session, m, now_ns),
                Reply::MmpAck(m) => self.send_to_session(session, m, now_ns),
                Reply::MmpTriggered(m) => self.send_to_session(session, m, now_ns),
            }
        }
    }

    /// Writes queued output, and closes connections marked for closing once flushed.
    pub fn flush(&mut self) {
        for index in 0..self.connections.len() {
            let Some(conn) = self.connections[index].as_mut() else {
                continue;
            };
            let failed = conn.has_output() && conn.flush().is_err();
            if failed || (conn.closing && !conn.has_output()) {
                self.close(index);
            }
        }
    }

    /// Session timers: heartbeats, keep-alive lapses, handshake timeouts.
    pub fn on_timer(&mut self, now_ns: u64) {
        for index in 0..self.connections.len() {
            let Some(conn) = self.connections[index].as_mut() else {
                continue;
            };
            let actions = conn.fixp.on_timer(now_ns);
            if !actions.is_empty() {
                self.execute(index, actions, None, now_ns);
            }
        }
    }

    /// A session that dropped with cancel-on-disconnect set, oldest first.
    pub fn next_disconnect(&mut self) -> Option<SessionIndex> {
        if self.disconnects.is_empty() {
            None
        } else {
            Some(self.disconnects.remove(0))
        }
    }

    fn close(&mut self, index: usize) {
        let Some(mut conn) = self.connections[index].take() else {
            return;
        };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let stats = conn.stats;
        let name = conn.session.map_or("(not negotiated)", |s| {
            self.sessions.sessions[s].config.name.as_str()
        });
        self.totals.malformed += stats.malformed;
        self.totals.throttled += stats.throttled;
        if stats.malformed > 0 || stats.throttled > 0 {
            eprintln!(
                "exchange: connection of session {name} closed: {} messages in, {} out, \
                 {} malformed, {} over the rate limit",
                stats.messages_in, stats.messages_out, stats.malformed, stats.throttled
            );
        }
        let Some(session) = conn.session else {
            return;
        };
        let slot = &mut self.sessions.sessions[session];
        if slot.connection == Some(index) {
            slot.connection = None;
            if slot.config.cancel_on_disconnect {
                self.disconnects.push(session);
            }
        }
    }

    /// Terminates every connection (shutdown).
    pub fn shutdown(&mut self) {
        for conn in self.connections.iter_mut().flatten() {
            let terminate = wire::Terminate {
                uuid: conn.fixp.uuid(),
                request_timestamp: 0,
                termination_code: wire::TerminationCode::Shutdown,
            };
            conn.queue_with(terminate.encoded_len(), |buf| terminate.encode(buf));
            conn.closing = true;
        }
        self.flush();
    }

    /// Malformed and throttled messages so far, closed and live connections together.
    pub fn counters(&self) -> super::connection::ConnStats {
        let mut total = self.totals;
        for conn in self.connections.iter().flatten() {
            total.malformed += conn.stats.malformed;
            total.throttled += conn.stats.throttled;
        }
        total
    }

    /// Live connections.
    pub fn connection_count(&self) -> usize {
        self.connections.iter().flatten().count()
    }
}

/// The client stopped reading: drop what is queued, try to tell it why, and close.
fn slow_consumer(conn: &mut Connection) {
    let terminate = wire::Terminate {
        uuid: conn.fixp.uuid(),
        request_timestamp: 0,
        termination_code: wire::TerminationCode::SlowConsumer,
    };
    conn.queue_with(terminate.encoded_len(), |buf| terminate.encode(buf));
    conn.closing = true;
}

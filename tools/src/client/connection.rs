//! One FIXP connection from the client side over a blocking TCP stream.
//!
//! The client's flow is idempotent (the server applies what it receives and reports gaps); the
//! server's flow is recoverable, but this client does not ask for retransmissions: it numbers
//! the server's application messages as they arrive and reports the numbers with each one.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use exchange::protocol::codec::{
    EstablishmentAck, NegotiationResponse, Sequence, Terminate, TerminationCode,
};
use exchange::protocol::fixp::{establish_request, negotiate_request};
use exchange::protocol::sofh::{frame_len, write_header, SOFH_LEN};
use exchange::protocol::{decode, Encode, Plain};

use super::error::ClientError;

/// Templates from this id up are FIXP session messages; below are application messages.
const SESSION_TEMPLATE_MIN: u16 = 500;

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 8 * 1024;

/// Connection settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// KeepaliveInterval asked for in Establish; the client sends Sequence after this much
    /// silence, and the server terminates after two intervals of it.
    pub keepalive_interval_ms: u32,
    /// Bound on TCP connect plus each handshake step.
    pub handshake_timeout: Duration,
    /// Bound on waiting for the server's Terminate after ours.
    pub terminate_timeout: Duration,
    /// Largest frame accepted or sent (SOFH header included); a larger one is a framing error.
    pub max_frame_len: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            keepalive_interval_ms: 1000,
            handshake_timeout: Duration::from_secs(5),
            terminate_timeout: Duration::from_secs(2),
            max_frame_len: 4096,
        }
    }
}

/// The server's answers to the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// Answer to Negotiate.
    pub negotiation: NegotiationResponse,
    /// Answer to Establish.
    pub establishment: EstablishmentAck,
}

/// One message from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The server's sequence number for application messages; `None` for session messages.
    pub seq_no: Option<u32>,
    /// The decoded message, copied out of the receive buffer.
    pub message: Plain,
}

/// How a [`Client::terminate`] ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Terminated {
    /// Code of the server's Terminate; `None` if it closed or timed out without one.
    pub code: Option<TerminationCode>,
    /// Everything received after our Terminate, the server's Terminate included.
    pub received: Vec<Received>,
}

/// An established FIXP session.
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    config: ClientConfig,
    uuid: u64,
    handshake: Handshake,
    keepalive: Duration,
    rx: Vec<u8>,
    tx: Vec<u8>,
    next_seq_no: u32,
    next_server_seq_no: u32,
    last_sent: Instant,
    server_terminated: Option<TerminationCode>,
}

impl Client {
    /// Connects with the default [`ClientConfig`] and performs Negotiate and Establish.
    ///
    /// # Errors
    /// See [`Client::connect_with`].
    pub fn connect(addr: &str, session_id: &str, key: &str) -> Result<Client, ClientError> {
        Client::connect_with(addr, session_id, key, ClientConfig::default())
    }

    /// Connects to `addr`, negotiates `session_id` signed with `key` under a fresh UUID, and
    /// establishes with NextSeqNo 1.
    ///
    /// # Errors
    /// [`ClientError::Connect`], [`ClientError::NegotiationRejected`],
    /// [`ClientError::EstablishmentRejected`], [`ClientError::HandshakeTimeout`], or any
    /// transport error.
    pub fn connect_with(
        addr: &str,
        session_id: &str,
        key: &str,
        config: ClientConfig,
    ) -> Result<Client, ClientError> {
        let stream = open(addr, config.handshake_timeout)?;
        stream.set_nodelay(true)?;
        let uuid = fresh_uuid();
        let mut client = Client {
            stream,
            config,
            uuid,
            handshake: Handshake {
                negotiation: NegotiationResponse::default(),
                establishment: EstablishmentAck::default(),
            },
            keepalive: Duration::from_millis(u64::from(config.keepalive_interval_ms)),
            rx: Vec::with_capacity(config.max_frame_len + READ_CHUNK),
            tx: vec![0; config.max_frame_len],
            next_seq_no: 1,
            next_server_seq_no: 1,
            last_sent: Instant::now(),
            server_terminated: None,
        };
        client.write_message(&negotiate_request(session_id, key, uuid, now_ns())?)?;
        client.handshake.negotiation = match client.handshake_reply("NegotiationResponse")? {
            Plain::NegotiationResponse(m) => m,
            Plain::NegotiationReject(m) => {
                return Err(ClientError::NegotiationRejected {
                    code: m.negotiation_reject_code,
                })
            }
            other => return Err(unexpected("NegotiationResponse", &other)),
        };
        let establish = establish_request(
            session_id,
            key,
            uuid,
            now_ns(),
            client.next_seq_no,
            config.keepalive_interval_ms,
        )?;
        client.write_message(&establish)?;
        client.handshake.establishment = match client.handshake_reply("EstablishmentAck")? {
            Plain::EstablishmentAck(m) => m,
            Plain::EstablishmentReject(m) => {
                return Err(ClientError::EstablishmentRejected {
                    code: m.establishment_reject_code,
                })
            }
            other => return Err(unexpected("EstablishmentAck", &other)),
        };
        client.next_server_seq_no = client.handshake.establishment.next_seq_no;
        Ok(client)
    }

    /// UUID of this connection.
    pub fn uuid(&self) -> u64 {
        self.uuid
    }

    /// The server's NegotiationResponse and EstablishmentAck.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// Sequence number the next application message will take.
    pub fn next_seq_no(&self) -> u32 {
        self.next_seq_no
    }

    /// The server's Terminate code, once it has terminated the session.
    pub fn server_terminated(&self) -> Option<TerminationCode> {
        self.server_terminated
    }

    /// Frames and writes an application message; returns the sequence number it took.
    ///
    /// # Errors
    /// [`ClientError::NotApplication`] for a FIXP session message, or a transport error.
    pub fn send<M: Encode>(&mut self, message: &M) -> Result<u32, ClientError> {
        if M::TEMPLATE_ID >= SESSION_TEMPLATE_MIN {
            return Err(ClientError::NotApplication { name: M::NAME });
        }
        self.write_message(message)?;
        let seq_no = self.next_seq_no;
        self.next_seq_no = seq_no.saturating_add(1);
        Ok(seq_no)
    }

    /// Waits up to `timeout` for one message; a zero timeout takes only what has already
    /// arrived. Answers the server's Sequence heartbeats and sends one whenever the client
    /// has been quiet for a keepalive interval, also while no message arrives. `Ok(None)`
    /// when the time is up.
    ///
    /// # Errors
    /// [`ClientError::Closed`] when the server closed the connection, or a transport error.
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Received>, ClientError> {
        let deadline = Instant::now() + timeout;
        let mut polled = false;
        loop {
            if let Some(message) = self.pop_frame()? {
                return self.on_received(message).map(Some);
            }
            let now = Instant::now();
            if now.duration_since(self.last_sent) >= self.keepalive {
                self.send_sequence()?;
            }
            if now >= deadline {
                if polled {
                    return Ok(None);
                }
                polled = true;
                self.stream.set_nonblocking(true)?;
                let read = self.fill(Duration::ZERO);
                self.stream.set_nonblocking(false)?;
                read?;
                continue;
            }
            let keepalive_due = (self.last_sent + self.keepalive).saturating_duration_since(now);
            let wait = keepalive_due.min(deadline - now);
            self.fill(wait)?;
        }
    }

    /// Sends Terminate and waits (bounded by [`ClientConfig::terminate_timeout`]) for the
    /// server's Terminate, collecting whatever arrives first.
    ///
    /// # Errors
    /// A transport error while sending; a close or timeout while waiting is not an error.
    pub fn terminate(mut self) -> Result<Terminated, ClientError> {
        let terminate = Terminate {
            uuid: self.uuid,
            request_timestamp: now_ns(),
            termination_code: TerminationCode::Finished,
        };
        self.write_message(&terminate)?;
        let deadline = Instant::now() + self.config.terminate_timeout;
        let mut received = Vec::new();
        let mut code = None;
        while code.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self.recv(left) {
                Ok(Some(r)) => {
                    if let Plain::Terminate(t) = r.message {
                        code = Some(t.termination_code);
                    }
                    received.push(r);
                }
                Ok(None) | Err(ClientError::Closed) => break,
                Err(e) => return Err(e),
            }
        }
        // The session is over either way; a failed shutdown only means the peer went first.
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        Ok(Terminated { code, received })
    }

    fn on_received(&mut self, message: Plain) -> Result<Received, ClientError> {
        let seq_no = if message.template_id() < SESSION_TEMPLATE_MIN {
            let seq_no = self.next_server_seq_no;
            self.next_server_seq_no = seq_no.saturating_add(1);
            Some(seq_no)
        } else {
            None
        };
        match &message {
            Plain::Sequence(s) => {
                // A higher number means the server's messages in between were missed; this
                // client reports numbers as received and does not ask for a retransmission.
                self.next_server_seq_no = s.next_seq_no;
                if self.server_terminated.is_none() {
                    self.send_sequence()?;
                }
            }
            Plain::Terminate(t) => self.server_terminated = Some(t.termination_code),
            _ => {}
        }
        Ok(Received { seq_no, message })
    }

    fn send_sequence(&mut self) -> Result<(), ClientError> {
        let heartbeat = Sequence {
            uuid: self.uuid,
            next_seq_no: self.next_seq_no,
        };
        self.write_message(&heartbeat)
    }

    fn handshake_reply(&mut self, expected: &'static str) -> Result<Plain, ClientError> {
        let deadline = Instant::now() + self.config.handshake_timeout;
        loop {
            if let Some(message) = self.pop_frame()? {
                if let Plain::Terminate(t) = message {
                    return Err(ClientError::TerminatedDuringHandshake {
                        code: t.termination_code,
                    });
                }
                return Ok(message);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ClientError::HandshakeTimeout {
                    expected,
                    waited_ms: self.config.handshake_timeout.as_millis(),
                });
            }
            self.fill(left)?;
        }
    }

    fn write_message<M: Encode>(&mut self, message: &M) -> Result<(), ClientError> {
        let n = message.encode(&mut self.tx[SOFH_LEN..])?;
        let total = write_header(&mut self.tx, n)?;
        self.stream.write_all(&self.tx[..total])?;
        self.last_sent = Instant::now();
        Ok(())
    }

    /// Takes one complete frame off the receive buffer, decoded.
    fn pop_frame(&mut self) -> Result<Option<Plain>, ClientError> {
        let Some(len) = frame_len(&self.rx, self.config.max_frame_len)? else {
            return Ok(None);
        };
        if self.rx.len() < len {
            return Ok(None);
        }
        let message = decode(&self.rx[SOFH_LEN..len])?.to_plain();
        self.rx.drain(..len);
        Ok(Some(message))
    }

    /// Reads what arrives within `wait` into the receive buffer (a zero `wait` is for a
    /// non-blocking socket). The buffer stays bounded: it is only filled while it holds less
    /// than one whole frame.
    fn fill(&mut self, wait: Duration) -> Result<(), ClientError> {
        let mut chunk = [0u8; READ_CHUNK];
        if !wait.is_zero() {
            self.stream.set_read_timeout(Some(wait))?;
        }
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(ClientError::Closed),
            Ok(n) => {
                self.rx.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) if is_timeout(&e) => Ok(()),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => Err(ClientError::Closed),
            Err(e) => Err(ClientError::Io(e)),
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}

fn open(addr: &str, timeout: Duration) -> Result<TcpStream, ClientError> {
    let connect_error = |source| ClientError::Connect {
        addr: addr.to_owned(),
        source,
    };
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs().map_err(connect_error)?.collect();
    let mut last = std::io::Error::new(ErrorKind::NotFound, "address resolves to nothing");
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(connect_error(last))
}

fn unexpected(expected: &'static str, received: &Plain) -> ClientError {
    ClientError::UnexpectedHandshakeReply {
        expected,
        received: super::render::message_name(received),
    }
}

/// Nanoseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A UUID for a new connection: the time in ns, with the process id in the top bits and a
/// per-process counter added, so two connections of one process in the same nanosecond and
/// two processes started together still differ. Never 0.
fn fresh_uuid() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let pid = u64::from(std::process::id());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let uuid = now_ns() ^ (pid << 44) ^ (pid >> 20);
    uuid.wrapping_add(n).max(1)
}

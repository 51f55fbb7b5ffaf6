//! One TCP connection: bounded input and output buffers around a non-blocking socket, and the
//! connection's FIXP session state.

use std::io::{self, Read, Write};

use mio::net::TcpStream;

use super::rate_limit::RateLimiter;
use super::sessions::SessionIndex;
use crate::protocol::codec::EncodeError;
use crate::protocol::fixp::ServerSession;
use crate::protocol::sofh::{write_header, SOFH_LEN};

/// Room kept free behind application messages for a Terminate frame (6 + 8 + 17 bytes).
const TERMINATE_RESERVE: usize = 64;

/// Counters of one connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnStats {
    pub messages_in: u64,
    pub messages_out: u64,
    pub malformed: u64,
    pub throttled: u64,
}

/// What reading the socket found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Read what was there (possibly nothing); the socket stays open.
    Open,
    /// The peer closed the connection.
    Closed,
}

/// A connection and its buffers. The output buffer is linear: data between `out_start` and
/// `out_end`, compacted when the tail runs out of room.
pub struct Connection {
    pub stream: TcpStream,
    pub fixp: ServerSession,
    pub session: Option<SessionIndex>,
    pub limiter: RateLimiter,
    /// Close once the output is flushed.
    pub closing: bool,
    pub stats: ConnStats,
    /// The last `fill` stopped at a full input buffer: the socket may hold more bytes that no
    /// readiness edge will announce.
    pub more_on_socket: bool,
    input: Vec<u8>,
    in_len: usize,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
}

impl Connection {
    pub fn new(
        stream: TcpStream,
        fixp: ServerSession,
        limiter: RateLimiter,
        input_bytes: usize,
        output_bytes: usize,
    ) -> Connection {
        Connection {
            stream,
            fixp,
            session: None,
            limiter,
            closing: false,
            stats: ConnStats::default(),
            more_on_socket: false,
            input: vec![0; input_bytes],
            in_len: 0,
            output: vec![0; output_bytes],
            out_start: 0,
            out_end: 0,
        }
    }

    /// Reads until the socket would block or the input buffer is full.
    ///
    /// # Errors
    /// A socket error other than `WouldBlock`/`Interrupted`.
    pub fn fill(&mut self) -> io::Result<ReadOutcome> {
        self.more_on_socket = false;
        while self.in_len < self.input.len() {
            match self.stream.read(&mut self.input[self.in_len..]) {
                Ok(0) => return Ok(ReadOutcome::Closed),
                Ok(n) => self.in_len += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        self.more_on_socket = self.in_len == self.input.len();
        Ok(ReadOutcome::Open)
    }

    /// Whether at most half the input buffer is in use (a refill is worth a read).
    pub fn input_half_free(&self) -> bool {
        self.in_len <= self.input.len() / 2
    }

    /// Bytes received and not yet consumed.
    pub fn input(&self) -> &[u8] {
        &self.input[..self.in_len]
    }

    /// Drops the first `n` input bytes.
    pub fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.in_len);
        self.input.copy_within(n..self.in_len, 0);
        self.in_len -= n;
    }

    /// Frames and queues one message written by `encode` into the output buffer. Returns
    /// false, queuing nothing, when the buffer has no room (the caller treats the client as a
    /// slow consumer).
    pub fn queue_with(
        &mut self,
        len: usize,
        encode: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> bool {
        self.queue_reserving(len, 0, encode)
    }

    /// As `queue_with`, but leaves `reserve` bytes free after the message, so that a session
    /// message (a Terminate saying why) always fits after application messages.
    fn queue_reserving(
        &mut self,
        len: usize,
        reserve: usize,
        encode: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> bool {
        let needed = SOFH_LEN + len;
        let capacity = self.output.len();
        let room = |end: usize| capacity.saturating_sub(end + reserve) >= needed;
        if !room(self.out_end) {
            self.output.copy_within(self.out_start..self.out_end, 0);
            self.out_end -= self.out_start;
            self.out_start = 0;
            if !room(self.out_end) {
                return false;
            }
        }
        let frame = &mut self.output[self.out_end..self.out_end + needed];
        let Ok(written) = encode(&mut frame[SOFH_LEN..]) else {
            return false;
        };
        if write_header(frame, written).is_err() {
            return false;
        }
        self.out_end += SOFH_LEN + written;
        self.stats.messages_out += 1;
        true
    }

    /// Queues an already encoded application message, keeping room for a final Terminate.
    pub fn queue_bytes(&mut self, message: &[u8]) -> bool {
        self.queue_reserving(message.len(), TERMINATE_RESERVE, |buf| {
            buf[..message.len()].copy_from_slice(message);
            Ok(message.len())
        })
    }

    /// Writes as much queued output as the socket takes.
    ///
    /// # Errors
    /// A socket error other than `WouldBlock`/`Interrupted`.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.out_start < self.out_end {
            match self
                .stream
                .write(&self.output[self.out_start..self.out_end])
            {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_start += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if self.out_start == self.out_end {
            self.out_start = 0;
            self.out_end = 0;
        }
        Ok(())
    }

    /// Whether output is waiting for the socket.
    pub fn has_output(&self) -> bool {
        self.out_start < self.out_end
    }
}

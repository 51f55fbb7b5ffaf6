//! TCP recovery: a client asks for a range of incremental packets and gets them from the
//! retention ring, followed by RecoveryComplete; or gets a RecoveryReject with the reason.
//!
//! Stream framing: every frame is a little-endian u16 length, then an MDP packet. Requests and
//! control replies travel in packets with MsgSeqNum 0 holding one message; resent packets keep
//! their original MsgSeqNum. Limits: `connections_max` connections (more: Busy, closed), a
//! request covers at most `request_packets_max` packets (TooLarge), only retained and released
//! packets are served (OutOfRange), `requests_per_sec` per connection (RateLimited, closed), a
//! malformed request is answered Malformed and the connection closed, and a client that does
//! not read is cut after `WRITE_TIMEOUT`.

use std::io::{self, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::codec::{
    self as md, Encode, RecoveryComplete, RecoveryReject, RecoveryRejectReason, RecoveryRequest,
};
use super::packet::{messages, PacketBuilder, PacketHeader};
use super::ring::PacketRing;
use crate::config::PACKET_BYTES_LIMIT;

/// Limits of the service.
#[derive(Clone, Copy, Debug)]
pub struct RecoveryLimits {
    pub request_packets_max: u32,
    pub requests_per_sec: u32,
    pub connections_max: u32,
}

/// A client that does not read its reply for this long is disconnected.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// An idle connection is closed after this long.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

/// The running service: an accept thread and one thread per connection (bounded).
pub struct RecoveryServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl RecoveryServer {
    /// Listens on `listen` and serves packets of `ring`.
    ///
    /// # Errors
    /// The address cannot be bound (in use, or not local).
    pub fn start(
        listen: SocketAddr,
        ring: Arc<PacketRing>,
        limits: RecoveryLimits,
    ) -> io::Result<RecoveryServer> {
        let listener = TcpListener::bind(listen)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("md-recovery".into())
            .spawn(move || accept_loop(&listener, &ring, limits, &thread_stop))?;
        Ok(RecoveryServer {
            addr,
            stop,
            handle: Some(handle),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RecoveryServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    ring: &Arc<PacketRing>,
    limits: RecoveryLimits,
    stop: &Arc<AtomicBool>,
) {
    let live = Arc::new(AtomicU32::new(0));
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !stop.load(Ordering::Acquire) {
        workers.retain(|w| !w.is_finished());
        match listener.accept() {
            Ok((stream, _)) => {
                if live.load(Ordering::Acquire) >= limits.connections_max {
                    let _ = refuse(stream, RecoveryRejectReason::Busy, ring, limits);
                    continue;
                }
                live.fetch_add(1, Ordering::AcqRel);
                let (ring, live, stop) = (Arc::clone(ring), Arc::clone(&live), Arc::clone(stop));
                let spawned = std::thread::Builder::new()
                    .name("md-recovery-conn".into())
                    .spawn(move || {
                        let _ = serve(stream, &ring, limits, &stop);
                        live.fetch_sub(1, Ordering::AcqRel);
                    });
                match spawned {
                    Ok(worker) => workers.push(worker),
                    Err(_) => {
                        eprintln!("md-recovery: cannot spawn a connection thread");
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL),
            Err(_) => std::thread::sleep(POLL),
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
}

fn refuse(
    stream: TcpStream,
    reason: RecoveryRejectReason,
    ring: &PacketRing,
    limits: RecoveryLimits,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut out = BufWriter::new(stream);
    write_control(&mut out, &reject(0, reason, ring, limits))?;
    out.flush()
}

/// Token bucket of requests: `rate` per second, burst `rate`.
struct Bucket {
    tokens: f64,
    rate: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn serve(
    stream: TcpStream,
    ring: &PacketRing,
    limits: RecoveryLimits,
    stop: &AtomicBool,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(POLL))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut reader = stream.try_clone()?;
    let mut out = BufWriter::with_capacity(64 * 1024, stream);
    let rate = f64::from(limits.requests_per_sec);
    let mut bucket = Bucket {
        tokens: rate,
        rate,
        at: Instant::now(),
    };
    let mut frame = [0u8; PACKET_BYTES_LIMIT];
    let mut idle_since = Instant::now();
    while !stop.load(Ordering::Acquire) {
        let len = match read_frame(&mut reader, &mut frame) {
            Ok(Some(len)) => len,
            Ok(None) => return Ok(()),
            Err(e) if is_timeout(&e) => {
                if idle_since.elapsed() > IDLE_TIMEOUT {
                    return Ok(());
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let malformed = reject(0, RecoveryRejectReason::Malformed, ring, limits);
                write_control(&mut out, &malformed)?;
                return out.flush();
            }
            Err(e) => return Err(e),
        };
        idle_since = Instant::now();
        let Some(request) = parse_request(&frame[..len]) else {
            let malformed = reject(0, RecoveryRejectReason::Malformed, ring, limits);
            write_control(&mut out, &malformed)?;
            return out.flush();
        };
        if !bucket.take() {
            let limited = reject(
                request.request_id,
                RecoveryRejectReason::RateLimited,
                ring,
                limits,
            );
            write_control(&mut out, &limited)?;
            return out.flush();
        }
        answer(&mut out, &request, ring, limits)?;
        out.flush()?;
    }
    Ok(())
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads one frame into `buf`; `None` at a clean end of stream. A frame longer than a packet
/// is `InvalidData`. A timeout before the first byte is returned as the timeout; once a frame
/// has started, it is read to its end.
fn read_frame(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<Option<usize>> {
    let mut len = [0u8; 2];
    match stream.read(&mut len[..1]) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(e) => return Err(e),
    }
    read_full(stream, &mut len[1..])?;
    let len = usize::from(u16::from_le_bytes(len));
    if len == 0 || len > buf.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad frame length",
        ));
    }
    read_full(stream, &mut buf[..len])?;
    Ok(Some(len))
}

fn read_full(stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let deadline = Instant::now() + WRITE_TIMEOUT;
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if is_timeout(&e) && Instant::now() < deadline => {}
            Err(e) if is_timeout(&e) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "frame cut short",
                ))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The request of a control packet holding exactly one RecoveryRequest.
fn parse_request(packet: &[u8]) -> Option<RecoveryRequest> {
    let header = PacketHeader::read(packet).ok()?;
    if header.msg_seq_num != 0 {
        return None;
    }
    let mut iter = messages(packet);
    let first = iter.next()?.ok()?;
    if iter.next().is_some() {
        return None;
    }
    match first {
        md::Inbound::RecoveryRequest(v) => Some(v.to_plain()),
        _ => None,
    }
}

fn reject(
    request_id: u32,
    reason: RecoveryRejectReason,
    ring: &PacketRing,
    limits: RecoveryLimits,
) -> RecoveryReject {
    RecoveryReject {
        request_id,
        begin_seq_no: ring.oldest().unwrap_or(0) as u32,
        end_seq_no: ring.published() as u32,
        max_packets: limits.request_packets_max,
        retry_after_ms: if reason == RecoveryRejectReason::RateLimited {
            1000
        } else {
            0
        },
        reject_reason: reason,
    }
}

fn answer(
    out: &mut impl Write,
    request: &RecoveryRequest,
    ring: &PacketRing,
    limits: RecoveryLimits,
) -> io::Result<()> {
    let (begin, end) = (
        u64::from(request.begin_seq_no),
        u64::from(request.end_seq_no),
    );
    let reason = if begin == 0 || end < begin {
        Some(RecoveryRejectReason::Malformed)
    } else if end - begin + 1 > u64::from(limits.request_packets_max) {
        Some(RecoveryRejectReason::TooLarge)
    } else if ring.oldest().is_none_or(|oldest| begin < oldest) || end > ring.published() {
        Some(RecoveryRejectReason::OutOfRange)
    } else {
        None
    };
    if let Some(reason) = reason {
        return write_control(out, &reject(request.request_id, reason, ring, limits));
    }
    let mut packet = [0u8; PACKET_BYTES_LIMIT];
    for seq in begin..=end {
        let Some(len) = ring.read(seq, &mut packet) else {
            // Overwritten while serving: the client learns where retention now starts.
            let reason = RecoveryRejectReason::OutOfRange;
            return write_control(out, &reject(request.request_id, reason, ring, limits));
        };
        write_frame(out, &packet[..len])?;
    }
    let complete = RecoveryComplete {
        request_id: request.request_id,
        begin_seq_no: request.begin_seq_no,
        end_seq_no: request.end_seq_no,
    };
    write_control(out, &complete)
}

/// Writes `message` alone in a control packet (MsgSeqNum 0).
pub fn write_control<M: Encode>(out: &mut impl Write, message: &M) -> io::Result<()> {
    let mut builder = PacketBuilder::new(256);
    builder.start(0);
    builder
        .push(message)
        .ok_or_else(|| io::Error::other("control message larger than its packet"))?;
    let packet = builder.close(super::outbound::wall_ns());
    write_frame(out, packet)
}

/// Writes one frame: u16 length, then the packet.
pub fn write_frame(out: &mut impl Write, packet: &[u8]) -> io::Result<()> {
    let len = u16::try_from(packet.len()).map_err(|_| io::Error::other("packet too long"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(packet)
}

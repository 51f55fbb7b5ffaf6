//! The feed's sockets: the three UDP channels and the TCP recovery client.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use exchange::config::{MarketDataConfig, PACKET_BYTES_LIMIT};
use exchange::marketdata::codec::{Inbound, RecoveryRejectReason, RecoveryRequest};
use exchange::marketdata::recovery::write_control;
use exchange::marketdata::{messages, socket, PacketHeader};

use super::handler::FeedHandler;

/// Where the channels are.
#[derive(Clone, Debug)]
pub struct FeedEndpoints {
    /// The group, or `None` for unicast on `unicast_host`.
    pub multicast: Option<Ipv4Addr>,
    pub unicast_host: Ipv4Addr,
    pub incremental_port: u16,
    pub snapshot_port: u16,
    pub definition_port: u16,
    pub recovery: SocketAddr,
}

impl FeedEndpoints {
    /// The endpoints a `[marketdata]` section publishes to (the first unicast host).
    ///
    /// # Errors
    /// The recovery address is invalid.
    pub fn from_config(md: &MarketDataConfig) -> Result<FeedEndpoints, String> {
        Ok(FeedEndpoints {
            multicast: md.is_multicast().then_some(md.multicast_group),
            unicast_host: md
                .unicast_hosts
                .first()
                .copied()
                .unwrap_or(Ipv4Addr::LOCALHOST),
            incremental_port: md.incremental_port,
            snapshot_port: md.snapshot_port,
            definition_port: md.definition_port,
            recovery: md.recovery_addr().map_err(|e| e.to_string())?,
        })
    }
}

/// Why a recovery request did not deliver its range.
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("recovery refused: {reason:?} (retained {begin}..={end}, retry after {retry_ms} ms)")]
    Rejected {
        reason: RecoveryRejectReason,
        begin: u32,
        end: u32,
        retry_ms: u32,
    },
    #[error("recovery connection: {0}")]
    Io(#[from] io::Error),
    #[error("recovery reply is not a valid packet")]
    Malformed,
}

/// A decides-to-drop hook on received incremental packets (tests simulate loss with it).
pub type DropFilter = Box<dyn FnMut(u32) -> bool + Send>;

/// The running feed: sockets plus handler.
pub struct Feed {
    pub handler: FeedHandler,
    sockets: [UdpSocket; 3],
    recovery: SocketAddr,
    recovery_stream: Option<TcpStream>,
    request_id: u32,
    /// Test hook: incremental packets for which it returns true are dropped on receipt.
    pub drop_filter: Option<DropFilter>,
    /// Use TCP recovery for gaps (else re-sync from snapshots).
    pub use_recovery: bool,
    retry_at: Option<Instant>,
    buf: Box<[u8]>,
}

/// Packets a recovery request asks for at most.
const RECOVERY_CHUNK: u32 = 1000;

impl Feed {
    /// Joins the channels.
    ///
    /// # Errors
    /// A socket cannot be bound or joined.
    pub fn open(endpoints: &FeedEndpoints, buffer_max: usize) -> io::Result<Feed> {
        let open = |port: u16| -> io::Result<UdpSocket> {
            let socket = match endpoints.multicast {
                Some(group) => socket::multicast_receiver(group, port)?,
                None => socket::unicast_receiver(SocketAddrV4::new(endpoints.unicast_host, port))?,
            };
            socket.set_nonblocking(true)?;
            Ok(socket)
        };
        Ok(Feed {
            handler: FeedHandler::new(buffer_max),
            sockets: [
                open(endpoints.incremental_port)?,
                open(endpoints.snapshot_port)?,
                open(endpoints.definition_port)?,
            ],
            recovery: endpoints.recovery,
            recovery_stream: None,
            request_id: 0,
            drop_filter: None,
            use_recovery: true,
            retry_at: None,
            buf: vec![0u8; 65536].into_boxed_slice(),
        })
    }

    /// Points recovery requests at `addr`.
    pub fn set_recovery(&mut self, addr: SocketAddr) {
        self.recovery = addr;
        self.recovery_stream = None;
    }

    /// Local ports of the incremental, snapshot and definition sockets (port 0 in the
    /// endpoints binds ephemeral ports on the unicast host).
    pub fn local_ports(&self) -> [u16; 3] {
        self.sockets
            .each_ref()
            .map(|s| s.local_addr().map_or(0, |a| a.port()))
    }

    /// Receives and applies what arrives during `duration`; recovers gaps as they appear.
    pub fn run_for(&mut self, duration: Duration) {
        let deadline = Instant::now() + duration;
        while Instant::now() < deadline {
            if self.poll_once() == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    }

    /// One pass over the sockets; returns the datagrams handled.
    pub fn poll_once(&mut self) -> usize {
        let mut handled = 0;
        for channel in 0..3 {
            // Bounded per pass so one busy channel cannot starve the others.
            for _ in 0..256 {
                let Ok(len) = self.sockets[channel].recv(&mut self.buf) else {
                    break;
                };
                handled += 1;
                let packet = &self.buf[..len];
                match channel {
                    0 => {
                        let seq = PacketHeader::read(packet).map_or(0, |h| h.msg_seq_num);
                        let dropped = self.drop_filter.as_mut().is_some_and(|f| f(seq));
                        if !dropped {
                            self.handler.on_incremental(packet);
                        }
                    }
                    1 => self.handler.on_snapshot(packet),
                    _ => self.handler.on_definition(packet),
                }
            }
        }
        self.recover_gap();
        handled
    }

    fn recover_gap(&mut self) {
        let Some((begin, end)) = self.handler.gap() else {
            return;
        };
        if self.retry_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        if !self.use_recovery {
            self.handler.recovery_failed();
            return;
        }
        let end = end.min(begin + RECOVERY_CHUNK - 1);
        match self.fetch(begin, end) {
            Ok(()) => self.retry_at = None,
            Err(RecoveryError::Rejected {
                reason: RecoveryRejectReason::RateLimited,
                retry_ms,
                ..
            }) => {
                self.recovery_stream = None;
                self.retry_at = Some(Instant::now() + Duration::from_millis(u64::from(retry_ms)));
            }
            Err(RecoveryError::Rejected { .. }) => self.handler.recovery_failed(),
            Err(_) => {
                self.recovery_stream = None;
                self.retry_at = Some(Instant::now() + Duration::from_millis(100));
            }
        }
    }

    /// Asks the recovery service for `begin..=end` and applies the packets.
    ///
    /// # Errors
    /// A reject, a connection failure or a malformed reply.
    pub fn fetch(&mut self, begin: u32, end: u32) -> Result<(), RecoveryError> {
        self.request_id += 1;
        let request = RecoveryRequest {
            request_id: self.request_id,
            begin_seq_no: begin,
            end_seq_no: end,
        };
        let stream = match self.recovery_stream.take() {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect_timeout(&self.recovery, Duration::from_secs(2))?;
                stream.set_read_timeout(Some(Duration::from_secs(5)))?;
                stream.set_nodelay(true)?;
                stream
            }
        };
        let mut stream = stream;
        let mut frame = Vec::with_capacity(64);
        write_control(&mut frame, &request)?;
        stream.write_all(&frame)?;
        let mut packet = [0u8; PACKET_BYTES_LIMIT];
        loop {
            let len = read_frame(&mut stream, &mut packet)?;
            let header =
                PacketHeader::read(&packet[..len]).map_err(|_| RecoveryError::Malformed)?;
            if header.msg_seq_num != 0 {
                self.handler.stats.recovered_packets += 1;
                self.handler.on_incremental(&packet[..len]);
                continue;
            }
            let message = messages(&packet[..len])
                .next()
                .and_then(Result::ok)
                .ok_or(RecoveryError::Malformed)?;
            match message {
                Inbound::RecoveryComplete(_) => {
                    self.recovery_stream = Some(stream);
                    return Ok(());
                }
                Inbound::RecoveryReject(v) => {
                    let m = v.to_plain();
                    return Err(RecoveryError::Rejected {
                        reason: m.reject_reason,
                        begin: m.begin_seq_no,
                        end: m.end_seq_no,
                        retry_ms: m.retry_after_ms,
                    });
                }
                _ => return Err(RecoveryError::Malformed),
            }
        }
    }
}

/// Reads one u16-length-prefixed frame.
///
/// # Errors
/// End of stream, timeout, or a frame longer than `buf`.
pub fn read_frame(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let len = usize::from(u16::from_le_bytes(len));
    if len > buf.len() {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
    }
    stream.read_exact(&mut buf[..len])?;
    Ok(len)
}

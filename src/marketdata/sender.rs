//! Sends released packets from the rings to the channels' destinations, either on the
//! sequencer thread inside `flush` (inline) or on a side thread woken by `flush`.

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::ring::PacketRing;
use super::socket::Destinations;

/// Counters of the sending side, readable from any thread.
#[derive(Debug, Default)]
pub struct SendStats {
    /// Datagrams handed to the kernel (one per packet and destination).
    pub datagrams: AtomicU64,
    /// Packets the sender never saw because the ring overtook it (recoverable only while
    /// retained, which they are not: the sender fell a whole ring behind).
    pub overrun: AtomicU64,
    /// Datagrams the kernel refused (full socket buffer); the packets stay recoverable.
    pub send_errors: AtomicU64,
}

/// One channel's output: its ring, its socket, its destinations and how far it has sent.
pub struct ChannelOut {
    ring: Arc<PacketRing>,
    socket: UdpSocket,
    destinations: Destinations,
    sent: u64,
    scratch: Box<[u8]>,
}

impl ChannelOut {
    /// An output for `ring`, sending with `socket` (non-blocking from here on).
    ///
    /// # Errors
    /// The socket refuses non-blocking mode.
    pub fn new(
        ring: Arc<PacketRing>,
        socket: UdpSocket,
        destinations: Destinations,
        packet_bytes_max: usize,
    ) -> std::io::Result<ChannelOut> {
        socket.set_nonblocking(true)?;
        Ok(ChannelOut {
            ring,
            socket,
            destinations,
            sent: 0,
            scratch: vec![0u8; packet_bytes_max].into_boxed_slice(),
        })
    }

    /// Sends every released packet not sent yet; returns how many.
    pub fn pump(&mut self, stats: &SendStats) -> u64 {
        let last = self.ring.published();
        let oldest = last.saturating_sub(self.ring.capacity() - 1);
        if self.sent + 1 < oldest {
            stats
                .overrun
                .fetch_add(oldest - 1 - self.sent, Ordering::Relaxed);
            self.sent = oldest - 1;
        }
        let mut count = 0;
        while self.sent < last {
            self.sent += 1;
            let Some(len) = self.ring.read(self.sent, &mut self.scratch) else {
                stats.overrun.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            for target in &self.destinations.targets {
                match self.socket.send_to(&self.scratch[..len], target) {
                    Ok(_) => stats.datagrams.fetch_add(1, Ordering::Relaxed),
                    Err(_) => stats.send_errors.fetch_add(1, Ordering::Relaxed),
                };
            }
            count += 1;
        }
        count
    }
}

/// Inline or threaded sending.
pub enum Sender {
    Inline {
        channels: Vec<ChannelOut>,
        stats: Arc<SendStats>,
    },
    Thread {
        stop: Arc<AtomicBool>,
        handle: Option<JoinHandle<()>>,
        stats: Arc<SendStats>,
    },
}

/// How long the side thread sleeps when nothing was released (a `flush` wakes it earlier).
const IDLE_PARK: Duration = Duration::from_millis(10);

impl Sender {
    /// Sends from the caller's thread in [`Sender::wake`].
    pub fn inline(channels: Vec<ChannelOut>) -> Sender {
        Sender::Inline {
            channels,
            stats: Arc::default(),
        }
    }

    /// Sends from a side thread named `md-sender`.
    ///
    /// # Errors
    /// The thread cannot be spawned.
    pub fn threaded(mut channels: Vec<ChannelOut>) -> std::io::Result<Sender> {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(SendStats::default());
        let (thread_stop, thread_stats) = (Arc::clone(&stop), Arc::clone(&stats));
        let handle = std::thread::Builder::new()
            .name("md-sender".into())
            .spawn(move || loop {
                let stopping = thread_stop.load(Ordering::Acquire);
                let sent: u64 = channels.iter_mut().map(|c| c.pump(&thread_stats)).sum();
                if stopping {
                    break;
                }
                if sent == 0 {
                    std::thread::park_timeout(IDLE_PARK);
                }
            })?;
        Ok(Sender::Thread {
            stop,
            handle: Some(handle),
            stats,
        })
    }

    /// Sends (inline) or wakes the side thread.
    pub fn wake(&mut self) {
        match self {
            Sender::Inline { channels, stats } => {
                for channel in channels {
                    channel.pump(stats);
                }
            }
            Sender::Thread { handle, .. } => {
                if let Some(handle) = handle {
                    handle.thread().unpark();
                }
            }
        }
    }

    pub fn stats(&self) -> &SendStats {
        match self {
            Sender::Inline { stats, .. } | Sender::Thread { stats, .. } => stats,
        }
    }
}

impl Drop for Sender {
    /// The side thread sends what was released, then stops.
    fn drop(&mut self) {
        if let Sender::Thread { stop, handle, .. } = self {
            stop.store(true, Ordering::Release);
            if let Some(handle) = handle.take() {
                handle.thread().unpark();
                let _ = handle.join();
            }
        }
    }
}

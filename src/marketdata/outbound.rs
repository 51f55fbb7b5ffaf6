//! One channel's packet stream on the publisher side: the packet being built, its sequence,
//! and the ring finished packets go to.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::codec::Encode;
use super::packet::PacketBuilder;
use super::ring::PacketRing;

/// Nanoseconds since the Unix epoch (packet SendingTime).
pub fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Packets of one channel.
pub struct Outbound {
    builder: PacketBuilder,
    ring: Arc<PacketRing>,
    /// Sequence of the packet being built (or of the next one).
    next_seq: u64,
    packets: u64,
    messages: u64,
}

impl Outbound {
    pub fn new(ring: Arc<PacketRing>, packet_bytes_max: usize) -> Outbound {
        Outbound {
            builder: PacketBuilder::new(packet_bytes_max),
            ring,
            next_seq: 1,
            packets: 0,
            messages: 0,
        }
    }

    pub fn ring(&self) -> &Arc<PacketRing> {
        &self.ring
    }

    /// Appends `message`, closing the current packet first if it is full; returns the offset
    /// of the message's SBE header in its packet.
    #[inline]
    pub fn push<M: Encode>(&mut self, message: &M) -> usize {
        if !self.builder.is_started() {
            self.builder.start(self.next_seq as u32);
        } else if !self.builder.fits(message.encoded_len()) {
            self.close();
            self.builder.start(self.next_seq as u32);
        }
        self.messages += 1;
        self.builder
            .push(message)
            .expect("every message is smaller than a packet (checked at start-up)")
    }

    /// Sets bits in a byte of the packet being built.
    #[inline]
    pub fn set_bits(&mut self, offset: usize, bits: u8) {
        self.builder.set_bits(offset, bits);
    }

    /// Finishes the packet being built, if any, into the ring (not yet released).
    pub fn close(&mut self) {
        if !self.builder.is_started() {
            return;
        }
        let seq = self.next_seq;
        let packet = self.builder.close(wall_ns());
        self.ring.write(seq, packet);
        self.next_seq += 1;
        self.packets += 1;
    }

    /// Closes the packet being built and releases every finished packet to the readers.
    /// Returns whether anything new was released.
    pub fn release(&mut self) -> bool {
        self.close();
        let last = self.last_closed();
        let new = last > self.ring.published();
        if new {
            self.ring.publish(last);
        }
        new
    }

    /// Sequence of the last finished packet (0: none).
    pub fn last_closed(&self) -> u64 {
        self.next_seq - 1
    }

    pub fn packets(&self) -> u64 {
        self.packets
    }

    pub fn messages(&self) -> u64 {
        self.messages
    }
}

//! A ring of finished packets shared by the publisher (one writer, on the sequencer thread),
//! the sender thread and the recovery service (readers).
//!
//! Each slot is a seqlock: the writer marks the slot odd (being written) with the packet's
//! sequence, stores the bytes, then marks it even. A reader copies the bytes and accepts them
//! only if the mark was even, named the wanted sequence, and did not change while it copied.
//! The bytes are atomics (relaxed loads and stores, plain moves on x86) so a reader racing the
//! writer reads stale or torn words, which the mark then rejects, never undefined behaviour.
//! Packets are immutable once written: a slot is only rewritten for a sequence `capacity`
//! later, which is how retention is bounded.

use std::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// The shared ring. `published` is the last sequence the publisher released (its `flush`);
/// readers never look past it.
pub struct PacketRing {
    mask: u64,
    stride_words: usize,
    marks: Box<[AtomicU64]>,
    lens: Box<[AtomicU32]>,
    words: Box<[AtomicU64]>,
    published: AtomicU64,
}

const WORD: usize = 8;

impl PacketRing {
    /// A ring of `capacity` (a power of two) packets of at most `packet_bytes_max` bytes.
    pub fn new(capacity: usize, packet_bytes_max: usize) -> PacketRing {
        assert!(
            capacity.is_power_of_two(),
            "ring capacity must be a power of two"
        );
        let stride_words = packet_bytes_max.div_ceil(WORD);
        let ring = PacketRing {
            mask: capacity as u64 - 1,
            stride_words,
            marks: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            lens: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
            words: (0..capacity * stride_words)
                .map(|_| AtomicU64::new(0))
                .collect(),
            published: AtomicU64::new(0),
        };
        // Touch every page now: zeroed allocations are mapped lazily, and a page fault on the
        // sequencer thread costs microseconds.
        for word in ring.words.iter().step_by(4096 / WORD) {
            word.store(0, Ordering::Relaxed);
        }
        ring
    }

    /// Packets retained.
    pub fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Stores packet `seq` (single writer; sequences written in order from 1).
    pub fn write(&self, seq: u64, packet: &[u8]) {
        debug_assert!(seq > 0);
        debug_assert!(packet.len() <= self.stride_words * WORD);
        let slot = (seq & self.mask) as usize;
        self.marks[slot].store(seq * 2 + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        let words = &self.words[slot * self.stride_words..(slot + 1) * self.stride_words];
        let chunks = packet.chunks_exact(WORD);
        let tail = chunks.remainder();
        let whole = chunks.len();
        for (word, chunk) in words.iter().zip(chunks) {
            let bytes: [u8; WORD] = chunk.try_into().expect("chunks_exact yields whole words");
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        if !tail.is_empty() {
            let mut bytes = [0u8; WORD];
            bytes[..tail.len()].copy_from_slice(tail);
            words[whole].store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        self.lens[slot].store(packet.len() as u32, Ordering::Relaxed);
        self.marks[slot].store(seq * 2, Ordering::Release);
    }

    /// Releases every packet up to `seq` to the readers.
    pub fn publish(&self, seq: u64) {
        self.published.store(seq, Ordering::Release);
    }

    /// The last released sequence (0: none yet).
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    /// The oldest sequence still retained, if any packet was released.
    pub fn oldest(&self) -> Option<u64> {
        let last = self.published();
        (last > 0).then(|| last.saturating_sub(self.mask).max(1))
    }

    /// Copies released packet `seq` into `out`; its length, or `None` if it is not released
    /// yet or was overwritten (retention passed it).
    pub fn read(&self, seq: u64, out: &mut [u8]) -> Option<usize> {
        if seq == 0 || seq > self.published() {
            return None;
        }
        let slot = (seq & self.mask) as usize;
        let before = self.marks[slot].load(Ordering::Acquire);
        if before != seq * 2 {
            return None;
        }
        let len = self.lens[slot].load(Ordering::Relaxed) as usize;
        if len > out.len() {
            return None;
        }
        let words = &self.words[slot * self.stride_words..(slot + 1) * self.stride_words];
        for (word, chunk) in words.iter().zip(out[..len].chunks_mut(WORD)) {
            let bytes = word.load(Ordering::Relaxed).to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        fence(Ordering::Acquire);
        let after = self.marks[slot].load(Ordering::Relaxed);
        (after == before).then_some(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_reads_back_once_published_and_until_overwritten() {
        let ring = PacketRing::new(4, 64);
        let mut out = [0u8; 64];
        ring.write(1, b"hello, packet");
        assert_eq!(ring.read(1, &mut out), None, "not published yet");
        ring.publish(1);
        assert_eq!(ring.read(1, &mut out), Some(13));
        assert_eq!(&out[..13], b"hello, packet");
        for seq in 2..=5 {
            ring.write(seq, &[seq as u8; 9]);
        }
        ring.publish(5);
        assert_eq!(ring.read(1, &mut out), None, "overwritten by seq 5");
        assert_eq!(ring.read(5, &mut out), Some(9));
        assert_eq!(ring.oldest(), Some(2));
    }
}

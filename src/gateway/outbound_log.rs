//! Server application messages kept per session, by sequence number, so that a reconnecting
//! client can ask for what it missed (FIXP recoverable flow). Bounded by count and bytes: the
//! oldest messages are dropped first, and a request for them is refused.

use std::collections::VecDeque;

/// A bounded log of encoded messages with consecutive sequence numbers.
pub struct OutboundLog {
    /// (seq_no, offset into `bytes`, len), oldest first.
    index: VecDeque<(u32, usize, usize)>,
    /// A ring of message bytes; entries occupy a contiguous circular region.
    bytes: Vec<u8>,
    max_messages: usize,
}

impl OutboundLog {
    pub fn new(max_messages: usize, max_bytes: usize) -> OutboundLog {
        OutboundLog {
            index: VecDeque::with_capacity(max_messages),
            bytes: vec![0; max_bytes],
            max_messages,
        }
    }

    /// Appends message `seq_no` (the previous seq_no + 1), dropping the oldest as needed.
    pub fn push(&mut self, seq_no: u32, message: &[u8]) {
        let capacity = self.bytes.len();
        if message.len() > capacity {
            self.index.clear();
            return;
        }
        if let Some(&(last, _, _)) = self.index.back() {
            debug_assert_eq!(seq_no, last.wrapping_add(1));
        }
        let mut offset = self.index.back().map_or(0, |&(_, off, len)| off + len);
        if offset + message.len() > capacity {
            offset = 0; // wrap to the start of the ring
        }
        // Drop messages overlapping the bytes about to be written, and beyond the count.
        while let Some(&(_, old_off, old_len)) = self.index.front() {
            let overlaps = old_off < offset + message.len() && offset < old_off + old_len;
            if overlaps || self.index.len() >= self.max_messages {
                self.index.pop_front();
            } else {
                break;
            }
        }
        self.bytes[offset..offset + message.len()].copy_from_slice(message);
        self.index.push_back((seq_no, offset, message.len()));
    }

    /// The message with `seq_no`, if still kept.
    pub fn get(&self, seq_no: u32) -> Option<&[u8]> {
        let &(first, _, _) = self.index.front()?;
        let position = seq_no.checked_sub(first)? as usize;
        let &(found, offset, len) = self.index.get(position)?;
        debug_assert_eq!(found, seq_no);
        Some(&self.bytes[offset..offset + len])
    }

    /// Sequence number of the oldest message kept.
    pub fn first_seq_no(&self) -> Option<u32> {
        self.index.front().map(|&(seq_no, _, _)| seq_no)
    }

    /// Whether every message in `from .. from + count` is kept.
    pub fn holds(&self, from: u32, count: u32) -> bool {
        count == 0 || (self.get(from).is_some() && self.get(from + count - 1).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_messages_within_bounds() {
        let mut log = OutboundLog::new(3, 64);
        for seq in 1..=5u32 {
            log.push(seq, &[seq as u8; 10]);
        }
        assert!(log.get(2).is_none());
        assert_eq!(log.get(3), Some(&[3u8; 10][..]));
        assert_eq!(log.get(5), Some(&[5u8; 10][..]));
        assert!(log.holds(3, 3));
        assert!(!log.holds(2, 2));
    }

    #[test]
    fn byte_bound_drops_overwritten_messages() {
        let mut log = OutboundLog::new(100, 30);
        for seq in 1..=4u32 {
            log.push(seq, &[seq as u8; 10]);
        }
        assert!(log.get(1).is_none());
        assert_eq!(log.get(4), Some(&[4u8; 10][..]));
        assert!(log.get(3).is_some());
    }
}

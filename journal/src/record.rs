//! Record framing: a 40-byte little-endian header followed by the payload, padded to 8 bytes.
//!
//! ```text
//! offset  size  field
//!      0     4  len       payload length in bytes
//!      4     4  crc32c    over bytes 8..40 of the header, then the payload
//!      8     8  seq       strictly +1 from the previous record
//!     16     8  time_ns
//!     24     2  kind
//!     26     2  flags
//!     28     4  source    session or account id
//!     32     8  reserved  zero
//!     40     -  payload, then zero padding up to the next multiple of 8
//! ```
//!
//! `len` and `crc32c` together form the *commit word*, the first 8 bytes of the record. The
//! writer stores it last, with release ordering, after everything else; a reader loads it first
//! with acquire ordering. A zero commit word therefore means "not yet written".

use crate::checksum::{record_crc, CHECKED_HEADER_WORDS};
use crate::commit_word::{load_commit_word, store_commit_word};

/// Size of the fixed record header in bytes.
pub const RECORD_HEADER_LEN: usize = 40;
/// Every record starts at a multiple of this many bytes.
pub const RECORD_ALIGN: usize = 8;

/// The caller-visible fields of a record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordHeader {
    /// Sequence number; each record's is the previous one's plus one.
    pub seq: u64,
    /// Timestamp in nanoseconds (the caller's clock; the journal does not interpret it).
    pub time_ns: u64,
    /// Record kind (the caller's message type; opaque to the journal).
    pub kind: u16,
    /// Caller-defined flags.
    pub flags: u16,
    /// Originating session or account id.
    pub source: u32,
}

/// A record read back from the journal, borrowing its payload from the mapped segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The header fields.
    pub header: RecordHeader,
    /// The payload bytes exactly as appended.
    pub payload: &'a [u8],
}

/// Why the bytes at a record position are not a valid record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordDamage {
    /// Fewer than a header's worth of bytes remain before the end of the segment.
    TruncatedHeader {
        /// Bytes available.
        available_bytes: usize,
    },
    /// The length field points beyond the end of the segment.
    LengthOverrun {
        /// The payload length claimed.
        len_bytes: u32,
        /// Payload bytes available before the end of the segment.
        available_bytes: usize,
    },
    /// The checksum does not match the contents.
    CrcMismatch {
        /// The checksum stored in the record.
        stored: u32,
        /// The checksum of the bytes as they are.
        computed: u32,
    },
}

impl std::fmt::Display for RecordDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TruncatedHeader { available_bytes } => {
                write!(f, "truncated header: only {available_bytes} bytes left")
            }
            Self::LengthOverrun {
                len_bytes,
                available_bytes,
            } => write!(
                f,
                "payload length {len_bytes} overruns the segment ({available_bytes} bytes left)"
            ),
            Self::CrcMismatch { stored, computed } => {
                write!(
                    f,
                    "crc32c mismatch: stored {stored:#010x}, computed {computed:#010x}"
                )
            }
        }
    }
}

/// What was found at a record position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// The commit word is zero: nothing has been written here yet.
    Unwritten,
    /// A valid record, and its framed length (header + payload + padding).
    Valid(Record<'a>, usize),
    /// Something is here but it is not a valid record.
    Damaged(RecordDamage),
}

/// Framed size of a record with a payload of `payload_len` bytes: header, payload, padding.
#[must_use]
pub const fn framed_len(payload_len: usize) -> usize {
    (RECORD_HEADER_LEN + payload_len).div_ceil(RECORD_ALIGN) * RECORD_ALIGN
}

/// Writes a record at the start of `dst`, commit word last.
///
/// `dst` must be at least `framed_len(payload.len())` bytes long, start 8-byte aligned and its
/// padding bytes must already be zero (segments are zero-filled and recovery zeroes torn tails).
#[inline]
pub(crate) fn write_record(dst: &mut [u8], header: &RecordHeader, payload: &[u8]) {
    let words = checked_header_words(header);
    let record = &mut dst[..RECORD_HEADER_LEN + payload.len()];
    let (header_slots, _) = record[8..RECORD_HEADER_LEN].as_chunks_mut::<8>();
    for (slot, word) in header_slots.iter_mut().zip(words) {
        *slot = word.to_le_bytes();
    }
    record[RECORD_HEADER_LEN..].copy_from_slice(payload);
    // Hashed from the values just stored, not read back from the mapping.
    let crc = record_crc(&words, payload);
    let len = u32::try_from(payload.len()).expect("payload length was checked against max");
    store_commit_word(record, u64::from(len) | (u64::from(crc) << 32));
}

/// The header bytes 8..40 (everything after the commit word) as little-endian words.
fn checked_header_words(header: &RecordHeader) -> [u64; CHECKED_HEADER_WORDS] {
    let kind_flags_source =
        u64::from(header.kind) | (u64::from(header.flags) << 16) | (u64::from(header.source) << 32);
    // The last word is the reserved field, zero.
    [header.seq, header.time_ns, kind_flags_source, 0]
}

/// The header bytes 8..40 of the record at the start of `src` as little-endian words (what
/// [`checked_header_words`] wrote).
fn stored_header_words(src: &[u8]) -> [u64; CHECKED_HEADER_WORDS] {
    std::array::from_fn(|i| read_u64(src, 8 + 8 * i))
}

/// Decodes the record at the start of `src` (which runs to the end of the segment).
///
/// `src` must start 8-byte aligned inside a mapping.
#[must_use]
pub fn decode_record(src: &[u8]) -> Decoded<'_> {
    if src.len() < 8 {
        return Decoded::Unwritten;
    }
    let word = load_commit_word(src);
    if src.len() < RECORD_HEADER_LEN {
        if word == 0 {
            return Decoded::Unwritten;
        }
        return Decoded::Damaged(RecordDamage::TruncatedHeader {
            available_bytes: src.len(),
        });
    }
    // A commit word of zero is also what an empty-payload record whose checksum happens to be
    // zero looks like (one chance in 2^32); tell the two apart by the checksum itself.
    if word == 0 && (read_u64(src, 8) == 0 || crc32c::crc32c(&src[8..RECORD_HEADER_LEN]) != 0) {
        return Decoded::Unwritten;
    }
    let len_bytes = word as u32;
    let stored = (word >> 32) as u32;
    let available_bytes = src.len() - RECORD_HEADER_LEN;
    let len = len_bytes as usize;
    if len > available_bytes {
        return Decoded::Damaged(RecordDamage::LengthOverrun {
            len_bytes,
            available_bytes,
        });
    }
    let end = RECORD_HEADER_LEN + len;
    let computed = record_crc(&stored_header_words(src), &src[RECORD_HEADER_LEN..end]);
    if computed != stored {
        return Decoded::Damaged(RecordDamage::CrcMismatch { stored, computed });
    }
    Decoded::Valid(parse_validated(src), framed_len(len).min(src.len()))
}

/// Parses a record already validated by [`decode_record`] without re-checking its checksum.
///
/// # Panics
/// If `src` is shorter than the record it starts with (callers validated it).
#[must_use]
pub(crate) fn parse_validated(src: &[u8]) -> Record<'_> {
    let len = u32::from_le_bytes([src[0], src[1], src[2], src[3]]) as usize;
    let header = RecordHeader {
        seq: read_u64(src, 8),
        time_ns: read_u64(src, 16),
        kind: u16::from_le_bytes([src[24], src[25]]),
        flags: u16::from_le_bytes([src[26], src[27]]),
        source: u32::from_le_bytes([src[28], src[29], src[30], src[31]]),
    };
    Record {
        header,
        payload: &src[RECORD_HEADER_LEN..RECORD_HEADER_LEN + len],
    }
}

fn read_u64(src: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&src[at..at + 8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An 8-byte aligned, zeroed buffer like a fresh segment.
    fn aligned(len: usize) -> Vec<u64> {
        vec![0u64; len.div_ceil(8)]
    }

    fn bytes_mut(words: &mut [u64]) -> &mut [u8] {
        // SAFETY: u64 has no padding and any byte pattern is a valid u64; the byte view covers
        // exactly the same allocation and borrows it mutably for its lifetime.
        unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast(), words.len() * 8) }
    }

    fn header(seq: u64) -> RecordHeader {
        RecordHeader {
            seq,
            time_ns: 1_700_000_000_123,
            kind: 7,
            flags: 0x8001,
            source: 42,
        }
    }

    #[test]
    fn framing_round_trips_header_and_payload() {
        let mut words = aligned(256);
        let buf = bytes_mut(&mut words);
        let payload = b"hello journal, 29 bytes long!";
        write_record(buf, &header(9), payload);
        match decode_record(buf) {
            Decoded::Valid(rec, framed) => {
                assert_eq!(rec.header, header(9));
                assert_eq!(rec.payload, payload);
                assert_eq!(framed, 72);
            }
            other => panic!("expected a valid record, got {other:?}"),
        }
    }

    #[test]
    fn framing_is_little_endian_with_crc_over_rest_of_header_and_payload() {
        let mut words = aligned(128);
        let buf = bytes_mut(&mut words);
        write_record(buf, &header(0x0102), &[0xAA; 3]);
        assert_eq!(&buf[0..4], &3u32.to_le_bytes());
        assert_eq!(&buf[8..16], &0x0102u64.to_le_bytes());
        let crc = crc32c::crc32c(&buf[8..43]);
        assert_eq!(&buf[4..8], &crc.to_le_bytes());
        assert_eq!(&buf[43..48], &[0; 5], "padding stays zero");
    }

    #[test]
    fn header_fields_sit_at_their_documented_offsets() {
        let mut words = aligned(128);
        let buf = bytes_mut(&mut words);
        let h = RecordHeader {
            seq: 0x0807_0605_0403_0201,
            time_ns: 0x1817_1615_1413_1211,
            kind: 0x2221,
            flags: 0x2423,
            source: 0x2827_2625,
        };
        write_record(buf, &h, b"xyz");
        let mut want = [0u8; 48];
        want[0..4].copy_from_slice(&3u32.to_le_bytes());
        want[8..16].copy_from_slice(&h.seq.to_le_bytes());
        want[16..24].copy_from_slice(&h.time_ns.to_le_bytes());
        want[24..26].copy_from_slice(&h.kind.to_le_bytes());
        want[26..28].copy_from_slice(&h.flags.to_le_bytes());
        want[28..32].copy_from_slice(&h.source.to_le_bytes());
        want[40..43].copy_from_slice(b"xyz");
        let crc = crc32c::crc32c(&want[8..43]);
        want[4..8].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(&buf[..48], &want[..]);
    }

    #[test]
    fn empty_payload_record_is_valid_and_zero_words_are_unwritten() {
        let mut words = aligned(128);
        let buf = bytes_mut(&mut words);
        assert_eq!(decode_record(buf), Decoded::Unwritten);
        write_record(buf, &header(1), &[]);
        assert!(matches!(decode_record(buf), Decoded::Valid(r, 40) if r.payload.is_empty()));
    }

    #[test]
    fn flipped_payload_byte_is_a_crc_mismatch() {
        let mut words = aligned(128);
        let buf = bytes_mut(&mut words);
        write_record(buf, &header(1), b"abcdef");
        buf[42] ^= 0x01;
        assert!(matches!(
            decode_record(buf),
            Decoded::Damaged(RecordDamage::CrcMismatch { .. })
        ));
    }

    #[test]
    fn length_past_the_segment_end_is_an_overrun() {
        let mut words = aligned(64);
        let buf = bytes_mut(&mut words);
        write_record(buf, &header(1), b"abcdef");
        buf[0..4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(matches!(
            decode_record(buf),
            Decoded::Damaged(RecordDamage::LengthOverrun {
                len_bytes: 1000,
                ..
            })
        ));
    }

    #[test]
    fn framed_len_rounds_up_to_eight() {
        assert_eq!(framed_len(0), 40);
        assert_eq!(framed_len(1), 48);
        assert_eq!(framed_len(64), 104);
    }
}

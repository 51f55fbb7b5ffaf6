//! Walking the records of one segment, checking checksums and sequence continuity.
//!
//! Recovery, `verify` and the reader's damage classification all share this walk.

use crate::record::{decode_record, framed_len, Decoded, RecordDamage};
use crate::segment::SEGMENT_HEADER_LEN;

/// Why a segment walk stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanStop {
    /// A zero commit word or the end of the segment: the clean end of the data.
    End,
    /// Bytes at `offset` are not a valid record.
    Damaged {
        /// Byte offset in the segment.
        offset: usize,
        /// What is wrong.
        damage: RecordDamage,
    },
    /// A valid record whose sequence number is not the expected one.
    Gap {
        /// Byte offset in the segment.
        offset: usize,
        /// The sequence number expected.
        expected: u64,
        /// The one found.
        found: u64,
    },
}

/// The result of walking one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentScan {
    /// Valid records found.
    pub records: u64,
    /// Sequence number of the last valid record, if any.
    pub last_seq: Option<u64>,
    /// Timestamp of the last valid record (0 if none).
    pub last_time_ns: u64,
    /// Offset just past the last valid record.
    pub end_offset: usize,
    /// Why the walk stopped.
    pub stop: ScanStop,
}

/// Walks the records of a mapped segment whose first record must carry `first_seq`.
pub(crate) fn scan_segment(bytes: &[u8], first_seq: u64) -> SegmentScan {
    let mut scan = SegmentScan {
        records: 0,
        last_seq: None,
        last_time_ns: 0,
        end_offset: SEGMENT_HEADER_LEN,
        stop: ScanStop::End,
    };
    let mut expected = first_seq;
    while scan.end_offset < bytes.len() {
        let offset = scan.end_offset;
        match decode_record(&bytes[offset..]) {
            Decoded::Unwritten => break,
            Decoded::Damaged(damage) => {
                scan.stop = ScanStop::Damaged { offset, damage };
                break;
            }
            Decoded::Valid(rec, framed) => {
                if rec.header.seq != expected {
                    let found = rec.header.seq;
                    scan.stop = ScanStop::Gap {
                        offset,
                        expected,
                        found,
                    };
                    break;
                }
                scan.records += 1;
                scan.last_seq = Some(expected);
                scan.last_time_ns = rec.header.time_ns;
                scan.end_offset += framed;
                expected += 1;
            }
        }
    }
    scan
}

/// Whether a valid record with sequence number `next_seq` sits right after the damaged record
/// at `offset`, i.e. the damage is in the middle of the log rather than at its torn tail.
pub(crate) fn valid_record_follows(bytes: &[u8], offset: usize, next_seq: u64) -> bool {
    let claimed = u32::from_le_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ]) as usize;
    let next = offset.saturating_add(framed_len(claimed));
    if next >= bytes.len() {
        return false;
    }
    matches!(decode_record(&bytes[next..]), Decoded::Valid(r, _) if r.header.seq == next_seq)
}

/// Offset just past the last non-zero byte in `bytes[from..to]`, rounded up to 8, or `from`
/// when the range is all zero.
pub(crate) fn dirty_end(bytes: &[u8], from: usize, to: usize) -> usize {
    let to = to.min(bytes.len());
    match bytes[from..to].iter().rposition(|&b| b != 0) {
        Some(i) => (from + i + 1).div_ceil(8) * 8,
        None => from,
    }
    .min(to.max(from))
}

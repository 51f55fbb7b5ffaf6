//! The fixed header at the start of every segment file.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "EXJRNSEG"
//!      8     4  format version
//!     12     4  header length (64)
//!     16     8  first seq stored in this segment
//!     24     8  segment size in bytes
//!     32     4  crc32c over bytes 0..32
//!     36    28  zero
//! ```

use std::path::Path;

use crate::error::JournalError;

/// Bytes reserved for the segment header; the first record starts here.
pub const SEGMENT_HEADER_LEN: usize = 64;
/// The on-disk format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: [u8; 8] = *b"EXJRNSEG";

/// The decoded segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Sequence number of the first record stored (or to be stored) in the segment.
    pub first_seq: u64,
    /// Total size of the segment file in bytes, header included.
    pub size_bytes: u64,
}

impl SegmentHeader {
    /// Encodes the header with the current format version.
    #[must_use]
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        self.encode_with_version(FORMAT_VERSION)
    }

    /// Encodes the header with an explicit version (tests use it to fake other versions).
    #[must_use]
    pub fn encode_with_version(&self, version: u32) -> [u8; SEGMENT_HEADER_LEN] {
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&version.to_le_bytes());
        b[12..16].copy_from_slice(&(SEGMENT_HEADER_LEN as u32).to_le_bytes());
        b[16..24].copy_from_slice(&self.first_seq.to_le_bytes());
        b[24..32].copy_from_slice(&self.size_bytes.to_le_bytes());
        let crc = crc32c::crc32c(&b[0..32]);
        b[32..36].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and checks a header read from `path`.
    ///
    /// # Errors
    /// [`JournalError::UnsupportedVersion`] for another format version (checked before the
    /// checksum, since another version may lay its header out differently), and
    /// [`JournalError::BadSegmentHeader`] for a short file, wrong magic or bad checksum.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Self, JournalError> {
        let bad = |reason: String| JournalError::BadSegmentHeader {
            path: path.into(),
            reason,
        };
        if bytes.len() < SEGMENT_HEADER_LEN {
            return Err(bad(format!("file holds only {} bytes", bytes.len())));
        }
        if bytes[0..8] != MAGIC {
            return Err(bad(format!(
                "magic {:02x?} is not {MAGIC:02x?}",
                &bytes[0..8]
            )));
        }
        let version = u32::from_le_bytes(le4(&bytes[8..12]));
        if version != FORMAT_VERSION {
            return Err(JournalError::UnsupportedVersion {
                path: path.into(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        let stored = u32::from_le_bytes(le4(&bytes[32..36]));
        let computed = crc32c::crc32c(&bytes[0..32]);
        if stored != computed {
            return Err(bad(format!(
                "crc32c {stored:#010x}, computed {computed:#010x}"
            )));
        }
        let header = Self {
            first_seq: u64::from_le_bytes(le8(&bytes[16..24])),
            size_bytes: u64::from_le_bytes(le8(&bytes[24..32])),
        };
        if header.size_bytes < bytes.len() as u64 {
            let size = header.size_bytes;
            return Err(bad(format!(
                "size {size} is smaller than the file ({})",
                bytes.len()
            )));
        }
        Ok(header)
    }
}

fn le4(b: &[u8]) -> [u8; 4] {
    [b[0], b[1], b[2], b[3]]
}

fn le8(b: &[u8]) -> [u8; 8] {
    [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_header_round_trips() {
        let h = SegmentHeader {
            first_seq: 77,
            size_bytes: 1 << 20,
        };
        assert_eq!(
            SegmentHeader::decode(&h.encode(), Path::new("x")).ok(),
            Some(h)
        );
    }

    #[test]
    fn other_format_version_is_refused_with_both_versions_named() {
        let h = SegmentHeader {
            first_seq: 1,
            size_bytes: 4096,
        };
        let err = SegmentHeader::decode(&h.encode_with_version(2), Path::new("s.seg"));
        let msg = err.expect_err("version 2 must be refused").to_string();
        assert!(
            msg.contains("version 2") && msg.contains("version 1"),
            "{msg}"
        );
    }

    #[test]
    fn corrupted_segment_header_is_refused() {
        let mut b = SegmentHeader {
            first_seq: 1,
            size_bytes: 4096,
        }
        .encode();
        b[20] ^= 0xFF;
        assert!(matches!(
            SegmentHeader::decode(&b, Path::new("s")),
            Err(JournalError::BadSegmentHeader { .. })
        ));
    }
}

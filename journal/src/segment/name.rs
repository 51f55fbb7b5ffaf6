//! Segment file names (`journal-{first_seq:020}.seg`) and directory listing.

use std::path::{Path, PathBuf};

use crate::error::JournalError;

const PREFIX: &str = "journal-";
const SUFFIX: &str = ".seg";

/// A segment file found in a journal directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentEntry {
    /// The first sequence number, from the file name.
    pub first_seq: u64,
    /// Full path of the file.
    pub path: PathBuf,
}

/// The file name of the segment whose first record has sequence number `first_seq`.
#[must_use]
pub fn segment_file_name(first_seq: u64) -> String {
    format!("{PREFIX}{first_seq:020}{SUFFIX}")
}

/// Parses a segment file name back to its first sequence number.
#[must_use]
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Lists the segment files of `dir`, ordered by first sequence number.
///
/// # Errors
/// [`JournalError::MissingDirectory`] if `dir` does not exist, [`JournalError::Io`] if it
/// cannot be read.
pub fn list_segments(dir: &Path) -> Result<Vec<SegmentEntry>, JournalError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(JournalError::MissingDirectory { path: dir.into() });
        }
        Err(e) => return Err(JournalError::io("read directory", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io("read directory", dir, e))?;
        let name = entry.file_name();
        if let Some(first_seq) = name.to_str().and_then(parse_segment_file_name) {
            out.push(SegmentEntry {
                first_seq,
                path: entry.path(),
            });
        }
    }
    out.sort_by_key(|s| s.first_seq);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_are_zero_padded_and_parse_back() {
        let name = segment_file_name(42);
        assert_eq!(name, "journal-00000000000000000042.seg");
        assert_eq!(parse_segment_file_name(&name), Some(42));
        assert_eq!(parse_segment_file_name("journal-42.seg"), None);
        assert_eq!(
            parse_segment_file_name("journal-00000000000000000042.seg.tmp"),
            None
        );
    }
}

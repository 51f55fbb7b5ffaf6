//! Offline verification of a whole journal: checksums and sequence continuity.

use std::path::Path;

use crate::damage::Damage;
use crate::error::JournalError;
use crate::scan::{scan_segment, valid_record_follows, ScanStop};
use crate::segment::{list_segments, map_read, SegmentEntry, SegmentHeader, SEGMENT_HEADER_LEN};

/// The result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Segment files found.
    pub segments: usize,
    /// Valid records before the first damage (all of them if there is none).
    pub records: u64,
    /// Sequence number of the first record.
    pub first_seq: Option<u64>,
    /// Sequence number of the last valid record before any damage.
    pub last_seq: Option<u64>,
    /// The first damage, if any. A torn tail counts: `verify` is meant for a journal whose
    /// writer is not running.
    pub damage: Option<Damage>,
}

/// Walks every segment of `dir`, checking CRCs and sequence continuity, and stops at the
/// first damage.
///
/// # Errors
/// [`JournalError::MissingDirectory`] and I/O errors; damage is reported in the result.
pub fn verify(dir: impl AsRef<Path>) -> Result<VerifyReport, JournalError> {
    let segments = list_segments(dir.as_ref())?;
    let mut report = VerifyReport {
        segments: segments.len(),
        records: 0,
        first_seq: None,
        last_seq: None,
        damage: None,
    };
    let mut expected: Option<u64> = None;
    for (i, entry) in segments.iter().enumerate() {
        let is_last = i + 1 == segments.len();
        match verify_segment(entry, expected, is_last, &mut report)? {
            Ok(next) => expected = Some(next),
            Err(damage) => {
                report.damage = Some(damage);
                break;
            }
        }
    }
    Ok(report)
}

/// Returns the next expected seq, or the damage found.
fn verify_segment(
    entry: &SegmentEntry,
    expected: Option<u64>,
    is_last: bool,
    report: &mut VerifyReport,
) -> Result<Result<u64, Damage>, JournalError> {
    let path = &entry.path;
    let seq = expected.unwrap_or(entry.first_seq);
    let damage = |offset: usize, seq: u64, reason: String| Damage {
        segment: path.clone(),
        offset: offset as u64,
        seq,
        reason,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| JournalError::io("stat", path, e))?
        .len();
    if len < SEGMENT_HEADER_LEN as u64 {
        return Ok(Err(damage(0, seq, format!("file holds only {len} bytes"))));
    }
    let map = map_read(path)?;
    let header = match SegmentHeader::decode(&map[..SEGMENT_HEADER_LEN], path) {
        Ok(h) => h,
        Err(e) => return Ok(Err(damage(0, seq, e.to_string()))),
    };
    if header.first_seq != seq || header.first_seq != entry.first_seq {
        let found = header.first_seq;
        return Ok(Err(damage(
            0,
            seq,
            format!("segment starts at seq {found}, expected {seq}"),
        )));
    }
    let scan = scan_segment(&map, header.first_seq);
    report.records += scan.records;
    if report.first_seq.is_none() && scan.records > 0 {
        report.first_seq = Some(header.first_seq);
    }
    if scan.last_seq.is_some() {
        report.last_seq = scan.last_seq;
    }
    let next = scan.last_seq.map_or(header.first_seq, |s| s + 1);
    match scan.stop {
        ScanStop::End => Ok(Ok(next)),
        ScanStop::Gap {
            offset,
            expected,
            found,
        } => Ok(Err(damage(
            offset,
            expected,
            format!("sequence gap: found seq {found}"),
        ))),
        ScanStop::Damaged { offset, damage: d } => {
            let tail = is_last && !valid_record_follows(&map, offset, next + 1);
            let place = if tail {
                "torn tail"
            } else {
                "corrupt record in the middle of the log"
            };
            Ok(Err(damage(offset, next, format!("{place}: {d}"))))
        }
    }
}

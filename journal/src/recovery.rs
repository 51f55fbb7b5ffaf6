//! Opening an existing journal: find the last valid record, cut a torn tail, report.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::JournalError;
use crate::options::JournalOptions;
use crate::record::framed_len;
use crate::scan::{dirty_end, scan_segment, valid_record_follows, ScanStop};
use crate::segment::SEGMENT_HEADER_LEN;
use crate::segment::{fsync_dir, list_segments, map_read, open_rw, SegmentEntry, SegmentHeader};

/// What [`crate::JournalWriter::open`] found and repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Valid records found across all segments.
    pub records_found: u64,
    /// Sequence number of the last valid record (0 for an empty journal).
    pub last_seq: u64,
    /// Timestamp of the last valid record (0 for an empty journal).
    pub last_time_ns: u64,
    /// Bytes of a torn or corrupt tail that were cut off (0 if the tail was clean).
    pub torn_bytes_truncated: u64,
    /// Where the cut bytes were saved for forensics, if any were cut.
    pub torn_side_file: Option<PathBuf>,
    /// Segment files found.
    pub segments: usize,
    /// Wall time spent scanning and repairing.
    pub elapsed: Duration,
}

/// The segment the writer continues in.
#[derive(Debug, Clone)]
pub(crate) struct TailSegment {
    pub path: PathBuf,
    pub header: SegmentHeader,
    /// Offset just past the last valid record.
    pub end_offset: usize,
}

/// Recovery's result: the report plus where to continue writing.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub report: RecoveryReport,
    pub tail: Option<TailSegment>,
}

/// Scans every segment of `dir`, cuts a torn tail and returns where to continue.
///
/// # Errors
/// A sequence gap, corruption followed by valid records, a foreign format version or a bad
/// segment header refuse the journal; I/O failures are reported with their path.
pub(crate) fn recover(dir: &Path, options: &JournalOptions) -> Result<Recovered, JournalError> {
    let started = Instant::now();
    remove_stale_temp_files(dir)?;
    let segments = list_segments(dir)?;
    let mut report = RecoveryReport {
        records_found: 0,
        last_seq: 0,
        last_time_ns: 0,
        torn_bytes_truncated: 0,
        torn_side_file: None,
        segments: segments.len(),
        elapsed: Duration::ZERO,
    };
    let mut tail = None;
    let mut next_seq: Option<u64> = None;
    for (i, entry) in segments.iter().enumerate() {
        let is_last = i + 1 == segments.len();
        let seg = recover_segment(entry, next_seq, is_last, options, &mut report)?;
        next_seq = Some(report.last_seq.max(seg.header.first_seq.saturating_sub(1)) + 1);
        tail = Some(seg);
    }
    report.elapsed = started.elapsed();
    Ok(Recovered { report, tail })
}

fn recover_segment(
    entry: &SegmentEntry,
    expected_first: Option<u64>,
    is_last: bool,
    options: &JournalOptions,
    report: &mut RecoveryReport,
) -> Result<TailSegment, JournalError> {
    let path = &entry.path;
    let map = map_segment_checked(path)?;
    let header = SegmentHeader::decode(&map[..SEGMENT_HEADER_LEN], path)?;
    check_segment_identity(entry, &header, expected_first)?;
    let scan = scan_segment(&map, header.first_seq);
    let next_seq = scan.last_seq.map_or(header.first_seq, |s| s + 1);
    report.records_found += scan.records;
    if let Some(last) = scan.last_seq {
        report.last_seq = last;
        report.last_time_ns = scan.last_time_ns;
    }
    let mut cut_window = framed_len(options.max_payload_bytes);
    match scan.stop {
        ScanStop::Gap {
            offset,
            expected,
            found,
        } => {
            return Err(JournalError::SequenceGap {
                path: path.clone(),
                offset: offset as u64,
                expected,
                found,
            });
        }
        ScanStop::Damaged { offset, damage } => {
            if !is_last || valid_record_follows(&map, offset, next_seq + 1) {
                return Err(JournalError::CorruptRecord {
                    path: path.clone(),
                    offset: offset as u64,
                    seq: next_seq,
                    reason: damage.to_string(),
                });
            }
            let claimed = u32::from_le_bytes([
                map[offset],
                map[offset + 1],
                map[offset + 2],
                map[offset + 3],
            ]);
            cut_window = cut_window.max(framed_len(claimed as usize));
        }
        ScanStop::End => {}
    }
    if is_last {
        let cut_end = scan.end_offset.saturating_add(cut_window);
        let dirty = dirty_end(&map, scan.end_offset, cut_end);
        let torn = &map[scan.end_offset..dirty];
        drop_tail(
            path,
            &header,
            scan.end_offset,
            torn,
            next_seq,
            map.len(),
            report,
        )?;
    }
    Ok(TailSegment {
        path: path.clone(),
        header,
        end_offset: scan.end_offset,
    })
}

fn map_segment_checked(path: &Path) -> Result<memmap2::Mmap, JournalError> {
    let len = std::fs::metadata(path)
        .map_err(|e| JournalError::io("stat", path, e))?
        .len();
    if len < SEGMENT_HEADER_LEN as u64 {
        return Err(JournalError::BadSegmentHeader {
            path: path.into(),
            reason: format!("file holds only {len} bytes, less than the segment header"),
        });
    }
    map_read(path)
}

fn check_segment_identity(
    entry: &SegmentEntry,
    header: &SegmentHeader,
    expected_first: Option<u64>,
) -> Result<(), JournalError> {
    if header.first_seq != entry.first_seq {
        return Err(JournalError::BadSegmentHeader {
            path: entry.path.clone(),
            reason: format!(
                "file name says first seq {}, header says {}",
                entry.first_seq, header.first_seq
            ),
        });
    }
    match expected_first {
        Some(expected) if expected != header.first_seq => Err(JournalError::SequenceGap {
            path: entry.path.clone(),
            offset: 0,
            expected,
            found: header.first_seq,
        }),
        _ => Ok(()),
    }
}

/// Saves `torn` (the bytes from `cut` on) to a side file, zeroes them in the segment and
/// restores the segment to its full preallocated size if it was shortened.
fn drop_tail(
    path: &Path,
    header: &SegmentHeader,
    cut: usize,
    torn: &[u8],
    next_seq: u64,
    file_len: usize,
    report: &mut RecoveryReport,
) -> Result<(), JournalError> {
    let shortened = (file_len as u64) < header.size_bytes;
    if torn.is_empty() && !shortened {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let file = open_rw(path)?;
    if !torn.is_empty() {
        let unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let side = dir.join(format!("torn-{next_seq}-{unix_ns}.bin"));
        write_side_file(&side, torn)?;
        let zeros = vec![0u8; torn.len()];
        file.write_all_at(&zeros, cut as u64)
            .map_err(|e| JournalError::io("zero", path, e))?;
        report.torn_bytes_truncated = torn.len() as u64;
        report.torn_side_file = Some(side);
    }
    if shortened {
        file.set_len(header.size_bytes)
            .map_err(|e| JournalError::io("extend", path, e))?;
    }
    file.sync_all()
        .map_err(|e| JournalError::io("fsync", path, e))?;
    fsync_dir(dir)
}

fn write_side_file(side: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    std::fs::write(side, bytes).map_err(|e| JournalError::io("write torn side file", side, e))?;
    let f = std::fs::File::open(side).map_err(|e| JournalError::io("open", side, e))?;
    f.sync_all().map_err(|e| JournalError::io("fsync", side, e))
}

/// Removes `*.seg.tmp` files left by a crash while a segment was being created.
fn remove_stale_temp_files(dir: &Path) -> Result<(), JournalError> {
    let entries = std::fs::read_dir(dir).map_err(|e| JournalError::io("read directory", dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_tmp = name
            .to_str()
            .is_some_and(|n| n.starts_with("journal-") && n.ends_with(".seg.tmp"));
        if is_tmp {
            let p = entry.path();
            std::fs::remove_file(&p).map_err(|e| JournalError::io("remove stale temp", &p, e))?;
        }
    }
    Ok(())
}

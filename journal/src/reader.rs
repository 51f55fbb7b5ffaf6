//! Reading a journal from any sequence number, including tailing one that is being written.

use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::damage::Damage;
use crate::error::JournalError;
use crate::record::{decode_record, Decoded, Record, RecordHeader, RECORD_HEADER_LEN};
use crate::scan::valid_record_follows;
use crate::segment::SEGMENT_HEADER_LEN;
use crate::segment::{list_segments, map_read, segment_file_name, SegmentHeader};

struct OpenSegment {
    path: PathBuf,
    map: Mmap,
    offset: usize,
}

/// What the next position holds, as plain data (so the borrow of the mapping can be taken
/// once, at the end of [`JournalReader::next`]).
enum Step {
    /// A valid record at `offset`: its header (parsed once, here) and payload length.
    Record {
        offset: usize,
        framed: usize,
        header: RecordHeader,
        payload_len: usize,
    },
    Unwritten,
    Damaged(String),
}

/// Iterates records across segments; at the current end `next` returns `None` and can be
/// called again later to pick up records appended since (tailing a live writer).
pub struct JournalReader {
    dir: PathBuf,
    current: Option<OpenSegment>,
    /// Sequence number expected next (None until the first segment is opened).
    expected: Option<u64>,
    /// Records below this are skipped (set by `seek`).
    from_seq: u64,
    suspect: Option<Damage>,
}

impl std::fmt::Debug for JournalReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalReader")
            .field("dir", &self.dir)
            .field("expected", &self.expected)
            .field("from_seq", &self.from_seq)
            .finish_non_exhaustive()
    }
}

impl JournalReader {
    /// Opens the journal in `dir` positioned at its first record.
    ///
    /// An empty directory is fine: `next` returns `None` until a writer creates a segment.
    ///
    /// # Errors
    /// [`JournalError::MissingDirectory`] if `dir` does not exist, I/O errors otherwise.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        list_segments(&dir)?;
        Ok(Self {
            dir,
            current: None,
            expected: None,
            from_seq: 0,
            suspect: None,
        })
    }

    /// Positions the reader so the next record returned is `seq` (or the first one after it
    /// if the journal starts later); a `seq` past the end waits for it to be written.
    ///
    /// # Errors
    /// I/O and segment header errors.
    pub fn seek(&mut self, seq: u64) -> Result<(), JournalError> {
        let segments = list_segments(&self.dir)?;
        let start = segments
            .iter()
            .rev()
            .find(|s| s.first_seq <= seq)
            .or(segments.first());
        self.current = None;
        self.expected = None;
        self.suspect = None;
        self.from_seq = seq;
        if let Some(entry) = start {
            self.open_segment(&entry.path.clone(), entry.first_seq)?;
        }
        Ok(())
    }

    /// The next record, or `None` at the current end of the journal.
    ///
    /// A record whose checksum fails at the tail may be one a live writer is still writing:
    /// `next` returns `None` and [`suspect_damage`](Self::suspect_damage) describes it; call
    /// again later. Damage followed by a later segment is certain and returned as an error.
    ///
    /// # Errors
    /// [`JournalError::CorruptRecord`] and [`JournalError::SequenceGap`] for damage in the
    /// middle of the log; segment header and I/O errors when moving to the next segment.
    // Not `Iterator::next`: the record borrows the reader's mapping (a lending iterator),
    // which `Iterator` cannot express without copying every payload.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Record<'_>>, JournalError> {
        let Some((offset, header, payload_len)) = self.next_offset()? else {
            return Ok(None);
        };
        let seg = self
            .current
            .as_ref()
            .expect("next_offset found a record in an open segment");
        let payload = offset + RECORD_HEADER_LEN;
        Ok(Some(Record {
            header,
            payload: &seg.map[payload..payload + payload_len],
        }))
    }

    /// Advances past the next record to return; gives its offset in the current segment, its
    /// header and its payload length.
    fn next_offset(&mut self) -> Result<Option<(usize, RecordHeader, usize)>, JournalError> {
        loop {
            if self.current.is_none() && !self.open_first()? {
                return Ok(None);
            }
            match self.step() {
                Step::Record {
                    offset,
                    framed,
                    header,
                    payload_len,
                } => {
                    self.expected = Some(header.seq + 1);
                    self.suspect = None;
                    let seg = self.current.as_mut().expect("step() saw an open segment");
                    seg.offset = offset + framed;
                    if header.seq >= self.from_seq {
                        return Ok(Some((offset, header, payload_len)));
                    }
                }
                Step::Unwritten => {
                    if !self.advance_segment()? {
                        return Ok(None);
                    }
                }
                Step::Damaged(reason) => {
                    self.on_damage(reason)?;
                    return Ok(None);
                }
            }
        }
    }

    /// The sequence number the reader expects next (None before the first segment appears).
    #[must_use]
    pub fn expected_seq(&self) -> Option<u64> {
        self.expected
    }

    /// A checksum failure seen at the tail on the last call to `next`, which may be a record
    /// still being written (re-check later) or a torn tail (if the writer is gone).
    #[must_use]
    pub fn suspect_damage(&self) -> Option<&Damage> {
        self.suspect.as_ref()
    }

    fn step(&self) -> Step {
        let Some(seg) = self.current.as_ref() else {
            return Step::Unwritten;
        };
        match decode_record(&seg.map[seg.offset..]) {
            Decoded::Unwritten => Step::Unwritten,
            Decoded::Damaged(d) => Step::Damaged(d.to_string()),
            Decoded::Valid(rec, framed) => {
                let seq = rec.header.seq;
                match self.expected {
                    Some(e) if e != seq => {
                        Step::Damaged(format!("sequence gap: expected seq {e}, found {seq}"))
                    }
                    _ => Step::Record {
                        offset: seg.offset,
                        framed,
                        header: rec.header,
                        payload_len: rec.payload.len(),
                    },
                }
            }
        }
    }

    /// Certain damage is an error; damage at the tail is remembered as suspect.
    fn on_damage(&mut self, reason: String) -> Result<(), JournalError> {
        let seg = self
            .current
            .as_ref()
            .expect("damage is only seen in an open segment");
        let seq = self.expected.unwrap_or(0);
        let offset = seg.offset as u64;
        // A later segment, or the next record already whole after this one, means the writer
        // moved on past this position: the damage is certain, not a record still being
        // written (the writer finishes each record before it starts the next).
        let later_segment = list_segments(&self.dir)?
            .iter()
            .any(|s| s.first_seq > seq.saturating_sub(1) && s.path != seg.path);
        let record_follows = valid_record_follows(&seg.map, seg.offset, seq + 1);
        if later_segment || record_follows || reason.starts_with("sequence gap") {
            return Err(JournalError::CorruptRecord {
                path: seg.path.clone(),
                offset,
                seq,
                reason,
            });
        }
        self.suspect = Some(Damage {
            segment: seg.path.clone(),
            offset,
            seq,
            reason,
        });
        Ok(())
    }

    /// Opens the first segment (or the one to start from); false if there is none yet.
    fn open_first(&mut self) -> Result<bool, JournalError> {
        let segments = list_segments(&self.dir)?;
        let want = self.expected.unwrap_or(self.from_seq);
        let entry = segments
            .iter()
            .rev()
            .find(|s| s.first_seq <= want)
            .or(segments.first());
        let Some(entry) = entry.cloned() else {
            return Ok(false);
        };
        self.open_segment(&entry.path, entry.first_seq)?;
        Ok(true)
    }

    /// At an unwritten position: moves to the next segment if the writer has rolled over.
    fn advance_segment(&mut self) -> Result<bool, JournalError> {
        let Some(next_seq) = self.expected else {
            return Ok(false);
        };
        let next_path = self.dir.join(segment_file_name(next_seq));
        // An empty current segment starts at `next_seq` itself: there is nothing to move to.
        let is_current = self
            .current
            .as_ref()
            .is_some_and(|seg| seg.path == next_path);
        if is_current || !next_path.exists() {
            return Ok(false);
        }
        // The writer fills a segment before creating the next one, so once the next file
        // exists, re-check the current position: a record may have landed there meanwhile.
        if !matches!(self.step(), Step::Unwritten) {
            return Ok(true);
        }
        self.open_segment(&next_path, next_seq)?;
        Ok(true)
    }

    fn open_segment(&mut self, path: &Path, first_seq: u64) -> Result<(), JournalError> {
        let map = map_read(path)?;
        let header = SegmentHeader::decode(&map[..SEGMENT_HEADER_LEN.min(map.len())], path)?;
        if header.first_seq != first_seq {
            return Err(JournalError::BadSegmentHeader {
                path: path.into(),
                reason: format!(
                    "header says first seq {}, expected {first_seq}",
                    header.first_seq
                ),
            });
        }
        if self.expected.is_none() {
            self.expected = Some(first_seq);
        }
        self.current = Some(OpenSegment {
            path: path.into(),
            map,
            offset: SEGMENT_HEADER_LEN,
        });
        Ok(())
    }
}

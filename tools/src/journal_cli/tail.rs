//! `journal tail`: follow a live journal, printing records as they arrive.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use journal::JournalReader;

use super::decoder::PayloadDecoder;
use super::filter::RecordFilter;
use super::format::{format_human, format_json};
use super::CliError;

/// How `tail` follows the journal.
#[derive(Debug, Clone, Copy)]
pub struct TailOptions {
    /// Print JSON lines instead of human lines.
    pub json: bool,
    /// Sleep between polls once caught up.
    pub poll: Duration,
    /// How long a bad checksum at the tail may persist before it is reported as a torn tail
    /// rather than a record still being written.
    pub torn_after: Duration,
    /// Stop after this many records (None: follow forever).
    pub max_records: Option<u64>,
}

/// Follows the journal in `dir`. Without `filter.from_seq` it starts after the records
/// present now, like `tail -f` with no history.
///
/// # Errors
/// [`CliError::Journal`] for a missing directory or mid-log damage, [`CliError::Output`] if
/// writing fails (e.g. the pipe closed).
pub fn tail(
    dir: &Path,
    filter: &RecordFilter,
    opts: &TailOptions,
    decoder: &dyn PayloadDecoder,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let mut reader = JournalReader::open(dir)?;
    match filter.from_seq {
        Some(seq) => reader.seek(seq)?,
        None => while reader.next()?.is_some() {},
    }
    let mut printed = 0u64;
    let mut suspect_since: Option<Instant> = None;
    let mut warned = false;
    loop {
        let mut progressed = false;
        while let Some(rec) = reader.next()? {
            progressed = true;
            if !filter.matches_record(&rec, decoder) {
                continue;
            }
            let line = if opts.json {
                format_json(&rec, decoder)
            } else {
                format_human(&rec, decoder)
            };
            writeln!(out, "{line}")?;
            printed += 1;
            if opts.max_records.is_some_and(|m| printed >= m) {
                out.flush()?;
                return Ok(());
            }
        }
        out.flush()?;
        match (reader.suspect_damage(), progressed) {
            (Some(d), false) => {
                let since = *suspect_since.get_or_insert_with(Instant::now);
                if !warned && since.elapsed() >= opts.torn_after {
                    eprintln!(
                        "journal: warning: record still invalid after {:?}: {d}",
                        opts.torn_after
                    );
                    warned = true;
                }
            }
            _ => {
                suspect_since = None;
                warned = false;
            }
        }
        std::thread::sleep(opts.poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal_cli::test_support::TempJournal;
    use crate::journal_cli::HexOnly;
    use journal::{JournalWriter, RecordHeader};

    #[test]
    fn tail_prints_records_appended_after_it_started() {
        let j = TempJournal::with_records(10);
        let dir = j.path().to_path_buf();
        let follower = std::thread::spawn(move || {
            let opts = TailOptions {
                json: false,
                poll: Duration::from_millis(1),
                torn_after: Duration::from_secs(2),
                max_records: Some(5),
            };
            let filter = RecordFilter {
                from_seq: Some(8),
                ..RecordFilter::default()
            };
            let mut out = Vec::new();
            tail(&dir, &filter, &opts, &HexOnly, &mut out).expect("tail");
            String::from_utf8(out).expect("utf8")
        });
        let (mut w, _) = JournalWriter::open(j.path(), TempJournal::opts()).expect("reopen");
        for seq in 11..=12 {
            let h = RecordHeader {
                seq,
                ..RecordHeader::default()
            };
            w.append(&h, b"live").expect("append");
        }
        let text = follower.join().expect("tail thread");
        let seqs: Vec<&str> = text
            .lines()
            .map(|l| l.split(' ').next().unwrap_or(""))
            .collect();
        assert_eq!(seqs, ["seq=8", "seq=9", "seq=10", "seq=11", "seq=12"]);
    }
}

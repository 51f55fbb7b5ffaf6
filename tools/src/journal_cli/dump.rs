//! `journal dump`: print the records of a journal.

use std::io::Write;
use std::path::Path;

use journal::JournalReader;

use super::decoder::PayloadDecoder;
use super::filter::RecordFilter;
use super::format::{format_human, format_json};
use super::CliError;

/// Prints the selected records of the journal in `dir` to `out`; returns how many.
///
/// A checksum failure at the very end (a torn tail, or a record being written) ends the dump
/// with a warning on stderr; damage in the middle of the log is an error.
///
/// # Errors
/// [`CliError::Journal`] for a missing directory or mid-log damage, [`CliError::Output`] if
/// writing fails.
pub fn dump(
    dir: &Path,
    filter: &RecordFilter,
    json: bool,
    decoder: &dyn PayloadDecoder,
    out: &mut dyn Write,
) -> Result<u64, CliError> {
    let mut reader = JournalReader::open(dir)?;
    reader.seek(filter.from_seq.unwrap_or(0))?;
    let mut printed = 0;
    while let Some(rec) = reader.next()? {
        let seq = rec.header.seq;
        if filter.past_end(seq) {
            break;
        }
        if filter.matches_record(&rec, decoder) {
            let line = if json {
                format_json(&rec, decoder)
            } else {
                format_human(&rec, decoder)
            };
            writeln!(out, "{line}")?;
            printed += 1;
        }
        // The last record asked for: stop without reading past it, where the journal may
        // be damaged or still being written.
        if filter.to_seq == Some(seq) {
            break;
        }
    }
    if let Some(d) = reader.suspect_damage() {
        eprintln!("journal: warning: dump stopped at a torn or in-flight record: {d}");
    }
    out.flush()?;
    Ok(printed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal_cli::test_support::TempJournal;
    use crate::journal_cli::HexOnly;

    fn run(j: &TempJournal, filter: &RecordFilter, json: bool) -> (u64, Vec<String>) {
        let mut out = Vec::new();
        let n = dump(j.path(), filter, json, &HexOnly, &mut out).expect("dump");
        let text = String::from_utf8(out).expect("utf8");
        (n, text.lines().map(str::to_owned).collect())
    }

    #[test]
    fn dump_prints_every_record_across_segments() {
        let j = TempJournal::with_records(600);
        let (n, lines) = run(&j, &RecordFilter::default(), false);
        assert_eq!(n, 600);
        assert!(lines[0].starts_with("seq=1 time_ns=10 kind=1 flags=0x0000 source=1 len=8"));
        assert!(lines[599].starts_with("seq=600 "));
    }

    #[test]
    fn dump_filters_by_range_kind_and_source() {
        let j = TempJournal::with_records(100);
        let f = RecordFilter {
            from_seq: Some(10),
            to_seq: Some(40),
            kind: Some(0),
            source: Some(0),
            security_id: None,
        };
        let (_, lines) = run(&j, &f, true);
        let seqs: Vec<u64> = lines
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json")["seq"].as_u64())
            .map(|s| s.expect("seq is a number"))
            .collect();
        assert_eq!(seqs, vec![12, 18, 24, 30, 36]);
    }

    #[test]
    fn dump_stops_at_its_last_seq_and_reports_damage_past_it_only_when_asked_for() {
        let j = TempJournal::with_records(50);
        // Whole records follow record 3, so its damage is not a torn tail.
        j.damage_record(3);
        let upto = |to| RecordFilter {
            to_seq: Some(to),
            ..RecordFilter::default()
        };
        assert_eq!(run(&j, &upto(2), false).0, 2);
        let mut out = Vec::new();
        let err = dump(j.path(), &upto(3), false, &HexOnly, &mut out).expect_err("damage");
        assert!(err.to_string().contains("expected seq 3"), "{err}");
    }

    #[test]
    fn dump_of_missing_directory_is_an_error() {
        let mut out = Vec::new();
        let err = dump(
            Path::new("/nonexistent/j"),
            &RecordFilter::default(),
            false,
            &HexOnly,
            &mut out,
        );
        assert!(err.is_err());
    }
}

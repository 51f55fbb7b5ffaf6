//! `journal verify`: check CRCs and sequence continuity across segments.

use std::io::Write;
use std::path::Path;

use super::CliError;

/// Whether the journal verified clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    /// No damage.
    Clean,
    /// Damage was found and printed.
    Damaged,
}

/// Verifies the journal in `dir` and prints a summary (and the first damage) to `out`.
///
/// # Errors
/// [`CliError::Journal`] if the journal cannot be read at all, [`CliError::Output`] if
/// writing fails.
pub fn verify(dir: &Path, out: &mut dyn Write) -> Result<VerifyOutcome, CliError> {
    let r = journal::verify(dir)?;
    let range = match (r.first_seq, r.last_seq) {
        (Some(a), Some(b)) => format!("seq {a}..={b}"),
        _ => "no records".to_string(),
    };
    writeln!(
        out,
        "{}: {} segment(s), {} valid record(s), {range}",
        dir.display(),
        r.segments,
        r.records
    )?;
    let outcome = match &r.damage {
        None => {
            writeln!(out, "OK: checksums and sequence continuity verified")?;
            VerifyOutcome::Clean
        }
        Some(d) => {
            writeln!(
                out,
                "DAMAGE: segment {} offset {} seq {}: {}",
                d.segment.display(),
                d.offset,
                d.seq,
                d.reason
            )?;
            VerifyOutcome::Damaged
        }
    };
    out.flush()?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal_cli::test_support::TempJournal;

    #[test]
    fn clean_journal_verifies_ok_with_summary() {
        let j = TempJournal::with_records(300);
        let mut out = Vec::new();
        assert_eq!(
            verify(j.path(), &mut out).expect("verify"),
            VerifyOutcome::Clean
        );
        let text = String::from_utf8(out).expect("utf8");
        assert!(
            text.contains("300 valid record(s), seq 1..=300") && text.contains("OK"),
            "{text}"
        );
    }

    #[test]
    fn damaged_journal_names_segment_offset_and_seq() {
        let j = TempJournal::with_records(50);
        // Record 2 starts at 64 + 48.
        let seg = j.damage_record(2);
        let mut out = Vec::new();
        assert_eq!(
            verify(j.path(), &mut out).expect("verify"),
            VerifyOutcome::Damaged
        );
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.contains("offset 112 seq 2"), "{text}");
        assert!(text.contains(&seg.display().to_string()), "{text}");
    }
}

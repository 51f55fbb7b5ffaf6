//! Which records `dump` and `tail` print.

use journal::RecordHeader;

/// Record selection by sequence range, kind and source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// First sequence number to print.
    pub from_seq: Option<u64>,
    /// Last sequence number to print.
    pub to_seq: Option<u64>,
    /// Only records of this kind.
    pub kind: Option<u16>,
    /// Only records from this session or account.
    pub source: Option<u32>,
}

impl RecordFilter {
    /// Whether a record with this header is selected.
    #[must_use]
    pub fn matches(&self, h: &RecordHeader) -> bool {
        self.from_seq.is_none_or(|f| h.seq >= f)
            && self.to_seq.is_none_or(|t| h.seq <= t)
            && self.kind.is_none_or(|k| h.kind == k)
            && self.source.is_none_or(|s| h.source == s)
    }

    /// Whether no later record can match (the `to` bound has been passed).
    #[must_use]
    pub fn past_end(&self, seq: u64) -> bool {
        self.to_seq.is_some_and(|t| seq > t)
    }
}

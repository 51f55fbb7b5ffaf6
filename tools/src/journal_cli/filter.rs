//! Which records `dump` and `tail` print.

use journal::{Record, RecordHeader};

use super::decoder::PayloadDecoder;

/// Record selection by sequence range, kind, source and (through the payload decoder)
/// instrument.
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
    /// Only records about this instrument (security id), as the payload decoder reads it.
    pub security_id: Option<i32>,
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

    /// Whether a record is selected, decoding its payload only for the instrument filter.
    #[must_use]
    pub fn matches_record(&self, rec: &Record<'_>, decoder: &dyn PayloadDecoder) -> bool {
        self.matches(&rec.header)
            && self
                .security_id
                .is_none_or(|id| decoder.security_id(rec.header.kind, rec.payload) == Some(id))
    }

    /// Whether no later record can match (the `to` bound has been passed).
    #[must_use]
    pub fn past_end(&self, seq: u64) -> bool {
        self.to_seq.is_some_and(|t| seq > t)
    }
}

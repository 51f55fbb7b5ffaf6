//! The payload-decoding hook.

/// Renders a record payload for humans. The exchange implements this over its protocol
/// codecs; the journal tool falls back to hex when it returns `None`.
pub trait PayloadDecoder {
    /// A readable rendering of `payload` for a record of `kind`, or `None` if unknown.
    fn decode(&self, kind: u16, payload: &[u8]) -> Option<String>;

    /// The instrument (security id) a record of `kind` is about, if the decoder can tell;
    /// used by the `--instrument` filter. Unknown by default.
    fn security_id(&self, _kind: u16, _payload: &[u8]) -> Option<i32> {
        None
    }
}

/// The default decoder: knows no kinds, so every payload prints as hex.
#[derive(Debug, Default, Clone, Copy)]
pub struct HexOnly;

impl PayloadDecoder for HexOnly {
    fn decode(&self, _kind: u16, _payload: &[u8]) -> Option<String> {
        None
    }
}

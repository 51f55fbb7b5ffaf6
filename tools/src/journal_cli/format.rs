//! One line per record, for humans or as JSON.

use std::fmt::Write as _;

use journal::Record;

use super::decoder::PayloadDecoder;

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `seq=.. time_ns=.. kind=.. flags=0x.. source=.. len=.. payload=<decoded or hex>`.
#[must_use]
pub fn format_human(rec: &Record<'_>, decoder: &dyn PayloadDecoder) -> String {
    let h = &rec.header;
    let body = decoder
        .decode(h.kind, rec.payload)
        .unwrap_or_else(|| format!("payload={}", hex(rec.payload)));
    format!(
        "seq={} time_ns={} kind={} flags={:#06x} source={} len={} {body}",
        h.seq,
        h.time_ns,
        h.kind,
        h.flags,
        h.source,
        rec.payload.len()
    )
}

/// A JSON object with seq, time_ns, kind, flags, source, len, payload (hex) and, when the
/// decoder knows the kind, `decoded`.
#[must_use]
pub fn format_json(rec: &Record<'_>, decoder: &dyn PayloadDecoder) -> String {
    let h = &rec.header;
    // Written by hand to keep the documented field order; only `decoded` needs escaping.
    let mut line = format!(
        "{{\"seq\":{},\"time_ns\":{},\"kind\":{},\"flags\":{},\"source\":{},\"len\":{},\
         \"payload\":\"{}\"",
        h.seq,
        h.time_ns,
        h.kind,
        h.flags,
        h.source,
        rec.payload.len(),
        hex(rec.payload)
    );
    if let Some(d) = decoder.decode(h.kind, rec.payload) {
        let quoted = serde_json::Value::String(d).to_string();
        let _ = write!(line, ",\"decoded\":{quoted}");
    }
    line.push('}');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal_cli::HexOnly;
    use journal::RecordHeader;

    struct Upper;
    impl PayloadDecoder for Upper {
        fn decode(&self, kind: u16, payload: &[u8]) -> Option<String> {
            (kind == 2).then(|| String::from_utf8_lossy(payload).to_uppercase())
        }
    }

    fn rec(kind: u16) -> Record<'static> {
        let header = RecordHeader {
            seq: 5,
            time_ns: 9,
            kind,
            flags: 1,
            source: 3,
        };
        Record {
            header,
            payload: b"ab",
        }
    }

    #[test]
    fn human_line_shows_every_header_field_and_hex_payload() {
        assert_eq!(
            format_human(&rec(1), &HexOnly),
            "seq=5 time_ns=9 kind=1 flags=0x0001 source=3 len=2 payload=6162"
        );
    }

    #[test]
    fn json_line_has_hex_payload_and_decoded_text_when_known() {
        let v: serde_json::Value =
            serde_json::from_str(&format_json(&rec(2), &Upper)).expect("valid JSON");
        assert_eq!(v["seq"], 5);
        assert_eq!(v["payload"], "6162");
        assert_eq!(v["decoded"], "AB");
        let plain: serde_json::Value =
            serde_json::from_str(&format_json(&rec(1), &Upper)).expect("valid JSON");
        assert!(plain.get("decoded").is_none());
    }
}

//! Renders the exchange's journal records for `journal dump` / `journal tail`: the sequencer's
//! record kinds ([`RecordKind`]) and, for message records, the SBE message decoded with the
//! exchange's own codecs.

use exchange::protocol::codec::{decode, Plain};
use exchange::sequencer::RecordKind;

use crate::journal_cli::PayloadDecoder;

/// The [`PayloadDecoder`] for journals written by the exchange's sequencer.
#[derive(Debug, Default, Clone, Copy)]
pub struct ExchangeDecoder;

impl PayloadDecoder for ExchangeDecoder {
    fn decode(&self, kind: u16, payload: &[u8]) -> Option<String> {
        let kind = RecordKind::from_u16(kind)?;
        Some(match kind {
            RecordKind::Genesis => match u64_le(payload) {
                Some(print) => format!("genesis fingerprint={print:016x}"),
                None => format!("genesis BAD PAYLOAD ({} bytes, expected 8)", payload.len()),
            },
            RecordKind::Message => match decode(payload) {
                Ok(message) => format!("{} {:?}", message.name(), message.to_plain()),
                Err(e) => format!("message UNDECODABLE: {e}"),
            },
            RecordKind::Timer => "timer".to_string(),
            RecordKind::Digest => match u64_le(payload) {
                Some(digest) => format!("digest={digest:016x}"),
                None => format!("digest BAD PAYLOAD ({} bytes, expected 8)", payload.len()),
            },
            RecordKind::CancelOnDisconnect => "cancel-on-disconnect (orders of source)".into(),
        })
    }

    fn security_id(&self, kind: u16, payload: &[u8]) -> Option<i32> {
        if RecordKind::from_u16(kind)? != RecordKind::Message {
            return None;
        }
        security_id_of(&decode(payload).ok()?.to_plain())
    }
}

/// The instrument a message is about, for the messages that name one.
#[must_use]
pub fn security_id_of(message: &Plain) -> Option<i32> {
    match message {
        Plain::NewOrderSingle(m) => Some(m.security_id),
        Plain::OrderCancelRequest(m) => Some(m.security_id),
        Plain::OrderCancelReplaceRequest(m) => Some(m.security_id),
        Plain::OrderMassCancelRequest(m) => m.security_id,
        Plain::RequestForPositions(m) => m.security_id,
        Plain::ExecutionReport(m) => Some(m.security_id),
        Plain::OrderCancelReject(m) => Some(m.security_id),
        Plain::OrderMassCancelReport(m) => m.security_id,
        Plain::PositionReport(m) => Some(m.security_id),
        Plain::IndexConstituents(m) => Some(m.security_id),
        Plain::SecurityStatusUpdate(m) => Some(m.security_id),
        Plain::RiskParameterUpdate(m) => Some(m.security_id),
        _ => None,
    }
}

fn u64_le(payload: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(payload.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange::protocol::codec::{self as wire, Encode};

    fn encoded(message: &impl Encode) -> Vec<u8> {
        let mut buf = vec![0u8; message.encoded_len()];
        let n = message.encode(&mut buf).expect("sized by encoded_len");
        buf.truncate(n);
        buf
    }

    #[test]
    fn new_order_prints_its_name_and_fields() {
        let order = wire::NewOrderSingle {
            cl_ord_id: 42,
            security_id: 3,
            order_qty: 7,
            ..Default::default()
        };
        let text = ExchangeDecoder
            .decode(RecordKind::Message as u16, &encoded(&order))
            .expect("message kind is known");
        assert!(text.starts_with("NewOrderSingle NewOrderSingle("), "{text}");
        assert!(
            text.contains("cl_ord_id: 42") && text.contains("order_qty: 7"),
            "{text}"
        );
        assert!(!text.contains('\n'));
        let id = ExchangeDecoder.security_id(RecordKind::Message as u16, &encoded(&order));
        assert_eq!(id, Some(3));
    }

    #[test]
    fn internal_kinds_have_short_summaries() {
        let d = ExchangeDecoder;
        let word = 0xabcdu64.to_le_bytes();
        assert_eq!(
            d.decode(RecordKind::Digest as u16, &word).as_deref(),
            Some("digest=000000000000abcd")
        );
        assert_eq!(
            d.decode(RecordKind::Genesis as u16, &word).as_deref(),
            Some("genesis fingerprint=000000000000abcd")
        );
        assert_eq!(
            d.decode(RecordKind::Timer as u16, &[]).as_deref(),
            Some("timer")
        );
        assert_eq!(d.decode(99, b"x"), None);
        let bad = d
            .decode(RecordKind::Message as u16, b"junk")
            .expect("known kind");
        assert!(bad.starts_with("message UNDECODABLE"), "{bad}");
    }
}

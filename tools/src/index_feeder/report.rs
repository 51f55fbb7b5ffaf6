//! A sent update as one line, in the shapes the client renders received messages in: JSON with
//! FIX field names and decimals as exact strings, or readable `Name=value` text.

use std::fmt::Write as _;

use exchange::protocol::codec::IndexConstituents;

use crate::client::{from_mantissa, Reference};

/// `{"msg":"IndexConstituents","AdminReqID":..,"TransactTime":..,"SecurityID":3,
/// "Symbol":"BTC-USD-PERP","NoConstituents":[{"ConstituentSourceID":1,"ConstituentPx":"..",
/// "ConstituentTime":..},..]}`.
pub fn sent_json(m: &IndexConstituents, reference: &Reference) -> String {
    let mut out = format!(
        "{{\"msg\":\"IndexConstituents\",\"AdminReqID\":{},\"TransactTime\":{},\"SecurityID\":{}",
        m.admin_req_id, m.transact_time, m.security_id
    );
    if let Some(symbol) = reference.symbol(m.security_id) {
        let symbol = serde_json::Value::String(symbol.to_owned());
        let _ = write!(out, ",\"Symbol\":{symbol}");
    }
    out.push_str(",\"NoConstituents\":[");
    for (i, c) in m.no_constituents.as_slice().iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        let _ = write!(
            out,
            "{comma}{{\"ConstituentSourceID\":{},\"ConstituentPx\":\"{}\",\"ConstituentTime\":{}}}",
            c.constituent_source_id,
            from_mantissa(c.constituent_px),
            c.constituent_time
        );
    }
    out.push_str("]}");
    out
}

/// `IndexConstituents AdminReqID=.. Symbol=BTC-USD-PERP 1:100000.1 2:99999.9 3:100000`.
pub fn sent_text(m: &IndexConstituents, reference: &Reference) -> String {
    let mut out = format!("IndexConstituents AdminReqID={}", m.admin_req_id);
    match reference.symbol(m.security_id) {
        Some(symbol) => {
            let _ = write!(out, " Symbol={symbol}");
        }
        None => {
            let _ = write!(out, " SecurityID={}", m.security_id);
        }
    }
    for c in m.no_constituents.as_slice() {
        let _ = write!(
            out,
            " {}:{}",
            c.constituent_source_id,
            from_mantissa(c.constituent_px)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange::protocol::codec::{ConstituentsEntry, GroupVec};

    fn message() -> IndexConstituents {
        let mut entries = GroupVec::new();
        for (source, px) in [(1, 10_000_010_000_000), (2, 9_999_990_000_000)] {
            let entry = ConstituentsEntry {
                constituent_px: px,
                constituent_time: 5,
                constituent_source_id: source,
            };
            entries.push(entry).expect("two fit");
        }
        IndexConstituents {
            admin_req_id: 9,
            transact_time: 5,
            security_id: 3,
            no_constituents: entries,
        }
    }

    #[test]
    fn sent_update_is_one_json_object_with_exact_prices() {
        let json = sent_json(&message(), &Reference::from_default_config());
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v["msg"], "IndexConstituents");
        assert_eq!(v["AdminReqID"], 9);
        assert_eq!(v["Symbol"], "BTC-USD-PERP");
        assert_eq!(v["NoConstituents"][0]["ConstituentPx"], "100000.1");
        assert_eq!(v["NoConstituents"][1]["ConstituentSourceID"], 2);
    }

    #[test]
    fn sent_update_reads_as_one_line() {
        let text = sent_text(&message(), &Reference::from_default_config());
        assert_eq!(
            text,
            "IndexConstituents AdminReqID=9 Symbol=BTC-USD-PERP 1:100000.1 2:99999.9"
        );
    }
}

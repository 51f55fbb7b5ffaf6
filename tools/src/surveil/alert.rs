//! An alert: what a detector saw, on which account and instrument, and the journal records
//! (seq, time) that prove it. Rendered as one JSON object per line with sorted keys, so the
//! same journal always gives byte-identical output.

use serde_json::{Map, Value};

/// The kinds of alert `surveil` raises (the `kind` field of every alert).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertKind {
    /// Both sides of a trade in one owner group (neither an affiliate market maker).
    WashTrade,
    /// A large order cancelled shortly before the same account's opposite-side fill.
    Spoofing,
    /// Spoofing with orders at several price levels.
    Layering,
    /// A message-rate spike or an excessive order-to-trade ratio.
    QuoteStuffing,
    /// An affiliate market maker traded against a house or related account.
    AffiliateHouseTrade,
    /// A market maker quoted less of the day than its obligation requires.
    MmObligationBreach,
}

impl AlertKind {
    /// Every kind, in report order.
    pub const ALL: [AlertKind; 6] = [
        AlertKind::WashTrade,
        AlertKind::Spoofing,
        AlertKind::Layering,
        AlertKind::QuoteStuffing,
        AlertKind::AffiliateHouseTrade,
        AlertKind::MmObligationBreach,
    ];

    /// The `kind` string of the JSON output.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::WashTrade => "wash_trade",
            AlertKind::Spoofing => "spoofing",
            AlertKind::Layering => "layering",
            AlertKind::QuoteStuffing => "quote_stuffing",
            AlertKind::AffiliateHouseTrade => "affiliate_house_trade",
            AlertKind::MmObligationBreach => "mm_obligation_breach",
        }
    }

    /// The kind named `name` (the inverse of [`AlertKind::name`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// One alert with its evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    /// The account the alert is about (for trades between two accounts: the taker, or the
    /// affiliate market maker).
    pub account: u32,
    /// The other account of a trade alert.
    pub counterparty: Option<u32>,
    /// The instrument (SecurityID), when the alert is about one.
    pub security_id: Option<i32>,
    /// The record that completed the evidence.
    pub seq: u64,
    /// Its journal time, ns since the Unix epoch.
    pub time_ns: u64,
    /// Further evidence: order ids, quantities, rates, the thresholds crossed.
    pub evidence: Map<String, Value>,
}

impl Alert {
    /// An alert with no further evidence yet.
    #[must_use]
    pub fn new(kind: AlertKind, account: u32, seq: u64, time_ns: u64) -> Alert {
        Alert {
            kind,
            account,
            counterparty: None,
            security_id: None,
            seq,
            time_ns,
            evidence: Map::new(),
        }
    }

    /// Adds one evidence field.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Alert {
        self.evidence.insert(key.to_string(), value.into());
        self
    }

    /// The alert as one JSON object (keys sorted: serde_json's map is ordered).
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("kind".into(), self.kind.name().into());
        object.insert("account".into(), self.account.into());
        if let Some(counterparty) = self.counterparty {
            object.insert("counterparty".into(), counterparty.into());
        }
        if let Some(security_id) = self.security_id {
            object.insert("security_id".into(), security_id.into());
        }
        object.insert("seq".into(), self.seq.into());
        object.insert("time_ns".into(), self.time_ns.into());
        object.insert("evidence".into(), Value::Object(self.evidence.clone()));
        Value::Object(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip() {
        for kind in AlertKind::ALL {
            assert_eq!(AlertKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(AlertKind::from_name("insider_trading"), None);
    }

    #[test]
    fn json_line_has_kind_account_and_evidence_in_key_order() {
        let alert = Alert::new(AlertKind::WashTrade, 20, 7, 9).with("trade_id", 3);
        let line = alert.to_json().to_string();
        assert_eq!(
            line,
            r#"{"account":20,"evidence":{"trade_id":3},"kind":"wash_trade","seq":7,"time_ns":9}"#
        );
    }
}

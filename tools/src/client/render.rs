//! Received messages as JSON lines or readable text. Field names are FIX names; decimals are
//! rendered as exact decimal strings (`"100000.5"`), absent optional fields are left out.

use std::fmt::Write as _;

use exchange::protocol::codec::{
    CollateralReport, ExecutionReport, FundingPaymentReport, MassQuoteAck, OrderCancelReject,
    OrderMassCancelReport, PositionReport, VarData, VAR_DATA_MAX,
};
use exchange::protocol::Plain;

use super::connection::Received;
use super::decimal::{from_mantissa, from_rate_mantissa};
use super::reference::Reference;

/// One rendered field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An integer (ids, counts, timestamps, codes).
    Int(i128),
    /// A wire decimal mantissa (exponent −8), rendered as a string.
    Decimal(i64),
    /// A rate mantissa (exponent −9, the funding rate), rendered as a string.
    Rate(i64),
    /// Text (enum names, free text).
    Text(String),
    /// A repeating group: one object per entry, each as its fields (a JSON array of objects;
    /// `[k=v k=v, ...]` as text).
    Group(Vec<Vec<(&'static str, Value)>>),
}

impl Value {
    fn json(&self, out: &mut String) {
        match self {
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Decimal(m) => out.push_str(&json_string(&from_mantissa(*m))),
            Value::Rate(m) => out.push_str(&json_string(&from_rate_mantissa(*m))),
            Value::Text(t) => out.push_str(&json_string(t)),
            Value::Group(entries) => {
                out.push('[');
                for (i, entry) in entries.iter().enumerate() {
                    out.push_str(if i == 0 { "{" } else { ",{" });
                    for (j, (key, value)) in entry.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{}:", json_string(key));
                        value.json(out);
                    }
                    out.push('}');
                }
                out.push(']');
            }
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Decimal(m) => from_mantissa(*m),
            Value::Rate(m) => from_rate_mantissa(*m),
            Value::Text(t) if t.contains(' ') => format!("{t:?}"),
            Value::Text(t) => t.clone(),
            Value::Group(entries) => {
                let entries: Vec<String> = entries
                    .iter()
                    .map(|e| {
                        let fields: Vec<String> =
                            e.iter().map(|(k, v)| format!("{k}={}", v.text())).collect();
                        fields.join(" ")
                    })
                    .collect();
                format!("[{}]", entries.join(", "))
            }
        }
    }
}

/// A message as an ordered list of FIX-named fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// FIX message name.
    pub msg: &'static str,
    /// Fields in schema order.
    pub fields: Vec<(&'static str, Value)>,
}

impl Rendered {
    /// The value of field `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// One JSON object: `{"msg":"ExecutionReport","ExecType":"New",...}`.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"msg\":");
        out.push_str(&json_string(self.msg));
        for (key, value) in &self.fields {
            let _ = write!(out, ",{}:", json_string(key));
            value.json(&mut out);
        }
        out.push('}');
        out
    }

    /// One readable line: `ExecutionReport ExecType=New ClOrdID=7 ...`.
    pub fn to_text(&self) -> String {
        let mut out = String::from(self.msg);
        for (key, value) in &self.fields {
            let _ = write!(out, " {key}={}", value.text());
        }
        out
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// FIX name of a message.
pub fn message_name(message: &Plain) -> &'static str {
    match message {
        Plain::Negotiate(_) => "Negotiate",
        Plain::NegotiationResponse(_) => "NegotiationResponse",
        Plain::NegotiationReject(_) => "NegotiationReject",
        Plain::Establish(_) => "Establish",
        Plain::EstablishmentAck(_) => "EstablishmentAck",
        Plain::EstablishmentReject(_) => "EstablishmentReject",
        Plain::Sequence(_) => "Sequence",
        Plain::Terminate(_) => "Terminate",
        Plain::RetransmitRequest(_) => "RetransmitRequest",
        Plain::Retransmission(_) => "Retransmission",
        Plain::RetransmitReject(_) => "RetransmitReject",
        Plain::NotApplied(_) => "NotApplied",
        Plain::NewOrderSingle(_) => "NewOrderSingle",
        Plain::OrderCancelRequest(_) => "OrderCancelRequest",
        Plain::OrderCancelReplaceRequest(_) => "OrderCancelReplaceRequest",
        Plain::OrderMassCancelRequest(_) => "OrderMassCancelRequest",
        Plain::RequestForPositions(_) => "RequestForPositions",
        Plain::CollateralInquiry(_) => "CollateralInquiry",
        Plain::ExecutionReport(_) => "ExecutionReport",
        Plain::OrderCancelReject(_) => "OrderCancelReject",
        Plain::OrderMassCancelReport(_) => "OrderMassCancelReport",
        Plain::BusinessMessageReject(_) => "BusinessMessageReject",
        Plain::PositionReport(_) => "PositionReport",
        Plain::CollateralReport(_) => "CollateralReport",
        Plain::FundingPaymentReport(_) => "FundingPaymentReport",
        Plain::MarginCallReport(_) => "MarginCallReport",
        Plain::LiquidationReport(_) => "LiquidationReport",
        Plain::AccountSetup(_) => "AccountSetup",
        Plain::FundsTransfer(_) => "FundsTransfer",
        Plain::CollateralValueUpdate(_) => "CollateralValueUpdate",
        Plain::IndexConstituents(_) => "IndexConstituents",
        Plain::SecurityStatusUpdate(_) => "SecurityStatusUpdate",
        Plain::RiskParameterUpdate(_) => "RiskParameterUpdate",
        Plain::KillSwitch(_) => "KillSwitch",
        Plain::AdminAck(_) => "AdminAck",
        Plain::AdminReject(_) => "AdminReject",
        Plain::MassQuote(_) => "MassQuote",
        Plain::MassQuoteAck(_) => "MassQuoteAck",
        Plain::QuoteCancel(_) => "QuoteCancel",
        Plain::QuoteCancelAck(_) => "QuoteCancelAck",
        Plain::MmpConfig(_) => "MmpConfig",
        Plain::MmpReset(_) => "MmpReset",
        Plain::MmpTriggered(_) => "MmpTriggered",
        Plain::MmpAck(_) => "MmpAck",
    }
}

/// Builds the field list of one message.
struct Fields<'r> {
    reference: &'r Reference,
    items: Vec<(&'static str, Value)>,
}

impl Fields<'_> {
    fn int(&mut self, key: &'static str, v: impl Into<i128>) -> &mut Self {
        self.items.push((key, Value::Int(v.into())));
        self
    }
    fn opt_int<T: Into<i128>>(&mut self, key: &'static str, v: Option<T>) -> &mut Self {
        if let Some(v) = v {
            self.int(key, v);
        }
        self
    }
    fn dec(&mut self, key: &'static str, mantissa: i64) -> &mut Self {
        self.items.push((key, Value::Decimal(mantissa)));
        self
    }
    fn rate(&mut self, key: &'static str, mantissa: i64) -> &mut Self {
        self.items.push((key, Value::Rate(mantissa)));
        self
    }
    fn opt_dec(&mut self, key: &'static str, mantissa: Option<i64>) -> &mut Self {
        if let Some(m) = mantissa {
            self.dec(key, m);
        }
        self
    }
    /// Enum values render as their FIX enumeration names (the codec's variant names).
    fn name(&mut self, key: &'static str, v: impl std::fmt::Debug) -> &mut Self {
        self.items.push((key, Value::Text(format!("{v:?}"))));
        self
    }
    fn opt_name(&mut self, key: &'static str, v: Option<impl std::fmt::Debug>) -> &mut Self {
        if let Some(v) = v {
            self.name(key, v);
        }
        self
    }
    fn text(&mut self, key: &'static str, v: &VarData<VAR_DATA_MAX>) -> &mut Self {
        let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
        self.items.push((key, Value::Text(text)));
        self
    }
    /// SecurityID, followed by Symbol when the configuration knows the instrument.
    fn security(&mut self, security_id: i32) -> &mut Self {
        self.int("SecurityID", security_id);
        if let Some(symbol) = self.reference.symbol(security_id) {
            self.items.push(("Symbol", Value::Text(symbol.to_owned())));
        }
        self
    }
    fn opt_security(&mut self, security_id: Option<i32>) -> &mut Self {
        if let Some(id) = security_id {
            self.security(id);
        }
        self
    }
}

/// Renders one received message (with its sequence number, as MsgSeqNum, when it has one).
pub fn render(received: &Received, reference: &Reference) -> Rendered {
    let mut f = Fields {
        reference,
        items: Vec::new(),
    };
    f.opt_int("MsgSeqNum", received.seq_no);
    session_fields(&received.message, &mut f);
    application_fields(&received.message, &mut f);
    Rendered {
        msg: message_name(&received.message),
        fields: f.items,
    }
}

fn session_fields(message: &Plain, f: &mut Fields<'_>) {
    match message {
        Plain::NegotiationResponse(m) => {
            f.int("UUID", m.uuid)
                .int("RequestTimestamp", m.request_timestamp)
                .opt_int("PreviousUUID", m.previous_uuid)
                .int("PreviousSeqNo", m.previous_seq_no);
        }
        Plain::NegotiationReject(m) => {
            f.int("UUID", m.uuid)
                .int("RequestTimestamp", m.request_timestamp)
                .name("NegotiationRejectCode", m.negotiation_reject_code);
        }
        Plain::EstablishmentAck(m) => {
            f.int("UUID", m.uuid)
                .int("RequestTimestamp", m.request_timestamp)
                .int("NextSeqNo", m.next_seq_no)
                .int("KeepaliveInterval", m.keepalive_interval);
        }
        Plain::EstablishmentReject(m) => {
            f.int("UUID", m.uuid)
                .int("RequestTimestamp", m.request_timestamp)
                .int("NextSeqNo", m.next_seq_no)
                .name("EstablishmentRejectCode", m.establishment_reject_code);
        }
        Plain::Sequence(m) => {
            f.int("UUID", m.uuid).int("NextSeqNo", m.next_seq_no);
        }
        Plain::Terminate(m) => {
            f.int("UUID", m.uuid)
                .int("RequestTimestamp", m.request_timestamp)
                .name("TerminationCode", m.termination_code);
        }
        Plain::Retransmission(m) => {
            f.int("UUID", m.uuid)
                .int("RequestTimestamp", m.request_timestamp)
                .int("NextSeqNo", m.next_seq_no)
                .int("MsgCount", m.msg_count);
        }
        Plain::RetransmitReject(m) => {
            f.int("UUID", m.uuid)
                .int("RequestTimestamp", m.request_timestamp)
                .name("RetransmitRejectCode", m.retransmit_reject_code);
        }
        Plain::NotApplied(m) => {
            f.int("UUID", m.uuid)
                .int("FromSeqNo", m.from_seq_no)
                .int("MsgCount", m.msg_count);
        }
        _ => {}
    }
}

fn application_fields(message: &Plain, f: &mut Fields<'_>) {
    match message {
        Plain::ExecutionReport(m) => execution_report(m, f),
        Plain::OrderCancelReject(m) => cancel_reject(m, f),
        Plain::OrderMassCancelReport(m) => mass_cancel_report(m, f),
        Plain::BusinessMessageReject(m) => {
            f.opt_int("BusinessRejectRefID", m.business_reject_ref_id)
                .int("TransactTime", m.transact_time)
                .int("RefSeqNum", m.ref_seq_num)
                .int("RefMsgType", m.ref_msg_type)
                .int("BusinessRejectReason", m.business_reject_reason)
                .text("Text", &m.text);
        }
        Plain::PositionReport(m) => position_report(m, f),
        Plain::CollateralReport(m) => collateral_report(m, f),
        Plain::FundingPaymentReport(m) => funding_payment_report(m, f),
        Plain::MarginCallReport(m) => {
            f.int("MarginRptID", m.margin_rpt_id)
                .int("Account", m.account)
                .name("MarginStatus", m.margin_status)
                .dec("LoanAmount", m.loan_amount)
                .dec("LoanableValue", m.loanable_value)
                .opt_int("CoverageRatio", m.coverage_ratio)
                .int("TransactTime", m.transact_time);
        }
        Plain::LiquidationReport(m) => {
            f.int("LiquidationRptID", m.liquidation_rpt_id)
                .int("Account", m.account)
                .security(m.security_id)
                .name("LiquidationStage", m.liquidation_stage)
                .name("Side", m.side)
                .dec("LastQty", m.last_qty)
                .dec("LastPx", m.last_px)
                .int("TransactTime", m.transact_time);
        }
        Plain::MassQuoteAck(m) => mass_quote_ack(m, f),
        Plain::QuoteCancelAck(m) => {
            f.int("QuoteID", m.quote_id)
                .name("QuoteStatus", m.quote_status)
                .opt_int("QuoteRejectReason", m.quote_reject_reason)
                .int("TotalAffectedOrders", m.total_affected_orders)
                .int("TransactTime", m.transact_time);
        }
        Plain::MmpAck(m) => {
            f.int("MmpReqID", m.mmp_req_id)
                .name("MmpAckType", m.mmp_ack_type)
                .name("Underlying", m.underlying)
                .opt_int("MmpRejectReason", m.mmp_reject_reason);
        }
        Plain::MmpTriggered(m) => {
            f.int("Account", m.account)
                .name("Underlying", m.underlying)
                .name("MmpBreach", m.mmp_breach)
                .dec("MmpWindowGross", m.mmp_window_gross)
                .dec("MmpWindowNet", m.mmp_window_net)
                .int("TotalAffectedOrders", m.total_affected_orders)
                .opt_int("MmpFrozenUntil", m.mmp_frozen_until)
                .int("MmpTriggerSeq", m.mmp_trigger_seq)
                .int("TransactTime", m.transact_time);
        }
        Plain::AdminAck(m) => {
            f.int("AdminReqID", m.admin_req_id)
                .int("TransactTime", m.transact_time)
                .int("RefTemplateID", m.ref_template_id);
        }
        Plain::AdminReject(m) => {
            f.int("AdminReqID", m.admin_req_id)
                .int("TransactTime", m.transact_time)
                .int("RefTemplateID", m.ref_template_id)
                .int("AdminRejectReason", m.admin_reject_reason)
                .text("Text", &m.text);
        }
        // Client-to-server messages are never received from a conforming server; their name
        // is all the line shows.
        _ => {}
    }
}

fn execution_report(m: &ExecutionReport, f: &mut Fields<'_>) {
    f.name("ExecType", m.exec_type)
        .name("OrdStatus", m.ord_status)
        .int("OrderID", m.order_id)
        .int("ClOrdID", m.cl_ord_id)
        .opt_int("OrigClOrdID", m.orig_cl_ord_id)
        .int("ExecID", m.exec_id)
        .security(m.security_id)
        .name("Side", m.side)
        .name("OrdType", m.ord_type)
        .name("TimeInForce", m.time_in_force)
        .opt_dec("Price", m.price)
        .dec("OrderQty", m.order_qty)
        .opt_dec("LastPx", m.last_px)
        .opt_dec("LastQty", m.last_qty)
        .dec("LeavesQty", m.leaves_qty)
        .dec("CumQty", m.cum_qty)
        .dec("Commission", m.commission)
        .opt_int("TrdMatchID", m.trd_match_id)
        .opt_int("OrdRejReason", m.ord_rej_reason)
        .opt_name("AggressorIndicator", m.aggressor_indicator)
        .int("TransactTime", m.transact_time);
}

fn mass_quote_ack(m: &MassQuoteAck, f: &mut Fields<'_>) {
    f.int("QuoteID", m.quote_id)
        .name("QuoteStatus", m.quote_status)
        .opt_int("QuoteRejectReason", m.quote_reject_reason);
    let mut entries = Vec::with_capacity(m.no_quote_entry_acks.len());
    for e in m.no_quote_entry_acks.as_slice() {
        let mut g = Fields {
            reference: f.reference,
            items: Vec::new(),
        };
        g.int("QuoteEntryID", e.quote_entry_id)
            .security(e.security_id)
            .int("QuoteSetID", e.quote_set_id)
            .name("QuoteEntryStatus", e.quote_entry_status)
            .opt_int("QuoteEntryRejectReason", e.quote_entry_reject_reason);
        entries.push(g.items);
    }
    f.items.push(("QuoteEntries", Value::Group(entries)));
    f.int("TransactTime", m.transact_time);
}

fn cancel_reject(m: &OrderCancelReject, f: &mut Fields<'_>) {
    f.opt_int("OrderID", m.order_id)
        .int("ClOrdID", m.cl_ord_id)
        .int("OrigClOrdID", m.orig_cl_ord_id)
        .security(m.security_id)
        .int("CxlRejReason", m.cxl_rej_reason)
        .name("CxlRejResponseTo", m.cxl_rej_response_to)
        .opt_name("OrdStatus", m.ord_status)
        .int("TransactTime", m.transact_time);
}

fn mass_cancel_report(m: &OrderMassCancelReport, f: &mut Fields<'_>) {
    f.int("ClOrdID", m.cl_ord_id)
        .name("MassCancelRequestType", m.mass_cancel_request_type)
        .name("MassCancelResponse", m.mass_cancel_response)
        .int("TotalAffectedOrders", m.total_affected_orders)
        .opt_security(m.security_id)
        .opt_name("Side", m.side)
        .opt_int("MassCancelRejectReason", m.mass_cancel_reject_reason)
        .int("TransactTime", m.transact_time);
}

fn position_report(m: &PositionReport, f: &mut Fields<'_>) {
    f.int("PosMaintRptID", m.pos_maint_rpt_id)
        .opt_int("PosReqID", m.pos_req_id)
        .int("Account", m.account)
        .security(m.security_id)
        .dec("LongQty", m.long_qty)
        .dec("ShortQty", m.short_qty)
        .opt_dec("EntryPx", m.entry_px)
        .opt_dec("MarkPx", m.mark_px)
        .dec("UnrealizedPnL", m.unrealized_pnl)
        .dec("RealizedPnL", m.realized_pnl)
        .int("TotNumReports", m.tot_num_reports)
        .int("TransactTime", m.transact_time);
}

fn funding_payment_report(m: &FundingPaymentReport, f: &mut Fields<'_>) {
    f.int("FundingRptID", m.funding_rpt_id)
        .int("Account", m.account)
        .security(m.security_id)
        .dec("PositionQty", m.position_qty)
        .dec("MarkPx", m.mark_px)
        .rate("FundingRate", m.funding_rate)
        .dec("FundingAmount", m.funding_amount)
        .int("FundingTime", m.funding_time)
        .int("TransactTime", m.transact_time);
}

fn collateral_report(m: &CollateralReport, f: &mut Fields<'_>) {
    f.int("CollRptID", m.coll_rpt_id)
        .opt_int("CollInquiryID", m.coll_inquiry_id)
        .int("Account", m.account)
        .dec("TotalNetValue", m.total_net_value)
        .dec("InitialMargin", m.initial_margin)
        .dec("MaintenanceMargin", m.maintenance_margin)
        .dec("LoanAmount", m.loan_amount)
        .dec("AccruedInterest", m.accrued_interest);
    // Per-asset entries flatten to `<Currency>Balance`, `<Currency>HeldAmount`, … so one
    // line stays a flat object; the keys are the FIX names prefixed with the asset.
    for entry in m.no_collateral_amounts.as_slice() {
        let (balance, held, value) = match entry.currency {
            exchange::protocol::codec::Asset::Usd => {
                ("USDBalance", "USDHeldAmount", "USDCollateralValue")
            }
            exchange::protocol::codec::Asset::Btc => {
                ("BTCBalance", "BTCHeldAmount", "BTCCollateralValue")
            }
            exchange::protocol::codec::Asset::Eth => {
                ("ETHBalance", "ETHHeldAmount", "ETHCollateralValue")
            }
        };
        f.dec(balance, entry.balance)
            .dec(held, entry.held_amount)
            .dec(value, entry.collateral_value);
    }
    f.int("TransactTime", m.transact_time);
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange::protocol::codec::{ExecType, OrdStatus, Side};

    fn report() -> Received {
        Received {
            seq_no: Some(3),
            message: Plain::ExecutionReport(ExecutionReport {
                order_id: 11,
                cl_ord_id: 7,
                price: Some(10_000_050_000_000),
                order_qty: 150_000_000,
                leaves_qty: 150_000_000,
                security_id: 1,
                exec_type: ExecType::New,
                ord_status: OrdStatus::New,
                side: Side::Buy,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn execution_report_json_uses_fix_names_and_decimal_strings() {
        let json = render(&report(), &Reference::from_default_config()).to_json();
        assert!(
            json.starts_with(r#"{"msg":"ExecutionReport","MsgSeqNum":3,"ExecType":"New""#),
            "{json}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v["Price"], "100000.5");
        assert_eq!(v["OrderQty"], "1.5");
        assert_eq!(v["Symbol"], "BTC-USD");
        assert_eq!(v["Side"], "Buy");
        assert!(
            v.get("LastPx").is_none(),
            "absent optional fields are left out"
        );
    }

    #[test]
    fn funding_payment_json_has_signed_quantity_and_nine_place_rate() {
        let received = Received {
            seq_no: Some(9),
            message: Plain::FundingPaymentReport(FundingPaymentReport {
                funding_rpt_id: 5,
                account: 2,
                position_qty: -150_000_000,
                mark_px: 10_000_000_000_000,
                funding_rate: 100_000,
                funding_amount: 1_500_000_000,
                funding_time: 28_800_000_000_000,
                transact_time: 28_800_000_000_001,
                security_id: 3,
            }),
        };
        let json = render(&received, &Reference::from_default_config()).to_json();
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v["msg"], "FundingPaymentReport");
        assert_eq!(v["Symbol"], "BTC-USD-PERP");
        assert_eq!(v["PositionQty"], "-1.5");
        assert_eq!(v["MarkPx"], "100000");
        assert_eq!(v["FundingRate"], "0.0001");
        assert_eq!(v["FundingAmount"], "15");
        assert_eq!(v["FundingTime"], 28_800_000_000_000u64);
    }

    #[test]
    fn text_line_is_name_then_key_values() {
        let text = render(&report(), &Reference::from_default_config()).to_text();
        assert!(
            text.starts_with("ExecutionReport MsgSeqNum=3 ExecType=New OrdStatus=New"),
            "{text}"
        );
        assert!(text.contains(" Price=100000.5 "), "{text}");
    }
}

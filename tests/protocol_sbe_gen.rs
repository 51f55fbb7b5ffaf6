//! Independent check of our codecs: the third-party `sbe_gen` crate (0.7) generates codecs from
//! the same `schema.xml` at build time (feature `sbe-gen-check`), and they must decode what our
//! encoder writes, field for field.
//!
//! Run with `cargo test -p exchange --features sbe-gen-check --test protocol_sbe_gen`.
//!
//! Known difference: sbe_gen reads the schema id from a non-standard `schemaId` attribute, so
//! its `SCHEMA_ID` constants are 0 for our SBE 1.0 schema (which uses `id`); the header's
//! schema id is therefore compared with our constant, not with sbe_gen's.
#![cfg(feature = "sbe-gen-check")]
#![allow(dead_code, clippy::all, clippy::pedantic)]

#[allow(unused)]
mod sbe {
    include!(concat!(env!("OUT_DIR"), "/sbe_gen_codecs.rs"));
}

use exchange::protocol::codec::{self as ours, samples, Encode, Plain, HEADER_LEN};

fn full_sample(template_id: u16) -> (Plain, Vec<u8>) {
    let plain = samples()
        .into_iter()
        .find(|p| p.template_id() == template_id)
        .expect("every template has samples, the fully populated one first");
    let mut buf = vec![0u8; 4096];
    let n = plain.encode(&mut buf).expect("fits");
    buf.truncate(n);
    (plain, buf)
}

/// sbe_gen's view of our header, and the bytes after it.
fn header(bytes: &[u8]) -> (&sbe::message_header::MessageHeader, &[u8]) {
    sbe::message_header::MessageHeader::parse_prefix(bytes).expect("8-byte header")
}

macro_rules! check_layout {
    ($($module:ident :: $ty:ident),* $(,)?) => {$(
        {
            let (_, bytes) = full_sample(ours::$ty::TEMPLATE_ID);
            let (h, body) = header(&bytes);
            assert_eq!(h.template_id.get(), sbe::$module::$ty::TEMPLATE_ID, stringify!($ty));
            assert_eq!(h.block_length.get(), sbe::$module::$ty::BLOCK_LENGTH, stringify!($ty));
            assert_eq!(h.schema_id.get(), ours::SCHEMA_ID);
            assert_eq!(h.version.get(), sbe::$module::$ty::SCHEMA_VERSION);
            assert_eq!(
                core::mem::size_of::<sbe::$module::$ty>(),
                usize::from(ours::$ty::BLOCK_LENGTH),
                stringify!($ty)
            );
            let (_, rest) = sbe::$module::parse_with_header(body, h).expect(stringify!($ty));
            assert_eq!(rest.len(), bytes.len() - HEADER_LEN - usize::from(h.block_length.get()));
        }
    )*};
}

#[test]
fn every_template_has_the_same_ids_and_block_layout() {
    check_layout!(
        negotiate::Negotiate,
        negotiation_response::NegotiationResponse,
        negotiation_reject::NegotiationReject,
        establish::Establish,
        establishment_ack::EstablishmentAck,
        establishment_reject::EstablishmentReject,
        sequence::Sequence,
        terminate::Terminate,
        retransmit_request::RetransmitRequest,
        retransmission::Retransmission,
        retransmit_reject::RetransmitReject,
        not_applied::NotApplied,
        new_order_single::NewOrderSingle,
        order_cancel_request::OrderCancelRequest,
        order_cancel_replace_request::OrderCancelReplaceRequest,
        order_mass_cancel_request::OrderMassCancelRequest,
        request_for_positions::RequestForPositions,
        collateral_inquiry::CollateralInquiry,
        execution_report::ExecutionReport,
        order_cancel_reject::OrderCancelReject,
        order_mass_cancel_report::OrderMassCancelReport,
        business_message_reject::BusinessMessageReject,
        position_report::PositionReport,
        collateral_report::CollateralReport,
        funding_payment_report::FundingPaymentReport,
        account_setup::AccountSetup,
        funds_transfer::FundsTransfer,
        collateral_value_update::CollateralValueUpdate,
        index_constituents::IndexConstituents,
        security_status_update::SecurityStatusUpdate,
        risk_parameter_update::RiskParameterUpdate,
        admin_ack::AdminAck,
        admin_reject::AdminReject,
    );
}

#[test]
fn new_order_single_fields_match() {
    let (Plain::NewOrderSingle(o), bytes) = full_sample(1) else {
        unreachable!()
    };
    let (_, body) = header(&bytes);
    let (m, _) = sbe::new_order_single::NewOrderSingle::parse_prefix(body).expect("block");
    assert_eq!(m.cl_ord_id.get(), o.cl_ord_id);
    assert_eq!(Some(m.price.mantissa.get()), o.price);
    assert_eq!(m.order_qty.mantissa.get(), o.order_qty);
    assert_eq!(Some(m.expire_time.get()), o.expire_time);
    assert_eq!(m.security_id.get(), o.security_id);
    assert_eq!(m.side.0, o.side.to_wire());
    assert_eq!(m.ord_type.0, o.ord_type.to_wire());
    assert_eq!(m.time_in_force.0, o.time_in_force.to_wire());
    assert_eq!(m.exec_inst.0, o.exec_inst.bits());
    assert_eq!(
        m.self_match_prevention_instruction.0,
        o.self_match_prevention_instruction
            .map_or(0, |s| s.to_wire())
    );
    assert_eq!(sbe::types::Price8::EXPONENT, ours::PRICE8_EXPONENT);
    assert_eq!(sbe::types::Qty8::EXPONENT, ours::QTY8_EXPONENT);
}

#[test]
fn execution_report_fields_match() {
    let (Plain::ExecutionReport(e), bytes) = full_sample(10) else {
        unreachable!()
    };
    let (_, body) = header(&bytes);
    let (m, _) = sbe::execution_report::ExecutionReport::parse_prefix(body).expect("block");
    assert_eq!(m.order_id.get(), e.order_id);
    assert_eq!(m.cl_ord_id.get(), e.cl_ord_id);
    assert_eq!(Some(m.orig_cl_ord_id.get()), e.orig_cl_ord_id);
    assert_eq!(m.exec_id.get(), e.exec_id);
    assert_eq!(Some(m.price.mantissa.get()), e.price);
    assert_eq!(m.order_qty.mantissa.get(), e.order_qty);
    assert_eq!(Some(m.last_px.mantissa.get()), e.last_px);
    assert_eq!(Some(m.last_qty.mantissa.get()), e.last_qty);
    assert_eq!(m.leaves_qty.mantissa.get(), e.leaves_qty);
    assert_eq!(m.cum_qty.mantissa.get(), e.cum_qty);
    assert_eq!(m.commission.mantissa.get(), e.commission);
    assert_eq!(m.transact_time.get(), e.transact_time);
    assert_eq!(Some(m.trd_match_id.get()), e.trd_match_id);
    assert_eq!(m.security_id.get(), e.security_id);
    assert_eq!(Some(m.ord_rej_reason.get()), e.ord_rej_reason);
    assert_eq!(m.exec_type.0, e.exec_type.to_wire());
    assert_eq!(m.ord_status.0, e.ord_status.to_wire());
    assert_eq!(m.side.0, e.side.to_wire());
    assert_eq!(m.ord_type.0, e.ord_type.to_wire());
    assert_eq!(m.time_in_force.0, e.time_in_force.to_wire());
    assert_eq!(
        Some(m.aggressor_indicator.0),
        e.aggressor_indicator.map(|a| a.to_wire())
    );
}

#[test]
fn funding_payment_report_fields_match() {
    let (Plain::FundingPaymentReport(f), bytes) = full_sample(16) else {
        unreachable!()
    };
    let (_, body) = header(&bytes);
    let (m, rest) =
        sbe::funding_payment_report::FundingPaymentReport::parse_prefix(body).expect("block");
    assert!(rest.is_empty());
    assert_eq!(m.funding_rpt_id.get(), f.funding_rpt_id);
    assert_eq!(m.account.get(), f.account);
    assert_eq!(m.transact_time.get(), f.transact_time);
    assert_eq!(m.funding_time.get(), f.funding_time);
    assert_eq!(m.position_qty.mantissa.get(), f.position_qty);
    assert_eq!(m.mark_px.mantissa.get(), f.mark_px);
    assert_eq!(m.funding_rate.mantissa.get(), f.funding_rate);
    assert_eq!(m.funding_amount.mantissa.get(), f.funding_amount);
    assert_eq!(m.security_id.get(), f.security_id);
    assert_eq!(sbe::types::Rate9::EXPONENT, ours::RATE9_EXPONENT);
    assert_eq!(sbe::types::SignedQty8::EXPONENT, ours::SIGNED_QTY8_EXPONENT);
}

#[test]
fn negotiate_arrays_and_credentials_match() {
    let (Plain::Negotiate(n), bytes) = full_sample(500) else {
        unreachable!()
    };
    let (h, body) = header(&bytes);
    let (view, rest) = sbe::negotiate::parse_with_header(body, h).expect("block");
    let m = &*view.body;
    assert_eq!(m.session_id, n.session_id);
    assert_eq!(m.uuid.get(), n.uuid);
    assert_eq!(m.request_timestamp.get(), n.request_timestamp);
    assert_eq!(m.hmac_signature, n.hmac_signature);
    let (credentials, tail) = m.parse_credentials(rest).expect("var data");
    assert_eq!(credentials.bytes, n.credentials.as_bytes());
    assert!(tail.is_empty());
}

#[test]
fn collateral_report_group_matches() {
    let (Plain::CollateralReport(c), bytes) = full_sample(15) else {
        unreachable!()
    };
    let (_, body) = header(&bytes);
    let (m, rest) = sbe::collateral_report::CollateralReport::parse_prefix(body).expect("block");
    assert_eq!(m.coll_rpt_id.get(), c.coll_rpt_id);
    assert_eq!(Some(m.coll_inquiry_id.get()), c.coll_inquiry_id);
    assert_eq!(m.account.get(), c.account);
    assert_eq!(m.transact_time.get(), c.transact_time);
    assert_eq!(m.total_net_value.mantissa.get(), c.total_net_value);
    assert_eq!(m.initial_margin.mantissa.get(), c.initial_margin);
    assert_eq!(m.maintenance_margin.mantissa.get(), c.maintenance_margin);
    assert_eq!(m.loan_amount.mantissa.get(), c.loan_amount);
    assert_eq!(m.accrued_interest.mantissa.get(), c.accrued_interest);
    let group = sbe::collateral_report::parse_no_collateral_amounts(rest).expect("group");
    let theirs: Vec<_> = group.iter().collect();
    assert_eq!(theirs.len(), c.no_collateral_amounts.len());
    for (t, o) in theirs.iter().zip(c.no_collateral_amounts.as_slice()) {
        let t = &*t.body;
        assert_eq!(t.balance.mantissa.get(), o.balance);
        assert_eq!(t.held_amount.mantissa.get(), o.held_amount);
        assert_eq!(t.collateral_value.mantissa.get(), o.collateral_value);
        assert_eq!(t.currency.0, o.currency.to_wire());
    }
}

#[test]
fn business_message_reject_text_matches() {
    let (Plain::BusinessMessageReject(r), bytes) = full_sample(13) else {
        unreachable!()
    };
    let (_, body) = header(&bytes);
    let (m, rest) =
        sbe::business_message_reject::BusinessMessageReject::parse_prefix(body).expect("block");
    assert_eq!(
        Some(m.business_reject_ref_id.get()),
        r.business_reject_ref_id
    );
    assert_eq!(m.transact_time.get(), r.transact_time);
    assert_eq!(m.ref_seq_num.get(), r.ref_seq_num);
    assert_eq!(m.ref_msg_type.get(), r.ref_msg_type);
    assert_eq!(m.business_reject_reason.get(), r.business_reject_reason);
    let (text, tail) = m.parse_text(rest).expect("var data");
    assert_eq!(text.as_str(), r.text.as_str());
    assert!(tail.is_empty());
}

#[test]
fn index_constituents_group_matches() {
    let (Plain::IndexConstituents(ix), bytes) = full_sample(103) else {
        unreachable!()
    };
    let (_, body) = header(&bytes);
    let (m, rest) = sbe::index_constituents::IndexConstituents::parse_prefix(body).expect("block");
    assert_eq!(m.admin_req_id.get(), ix.admin_req_id);
    assert_eq!(m.transact_time.get(), ix.transact_time);
    assert_eq!(m.security_id.get(), ix.security_id);
    let group = sbe::index_constituents::parse_no_constituents(rest).expect("group");
    let theirs: Vec<_> = group.iter().collect();
    assert_eq!(theirs.len(), ix.no_constituents.len());
    for (t, o) in theirs.iter().zip(ix.no_constituents.as_slice()) {
        let t = &*t.body;
        assert_eq!(t.constituent_px.mantissa.get(), o.constituent_px);
        assert_eq!(t.constituent_time.get(), o.constituent_time);
        assert_eq!(t.constituent_source_id.get(), o.constituent_source_id);
    }
}

//! The SBE messages the generator sends, encoded with the exchange's own codecs. Prices are in
//! whole USD (BTC-USD, SecurityID 1), quantities in lots of 0.00001 BTC.

use exchange::protocol::codec::{self as wire, Encode};

/// BTC-USD.
pub const SECURITY_ID: i32 = 1;
/// Price units per USD (wire prices are fixed-point 1e-8).
const UNITS_PER_USD: i64 = 100_000_000;
/// Quantity units per lot of BTC-USD (lot 0.00001 BTC, quantities fixed-point 1e-8).
const UNITS_PER_LOT: i64 = 1_000;

/// A limit order (GTC, or IOC when `ioc`).
#[must_use]
pub fn limit(cl_ord_id: u64, buy: bool, price_usd: i64, qty_lots: i64, ioc: bool) -> Vec<u8> {
    Encode::to_vec(&wire::NewOrderSingle {
        cl_ord_id,
        price: Some(price_usd * UNITS_PER_USD),
        order_qty: qty_lots * UNITS_PER_LOT,
        security_id: SECURITY_ID,
        side: side(buy),
        ord_type: wire::OrdType::Limit,
        time_in_force: if ioc {
            wire::TimeInForce::ImmediateOrCancel
        } else {
            wire::TimeInForce::GoodTillCancel
        },
        ..Default::default()
    })
}

/// A cancel of the account's order `orig_cl_ord_id`.
#[must_use]
pub fn cancel(cl_ord_id: u64, orig_cl_ord_id: u64, buy: bool) -> Vec<u8> {
    Encode::to_vec(&wire::OrderCancelRequest {
        cl_ord_id,
        orig_cl_ord_id,
        order_id: None,
        security_id: SECURITY_ID,
        side: side(buy),
    })
}

/// An operator AccountSetup: a professional account in `owner_group`.
#[must_use]
pub fn account_setup(admin_req_id: u64, account: u32, owner_group: u32) -> Vec<u8> {
    Encode::to_vec(&wire::AccountSetup {
        admin_req_id,
        account: u64::from(account),
        credit_limit_usd: 0,
        owner_group,
        risk_disclosure_version_acked: 1,
        client_class: wire::ClientClass::Professional,
        derivatives_knowledge: wire::BooleanFlag::True,
        securities_margin_client: wire::BooleanFlag::False,
        affiliate_mm: wire::BooleanFlag::False,
    })
}

/// An operator deposit of `whole` units of an asset.
#[must_use]
pub fn deposit(admin_req_id: u64, account: u32, currency: wire::Asset, whole: i64) -> Vec<u8> {
    Encode::to_vec(&wire::FundsTransfer {
        admin_req_id,
        account: u64::from(account),
        transfer_amount: whole * UNITS_PER_USD,
        transfer_type: wire::TransferType::Deposit,
        currency,
    })
}

fn side(buy: bool) -> wire::Side {
    if buy {
        wire::Side::Buy
    } else {
        wire::Side::Sell
    }
}

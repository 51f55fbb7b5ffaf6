//! What a user asks the client to do, already validated, and the wire messages it becomes.
//!
//! Values are parsed from text once (decimals to mantissas, symbols to SecurityIDs) by the
//! helpers here, which the script parser and the CLI share; building the wire message then
//! cannot fail.

use exchange::protocol::codec::{
    AccountSetup, Asset, BooleanFlag, ClientClass, CollateralInquiry, CollateralValueUpdate,
    ConstituentsEntry, ExecInst, FundsTransfer, GroupVec, IndexConstituents, KillSwitch,
    KillSwitchAction, MassCancelRequestType, NewOrderSingle, OrdType, OrderCancelReplaceRequest,
    OrderCancelRequest, OrderMassCancelRequest, RequestForPositions, SecurityStatusUpdate,
    SecurityTradingStatus, Side, TimeInForce, TransferType, GROUP_ENTRIES_MAX,
};
use thiserror::Error;

use super::decimal::{positive_mantissa, DecimalError};
use super::quote::{MmpLine, QuoteLine};
use super::reference::Reference;

/// Why a request argument is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// A decimal argument.
    #[error(transparent)]
    Decimal(#[from] DecimalError),
    /// Neither a configured symbol nor a positive SecurityID.
    #[error("unknown instrument {text:?}: use one of {known} or a SecurityID")]
    UnknownInstrument {
        /// Text given.
        text: String,
        /// Configured symbols, comma separated.
        known: String,
    },
    /// Not `buy` or `sell`.
    #[error("side {0:?} is not buy or sell")]
    Side(String),
    /// Not a time in force.
    #[error("time in force {0:?} is not gtc, ioc, fok, day or gtd=NS")]
    TimeInForce(String),
    /// Not USD, BTC or ETH.
    #[error("asset {0:?} is not USD, BTC or ETH")]
    Asset(String),
    /// Not a non-negative integer of the right size.
    #[error("{what} {text:?} is not an integer in 0..={max}")]
    Integer {
        /// What the value is.
        what: &'static str,
        /// Text given.
        text: String,
        /// Largest allowed value.
        max: u64,
    },
    /// Not `true` or `false`.
    #[error("{what} {text:?} is not true or false")]
    Boolean {
        /// What the value is.
        what: &'static str,
        /// Text given.
        text: String,
    },
    /// Not `retail` or `professional`.
    #[error("client_class {0:?} is not retail or professional")]
    ClientClass(String),
    /// An `account` key the AccountSetup message does not have.
    #[error(
        "unknown account key {0:?}: use client_class, derivatives_knowledge, \
         risk_disclosure_version_acked, securities_margin_client, credit_limit_usd, \
         affiliate_mm or owner_group"
    )]
    AccountKey(String),
    /// An index needs 1..=16 constituent prices (one repeating group entry each).
    #[error("an index takes 1..={GROUP_ENTRIES_MAX} prices, {0} given")]
    ConstituentCount(usize),
    /// A quote side that is not `QTY@PRICE`.
    #[error("quote side {0:?} is not QTY@PRICE")]
    QuoteSide(String),
    /// An `mmp-config` option that is unknown, repeated or missing.
    #[error("mmp-config option {0:?}: use window=MS qty=X delta=Y [frozen=MS], each once")]
    MmpOption(String),
}

/// A limit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitOrder {
    /// Buy or sell.
    pub side: Side,
    /// Instrument.
    pub security_id: i32,
    /// Quantity mantissa (× 1e-8).
    pub qty: i64,
    /// Price mantissa (× 1e-8).
    pub price: i64,
    /// Time in force.
    pub tif: TimeInForce,
    /// Expiry for GTD, ns since the Unix epoch.
    pub expire_time_ns: Option<u64>,
    /// ExecInst post-only.
    pub post_only: bool,
    /// ExecInst reduce-only.
    pub reduce_only: bool,
    /// ExecInst MMP: covered by market maker protection.
    pub mmp: bool,
}

/// Instrument and side of an existing order, which cancel and amend messages carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderTarget {
    /// Instrument of the order.
    pub security_id: i32,
    /// Side of the order.
    pub side: Side,
}

/// One thing to do, in script order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// NewOrderSingle, limit.
    Limit {
        /// The order.
        order: LimitOrder,
        /// ClOrdID given with `id=`.
        id: Option<u64>,
    },
    /// NewOrderSingle, market (IOC).
    Market {
        /// Buy or sell.
        side: Side,
        /// Instrument.
        security_id: i32,
        /// Quantity mantissa.
        qty: i64,
        /// ClOrdID given with `id=`.
        id: Option<u64>,
    },
    /// OrderCancelRequest for the order whose ClOrdID is `orig`.
    Cancel {
        /// OrigClOrdID.
        orig: u64,
        /// Instrument and side when known.
        target: Option<OrderTarget>,
        /// ClOrdID of the cancel request given with `id=`.
        id: Option<u64>,
    },
    /// OrderCancelReplaceRequest for the order whose ClOrdID is `orig`.
    Amend {
        /// OrigClOrdID.
        orig: u64,
        /// New total quantity mantissa.
        qty: i64,
        /// New price mantissa.
        price: i64,
        /// Instrument and side (needed: the venue converts the price with the instrument's
        /// tick).
        target: OrderTarget,
        /// ClOrdID of the amended order given with `id=`.
        id: Option<u64>,
    },
    /// OrderMassCancelRequest, for one instrument or all.
    MassCancel {
        /// Instrument filter.
        security_id: Option<i32>,
    },
    /// RequestForPositions for the session's account.
    Positions,
    /// CollateralInquiry for the session's account.
    Collateral,
    /// Wait, keeping the session alive and printing what arrives.
    Sleep {
        /// Milliseconds.
        ms: u64,
    },
    /// FundsTransfer (operator).
    Funds {
        /// Target account.
        account: u64,
        /// Asset.
        asset: Asset,
        /// Amount mantissa (positive).
        amount: i64,
        /// Deposit or withdrawal.
        transfer: TransferType,
    },
    /// AccountSetup (operator); `admin_req_id` is filled when sent.
    Account(AccountSetup),
    /// IndexConstituents (operator): one constituent per price, source ids 1, 2, …
    Index {
        /// Instrument.
        security_id: i32,
        /// Price mantissas.
        prices: Vec<i64>,
    },
    /// CollateralValueUpdate (operator).
    CollateralValue {
        /// Target account.
        account: u64,
        /// Security class id.
        class: u16,
        /// Market value mantissa, USD.
        value: i64,
        /// Haircut, parts per million.
        haircut_ppm: u32,
    },
    /// SecurityStatusUpdate (operator): halt or resume.
    Status {
        /// Instrument.
        security_id: i32,
        /// New status.
        status: SecurityTradingStatus,
    },
    /// MassQuote with one entry.
    Quote(QuoteLine),
    /// QuoteCancel for one instrument, or all quotes.
    QuoteCancel {
        /// Instrument filter.
        security_id: Option<i32>,
    },
    /// MmpConfig.
    MmpConfig(MmpLine),
    /// MmpReset.
    MmpReset {
        /// BTC or ETH.
        underlying: Asset,
    },
    /// KillSwitch (operator): mass-cancel and block, or unblock, an account or owner group.
    KillSwitch {
        /// The target.
        target: KillTarget,
        /// Kill or unblock.
        action: KillSwitchAction,
    },
}

/// What a kill switch applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillTarget {
    Account(u64),
    OwnerGroup(u32),
}

impl Request {
    /// The explicit ClOrdID (`id=`) of an order-entry request.
    pub fn explicit_id(&self) -> Option<u64> {
        match self {
            Request::Limit { id, .. }
            | Request::Market { id, .. }
            | Request::Cancel { id, .. }
            | Request::Amend { id, .. } => *id,
            _ => None,
        }
    }
}

/// SecurityID of a symbol or number.
///
/// # Errors
/// [`RequestError::UnknownInstrument`].
pub fn parse_instrument(reference: &Reference, text: &str) -> Result<i32, RequestError> {
    reference
        .security_id(text)
        .ok_or_else(|| RequestError::UnknownInstrument {
            text: text.to_owned(),
            known: reference.symbols().join(", "),
        })
}

/// `buy` or `sell`, case-insensitive.
///
/// # Errors
/// [`RequestError::Side`].
pub fn parse_side(text: &str) -> Result<Side, RequestError> {
    match text.to_ascii_lowercase().as_str() {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(RequestError::Side(text.to_owned())),
    }
}

/// `gtc`, `ioc`, `fok`, `day` or `gtd=NS` (expiry in ns since the Unix epoch).
///
/// # Errors
/// [`RequestError::TimeInForce`].
pub fn parse_tif(text: &str) -> Result<(TimeInForce, Option<u64>), RequestError> {
    let lower = text.to_ascii_lowercase();
    let tif = match lower.as_str() {
        "gtc" => TimeInForce::GoodTillCancel,
        "ioc" => TimeInForce::ImmediateOrCancel,
        "fok" => TimeInForce::FillOrKill,
        "day" => TimeInForce::Day,
        _ => {
            let expiry = lower
                .strip_prefix("gtd=")
                .and_then(|ns| ns.parse::<u64>().ok())
                .filter(|ns| *ns > 0)
                .ok_or_else(|| RequestError::TimeInForce(text.to_owned()))?;
            return Ok((TimeInForce::GoodTillDate, Some(expiry)));
        }
    };
    Ok((tif, None))
}

/// `USD`, `BTC` or `ETH`, case-insensitive.
///
/// # Errors
/// [`RequestError::Asset`].
pub fn parse_asset(text: &str) -> Result<Asset, RequestError> {
    match text.to_ascii_uppercase().as_str() {
        "USD" => Ok(Asset::Usd),
        "BTC" => Ok(Asset::Btc),
        "ETH" => Ok(Asset::Eth),
        _ => Err(RequestError::Asset(text.to_owned())),
    }
}

/// A non-negative integer no larger than `max`.
///
/// # Errors
/// [`RequestError::Integer`].
pub fn parse_uint(what: &'static str, text: &str, max: u64) -> Result<u64, RequestError> {
    text.parse::<u64>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| RequestError::Integer {
            what,
            text: text.to_owned(),
            max,
        })
}

/// `true` or `false`.
///
/// # Errors
/// [`RequestError::Boolean`].
pub fn parse_bool(what: &'static str, text: &str) -> Result<BooleanFlag, RequestError> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Ok(BooleanFlag::True),
        "false" => Ok(BooleanFlag::False),
        _ => Err(RequestError::Boolean {
            what,
            text: text.to_owned(),
        }),
    }
}

/// A GTC limit order built from text: the shortest way to an order in library code.
///
/// # Errors
/// [`RequestError`] for an unknown instrument or a bad quantity or price.
pub fn limit_order(
    reference: &Reference,
    cl_ord_id: u64,
    side: Side,
    instrument: &str,
    qty: &str,
    price: &str,
) -> Result<NewOrderSingle, RequestError> {
    let order = LimitOrder {
        side,
        security_id: parse_instrument(reference, instrument)?,
        qty: positive_mantissa("qty", qty)?,
        price: positive_mantissa("price", price)?,
        tif: TimeInForce::GoodTillCancel,
        expire_time_ns: None,
        post_only: false,
        reduce_only: false,
        mmp: false,
    };
    Ok(new_order_single(cl_ord_id, &order))
}

/// NewOrderSingle for a limit order.
pub fn new_order_single(cl_ord_id: u64, order: &LimitOrder) -> NewOrderSingle {
    NewOrderSingle {
        cl_ord_id,
        price: Some(order.price),
        order_qty: order.qty,
        expire_time: order.expire_time_ns,
        security_id: order.security_id,
        side: order.side,
        ord_type: OrdType::Limit,
        time_in_force: order.tif,
        exec_inst: ExecInst::empty()
            .with_post_only(order.post_only)
            .with_reduce_only(order.reduce_only)
            .with_mmp(order.mmp),
        self_match_prevention_instruction: None,
    }
}

/// NewOrderSingle for a market order: no price, immediate-or-cancel (the venue bounds it by
/// its market protection price).
pub fn market_order(cl_ord_id: u64, side: Side, security_id: i32, qty: i64) -> NewOrderSingle {
    NewOrderSingle {
        cl_ord_id,
        price: None,
        order_qty: qty,
        expire_time: None,
        security_id,
        side,
        ord_type: OrdType::Market,
        time_in_force: TimeInForce::ImmediateOrCancel,
        exec_inst: ExecInst::empty(),
        self_match_prevention_instruction: None,
    }
}

/// OrderCancelRequest naming the order by its ClOrdID (`orig`).
///
/// Without a target, SecurityID is 0 and Side Buy: the venue finds the order by OrigClOrdID
/// within the session's account (see `src/protocol/mapping/inbound.rs`) and does not read
/// them, and SecurityID 0 names no instrument.
pub fn cancel_request(
    cl_ord_id: u64,
    orig: u64,
    target: Option<OrderTarget>,
) -> OrderCancelRequest {
    OrderCancelRequest {
        cl_ord_id,
        orig_cl_ord_id: orig,
        order_id: None,
        security_id: target.map_or(0, |t| t.security_id),
        side: target.map_or(Side::Buy, |t| t.side),
    }
}

/// OrderCancelReplaceRequest naming the order by its ClOrdID (`orig`).
pub fn cancel_replace_request(
    cl_ord_id: u64,
    orig: u64,
    target: OrderTarget,
    qty: i64,
    price: i64,
) -> OrderCancelReplaceRequest {
    OrderCancelReplaceRequest {
        cl_ord_id,
        orig_cl_ord_id: orig,
        order_id: None,
        price,
        order_qty: qty,
        security_id: target.security_id,
        side: target.side,
    }
}

/// OrderMassCancelRequest for one instrument, or all when `security_id` is `None`.
pub fn mass_cancel_request(cl_ord_id: u64, security_id: Option<i32>) -> OrderMassCancelRequest {
    OrderMassCancelRequest {
        cl_ord_id,
        security_id,
        mass_cancel_request_type: if security_id.is_some() {
            MassCancelRequestType::CancelOrdersForSecurity
        } else {
            MassCancelRequestType::CancelAllOrders
        },
        side: None,
    }
}

/// RequestForPositions for all instruments.
pub fn request_for_positions(pos_req_id: u64, account: u64) -> RequestForPositions {
    RequestForPositions {
        pos_req_id,
        account,
        security_id: None,
    }
}

/// CollateralInquiry.
pub fn collateral_inquiry(coll_inquiry_id: u64, account: u64) -> CollateralInquiry {
    CollateralInquiry {
        coll_inquiry_id,
        account,
    }
}

/// FundsTransfer.
pub fn funds_transfer(
    admin_req_id: u64,
    account: u64,
    asset: Asset,
    amount: i64,
    transfer: TransferType,
) -> FundsTransfer {
    FundsTransfer {
        admin_req_id,
        account,
        transfer_amount: amount,
        transfer_type: transfer,
        currency: asset,
    }
}

/// AccountSetup with attributes for `account`: those of the embedded default configuration
/// when it lists the account, otherwise a retail account with nothing acknowledged. The
/// message replaces all attributes, so the `account` script line starts from these.
pub fn account_setup_defaults(account: u64) -> AccountSetup {
    let config = exchange::config::Config::default_config();
    let mut setup = AccountSetup {
        account,
        ..AccountSetup::default()
    };
    if let Some(a) = config.accounts.iter().find(|a| u64::from(a.id) == account) {
        setup.client_class = match a.client_class.as_deref() {
            Some("professional") => ClientClass::Professional,
            _ => ClientClass::Retail,
        };
        setup.derivatives_knowledge = flag(a.derivatives_knowledge);
        setup.risk_disclosure_version_acked =
            u16::try_from(a.risk_disclosure_version_acked).unwrap_or(u16::MAX);
        setup.securities_margin_client = flag(a.securities_margin_client);
        setup.credit_limit_usd = a
            .credit_limit_usd
            .and_then(|d| exchange::config::decimal_to_units("credit_limit_usd", d).ok())
            .unwrap_or(0);
        setup.affiliate_mm = flag(a.affiliate_mm);
        setup.owner_group = a.owner_group;
    }
    setup
}

fn flag(on: bool) -> BooleanFlag {
    if on {
        BooleanFlag::True
    } else {
        BooleanFlag::False
    }
}

/// IndexConstituents: constituent `i` (from 1) is source `i`, observed at `now_ns`.
///
/// # Errors
/// [`RequestError::ConstituentCount`] for none or more than 16 prices.
pub fn index_constituents(
    admin_req_id: u64,
    security_id: i32,
    prices: &[i64],
    now_ns: u64,
) -> Result<IndexConstituents, RequestError> {
    let count_error = || RequestError::ConstituentCount(prices.len());
    let mut entries = GroupVec::new();
    for (i, price) in prices.iter().enumerate() {
        let entry = ConstituentsEntry {
            constituent_px: *price,
            constituent_time: now_ns,
            constituent_source_id: u16::try_from(i + 1).map_err(|_| count_error())?,
        };
        entries.push(entry).map_err(|_| count_error())?;
    }
    index_constituents_from(admin_req_id, security_id, entries, now_ns)
}

/// IndexConstituents from entries that name their own sources and observation times (a
/// replayed price file), published at `published_ns`.
///
/// # Errors
/// [`RequestError::ConstituentCount`] for an empty group.
pub fn index_constituents_from(
    admin_req_id: u64,
    security_id: i32,
    entries: GroupVec<ConstituentsEntry, GROUP_ENTRIES_MAX>,
    published_ns: u64,
) -> Result<IndexConstituents, RequestError> {
    if entries.as_slice().is_empty() {
        return Err(RequestError::ConstituentCount(0));
    }
    Ok(IndexConstituents {
        admin_req_id,
        transact_time: published_ns,
        security_id,
        no_constituents: entries,
    })
}

/// CollateralValueUpdate.
pub fn collateral_value_update(
    admin_req_id: u64,
    account: u64,
    class: u16,
    value: i64,
    haircut_ppm: u32,
) -> CollateralValueUpdate {
    CollateralValueUpdate {
        admin_req_id,
        account,
        security_collateral_value: value,
        haircut_ppm,
        security_class: class,
    }
}

/// KillSwitch.
pub fn kill_switch(admin_req_id: u64, target: KillTarget, action: KillSwitchAction) -> KillSwitch {
    let (account, owner_group) = match target {
        KillTarget::Account(account) => (Some(account), 0),
        KillTarget::OwnerGroup(group) => (None, group),
    };
    KillSwitch {
        admin_req_id,
        account,
        owner_group,
        kill_switch_action: action,
    }
}

/// SecurityStatusUpdate.
pub fn security_status_update(
    admin_req_id: u64,
    security_id: i32,
    status: SecurityTradingStatus,
) -> SecurityStatusUpdate {
    SecurityStatusUpdate {
        admin_req_id,
        security_id,
        security_trading_status: status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_order_from_text_carries_mantissas() {
        let r = Reference::from_default_config();
        let o = limit_order(&r, 9, Side::Sell, "ETH-USD", "0.5", "3000.01").expect("valid");
        assert_eq!(o.security_id, 2);
        assert_eq!(o.order_qty, 50_000_000);
        assert_eq!(o.price, Some(300_001_000_000));
        assert_eq!(o.ord_type, OrdType::Limit);
        assert_eq!(o.time_in_force, TimeInForce::GoodTillCancel);
    }

    #[test]
    fn market_order_has_no_price() {
        let o = market_order(1, Side::Buy, 1, 100);
        assert_eq!(o.price, None);
        assert_eq!(o.ord_type, OrdType::Market);
    }

    #[test]
    fn mass_cancel_scope_follows_the_filter() {
        let all = mass_cancel_request(1, None);
        assert_eq!(
            all.mass_cancel_request_type,
            MassCancelRequestType::CancelAllOrders
        );
        let one = mass_cancel_request(1, Some(2));
        assert_eq!(
            one.mass_cancel_request_type,
            MassCancelRequestType::CancelOrdersForSecurity
        );
    }

    #[test]
    fn account_defaults_come_from_the_embedded_config() {
        let mm1 = account_setup_defaults(1);
        assert_eq!(mm1.client_class, ClientClass::Professional);
        assert_eq!(mm1.owner_group, 1);
        assert_eq!(mm1.risk_disclosure_version_acked, 1);
        let new = account_setup_defaults(77);
        assert_eq!(new.client_class, ClientClass::Retail);
        assert_eq!(new.derivatives_knowledge, BooleanFlag::False);
    }

    #[test]
    fn index_takes_one_to_sixteen_prices() {
        assert_eq!(
            index_constituents(1, 3, &[], 0),
            Err(RequestError::ConstituentCount(0))
        );
        assert!(index_constituents(1, 3, &[1; 16], 0).is_ok());
        assert_eq!(
            index_constituents(1, 3, &[1; 17], 0),
            Err(RequestError::ConstituentCount(17))
        );
    }
}

//! Events: everything the engine has to say about a command, written into a caller's sink.
//! The gateway turns them into execution reports, market data into packets, tools into text.

use super::asset::Asset;
use super::command::OrderRef;
use super::margin::MarginStatus;
use super::mmp::{MmpBreach, MmpLimits};
use super::order::{Side, TimeInForce};
use super::reject::RejectReason;
use super::types::{AccountId, InstrumentId, OrderId, PriceTicks, QtyLots, Units};

/// Why an order left the book without filling completely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CancelReason {
    /// The account asked (OrderCancelRequest).
    Requested = 1,
    MassCancel = 2,
    /// IOC or market remainder, or an FOK that could not fill.
    ImmediateRemainder = 3,
    SelfTradePrevention = 4,
    /// GTD expiry (FIX ExecType C).
    Expired = 5,
    /// Operator kill switch.
    Killed = 6,
    /// A market order reached its protection price.
    ProtectionPrice = 7,
    /// A reduce-only order met a position it can no longer reduce.
    ReduceOnly = 8,
    /// The account is being liquidated.
    Liquidation = 9,
    /// Market maker protection triggered (see `mmp`).
    Mmp = 10,
}

/// Step of a forced liquidation (the market data `LiquidationStage` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LiquidationStage {
    /// An IOC order bounded by the bankruptcy price.
    PartialOrder = 1,
    /// The insurance fund took the rest at the bankruptcy price.
    InsuranceFund = 2,
    /// Closed against an opposite position at the bankruptcy price.
    AutoDeleverage = 3,
}

/// One trade between a resting (maker) and an incoming (taker) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub trade_id: u64,
    pub instrument: InstrumentId,
    pub price: PriceTicks,
    pub qty: QtyLots,
    pub taker_side: Side,
    /// The taker entered as a market order.
    pub taker_market: bool,
    pub taker_tif: TimeInForce,
    /// The taker's limit (or protection) price.
    pub taker_price: PriceTicks,
    pub maker_tif: TimeInForce,
    pub maker_order: OrderId,
    pub maker_cl_ord_id: u64,
    pub maker_account: AccountId,
    /// Open quantity left on the maker order after this fill.
    pub maker_open: QtyLots,
    pub maker_filled: QtyLots,
    pub maker_fee: Units,
    pub taker_order: OrderId,
    pub taker_cl_ord_id: u64,
    pub taker_account: AccountId,
    pub taker_open: QtyLots,
    pub taker_filled: QtyLots,
    pub taker_fee: Units,
}

/// Output of the engine. Copy, fixed-size: emitting one never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The order passed every check (ExecType New). Fills, if any, follow.
    Accepted {
        order: OrderId,
        cl_ord_id: u64,
        account: AccountId,
        instrument: InstrumentId,
        side: Side,
        tif: TimeInForce,
        market: bool,
        price: PriceTicks,
        qty: QtyLots,
    },
    /// The order's remainder now rests in the book (for market data; no execution report).
    Rested {
        order: OrderId,
        instrument: InstrumentId,
        side: Side,
        price: PriceTicks,
        open: QtyLots,
    },
    /// A new order refused: what the order asked for is echoed, as far as it was understood
    /// (a price off the tick or a quantity off the lot cannot be held in ticks or lots).
    Rejected {
        cl_ord_id: u64,
        account: AccountId,
        instrument: InstrumentId,
        side: Side,
        tif: TimeInForce,
        market: bool,
        /// The limit price (none for a market order, or when it did not convert).
        price: Option<PriceTicks>,
        qty: Option<QtyLots>,
        reason: RejectReason,
    },
    Fill(Fill),
    /// The order left the book; `open` is the quantity canceled. `was_resting` tells market
    /// data whether the book changed.
    Canceled {
        order: OrderId,
        cl_ord_id: u64,
        account: AccountId,
        instrument: InstrumentId,
        side: Side,
        price: PriceTicks,
        open: QtyLots,
        filled: QtyLots,
        reason: CancelReason,
        was_resting: bool,
        tif: TimeInForce,
        market: bool,
    },
    /// An amend took effect (ExecType Replaced). With `priority_kept` the order stayed in
    /// place with less quantity; otherwise it left its level and re-entered at `price`.
    Replaced {
        order: OrderId,
        cl_ord_id: u64,
        orig_cl_ord_id: u64,
        account: AccountId,
        instrument: InstrumentId,
        side: Side,
        old_price: PriceTicks,
        old_open: QtyLots,
        price: PriceTicks,
        open: QtyLots,
        filled: QtyLots,
        priority_kept: bool,
        tif: TimeInForce,
    },
    /// A cancel or amend was refused (FIX OrderCancelReject); `order` is how the request
    /// named the order.
    CancelRejected {
        cl_ord_id: u64,
        account: AccountId,
        order: OrderRef,
        reason: RejectReason,
        is_amend: bool,
    },
    /// A mass cancel finished (`rejected: None`, with the count) or was refused.
    MassCancelDone {
        cl_ord_id: u64,
        account: AccountId,
        instrument: Option<InstrumentId>,
        side: Option<Side>,
        canceled: u32,
        rejected: Option<RejectReason>,
    },
    BalanceChanged {
        account: AccountId,
        asset: Asset,
        free: Units,
        held: Units,
    },
    AccountUpdated {
        account: AccountId,
    },
    InstrumentStatus {
        instrument: InstrumentId,
        halted: bool,
    },
    AdminRejected {
        account: AccountId,
        reason: RejectReason,
    },
    /// A perpetual's index was recomputed, or turned stale (`valid: false`).
    IndexPrice {
        instrument: InstrumentId,
        price: PriceTicks,
        constituents: u8,
        valid: bool,
    },
    MarkPrice {
        instrument: InstrumentId,
        price: PriceTicks,
    },
    /// The funding rate so far in the interval (`settled_ns == 0`), or the rate settled at
    /// `settled_ns`.
    FundingRate {
        instrument: InstrumentId,
        rate_ppm: i64,
        next_funding_ns: u64,
        settled_ns: u64,
    },
    /// What one position received (negative: paid) at a funding settlement.
    FundingPayment {
        account: AccountId,
        instrument: InstrumentId,
        qty: i64,
        mark: PriceTicks,
        rate_ppm: i64,
        amount: Units,
    },
    /// One step of a forced liquidation of `account` (public, anonymised, on the feed).
    Liquidation {
        account: AccountId,
        instrument: InstrumentId,
        stage: LiquidationStage,
        /// Side of the liquidated position's closing trade.
        side: Side,
        qty: QtyLots,
        price: PriceTicks,
    },
    /// The liquidation fee charged to `account` (paid into the insurance fund).
    LiquidationFee {
        account: AccountId,
        instrument: InstrumentId,
        fee: Units,
    },
    /// `account`'s position was reduced by auto-deleveraging at `price`.
    AutoDeleveraged {
        account: AccountId,
        instrument: InstrumentId,
        /// Side of this account's closing trade.
        side: Side,
        qty: QtyLots,
        price: PriceTicks,
    },
    /// A perpetual position after a fill: signed lots, signed entry cost, realised PnL.
    PositionChanged {
        account: AccountId,
        instrument: InstrumentId,
        qty: i64,
        cost: Units,
        realised: Units,
    },
    /// A margin account's status changed (call, close-out, or back to normal).
    MarginCall {
        account: AccountId,
        status: MarginStatus,
        loan: Units,
        loanable: Units,
        /// `loanable / loan` in ppm (`i64::MAX` without a loan).
        coverage_ppm: i64,
    },
    /// Interest charged on `account`'s loan (added to the loan).
    InterestCharged {
        account: AccountId,
        amount: Units,
    },
    /// The margin-loan fund covered `amount` of a closed-out loan the collateral could not.
    LoanWrittenOff {
        account: AccountId,
        amount: Units,
    },
    /// The outcome of one entry of a MassQuote (`rejected: None` = accepted).
    QuoteEntryStatus {
        account: AccountId,
        quote_req_id: u64,
        /// Position of the entry in the message.
        index: u8,
        instrument: InstrumentId,
        quote_set: u16,
        quote_id: u32,
        rejected: Option<RejectReason>,
    },
    /// A MassQuote finished (after its entries' statuses), or was refused whole.
    MassQuoteDone {
        account: AccountId,
        quote_req_id: u64,
        entries: u8,
        rejected_entries: u8,
        rejected: Option<RejectReason>,
    },
    /// A QuoteCancel finished (`rejected: None`, with the count of sides) or was refused.
    QuoteCancelDone {
        account: AccountId,
        quote_req_id: u64,
        canceled: u32,
        rejected: Option<RejectReason>,
    },
    /// An MmpConfig took effect or was refused.
    MmpConfigured {
        account: AccountId,
        request_id: u64,
        underlying: Asset,
        limits: MmpLimits,
        rejected: Option<RejectReason>,
    },
    /// Market maker protection triggered: `canceled` MMP orders and quotes were canceled
    /// (their `Canceled` events precede this one) and new ones are refused until
    /// `frozen_until` (`u64::MAX`: until reset). `gross` and `net` are the window's totals in
    /// base units, including the fill that breached.
    MmpTriggered {
        account: AccountId,
        underlying: Asset,
        breach: MmpBreach,
        gross: Units,
        net: Units,
        frozen_until: u64,
        canceled: u32,
    },
    /// An MmpReset took effect or was refused.
    MmpReset {
        account: AccountId,
        request_id: u64,
        underlying: Asset,
        rejected: Option<RejectReason>,
    },
}

/// Where the engine writes its events. Implementations must not block.
pub trait EventSink {
    fn event(&mut self, event: &Event);
}

/// Collects events into a vector (tests, tools). Reserve capacity to keep it allocation-free.
#[derive(Default)]
pub struct VecSink {
    pub events: Vec<Event>,
}

impl EventSink for VecSink {
    #[inline]
    fn event(&mut self, event: &Event) {
        self.events.push(*event);
    }
}

/// Discards events but counts them (benchmarks).
#[derive(Default)]
pub struct CountingSink {
    pub count: u64,
}

impl EventSink for CountingSink {
    #[inline]
    fn event(&mut self, _event: &Event) {
        self.count += 1;
    }
}

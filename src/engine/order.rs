//! Orders as the book holds them, and their attributes with FIX wire codes.

use super::types::{AccountId, InstrumentId, OrderId, PriceTicks, QtyLots, TimeNs, Units};

/// FIX Side (54): 1 Buy, 2 Sell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Side {
    Buy = b'1',
    Sell = b'2',
}

impl Side {
    #[inline]
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    #[inline]
    pub fn index(self) -> usize {
        match self {
            Side::Buy => 0,
            Side::Sell => 1,
        }
    }
}

/// FIX OrdType (40): 1 Market, 2 Limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrdType {
    Market = b'1',
    Limit = b'2',
}

/// FIX TimeInForce (59). `Day` is treated as GTC: the venue trades around the clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TimeInForce {
    Day = b'0',
    Gtc = b'1',
    Ioc = b'3',
    Fok = b'4',
    Gtd = b'6',
}

impl TimeInForce {
    /// IOC and FOK never rest.
    #[inline]
    pub fn rests(self) -> bool {
        !matches!(self, TimeInForce::Ioc | TimeInForce::Fok)
    }
}

/// Self-trade prevention: what happens when an order would trade against an order of the same
/// account or owner group. Self-trades are never allowed; only the resolution is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StpMode {
    #[default]
    CancelResting = 1,
    CancelAggressor = 2,
    CancelBoth = 3,
}

/// Order flags (FIX ExecInst-like bits).
pub mod flags {
    /// Rejected instead of taking liquidity.
    pub const POST_ONLY: u8 = 1;
    /// May only reduce a perpetual position.
    pub const REDUCE_ONLY: u8 = 2;
    /// Covered by market maker protection.
    pub const MMP: u8 = 4;
    /// Internal: entered as a market order (never set by a client).
    pub const MARKET: u8 = 0x40;
    /// Internal: a liquidation order. It pays the liquidation fee instead of the taker fee,
    /// so a fill at the bankruptcy price leaves the account at zero equity, not below.
    pub const LIQUIDATION: u8 = 0x20;
    /// Internal: the order's GTD expiry is queued (never set by a client).
    pub const EXPIRY_SCHEDULED: u8 = 0x80;
    /// The bits a client may set.
    pub const CLIENT_MASK: u8 = POST_ONLY | REDUCE_ONLY | MMP;
}

/// A live order in the pool. Free slots have `id == OrderId(0)`; their other fields are stale.
///
/// Invariants: `0 < open <= total - filled`; a resting order is linked into exactly one level
/// queue (`prev`/`next`) and its account's list (`acc_prev`/`acc_next`).
#[derive(Clone, Copy, Debug)]
pub struct Order {
    pub id: OrderId,
    pub cl_ord_id: u64,
    pub account: AccountId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub tif: TimeInForce,
    pub flags: u8,
    pub stp: StpMode,
    pub owner_group: u32,
    pub price: PriceTicks,
    /// Quantity still open (resting or to be matched).
    pub open: QtyLots,
    pub filled: QtyLots,
    /// Funds held per open lot: quote units for a buy (notional at the limit plus the highest
    /// fee), base units for a sell. Linear in lots, so releases are exact.
    pub hold_per_lot: Units,
    pub expire_ns: TimeNs,
    pub prev: u32,
    pub next: u32,
    pub acc_prev: u32,
    pub acc_next: u32,
}

impl Order {
    /// A free pool slot.
    pub const EMPTY: Order = Order {
        id: OrderId(0),
        cl_ord_id: 0,
        account: AccountId(0),
        instrument: InstrumentId(0),
        side: Side::Buy,
        tif: TimeInForce::Gtc,
        flags: 0,
        stp: StpMode::CancelResting,
        owner_group: 0,
        price: PriceTicks(0),
        open: QtyLots(0),
        filled: QtyLots(0),
        hold_per_lot: Units(0),
        expire_ns: 0,
        prev: u32::MAX,
        next: u32::MAX,
        acc_prev: u32::MAX,
        acc_next: u32::MAX,
    };

    #[inline]
    pub fn total(&self) -> QtyLots {
        self.open + self.filled
    }

    #[inline]
    pub fn is_post_only(&self) -> bool {
        self.flags & flags::POST_ONLY != 0
    }
}

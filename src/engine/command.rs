//! Commands: the decoded, validated-for-shape inputs of the engine. The sequencer builds them
//! from journaled messages; the engine decides everything else.

use super::account::AccountAttrs;
use super::asset::Asset;
use super::mmp::MmpLimits;
use super::order::{OrdType, Side, StpMode, TimeInForce};
pub use super::quote::QuoteCancel;
use super::types::{AccountId, InstrumentId, OrderId, PriceTicks, QtyLots, RatePpm, TimeNs, Units};

/// A new order (FIX NewOrderSingle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    pub account: AccountId,
    pub instrument: InstrumentId,
    /// Client order id; 0 means none (the order can then only be addressed by `OrderId`).
    pub cl_ord_id: u64,
    pub side: Side,
    pub ord_type: OrdType,
    pub tif: TimeInForce,
    /// Limit price; for a market order the protection price, or 0 for the instrument's default.
    pub price: PriceTicks,
    pub qty: QtyLots,
    /// Expiry for GTD orders.
    pub expire_ns: TimeNs,
    /// `order::flags` bits.
    pub flags: u8,
    pub stp: StpMode,
}

/// How a command names an existing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderRef {
    Id(OrderId),
    /// The ClOrdID of a live order of the commanding account.
    ClOrdId(u64),
}

/// FIX OrderCancelRequest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancel {
    pub account: AccountId,
    pub order: OrderRef,
    /// ClOrdID of the cancel request itself, echoed in the reply.
    pub cl_ord_id: u64,
}

/// FIX OrderCancelReplaceRequest: a new total quantity and price. A lower quantity at the same
/// price keeps queue priority; a price change or a higher quantity loses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amend {
    pub account: AccountId,
    pub order: OrderRef,
    /// The order's new ClOrdID (0 keeps the old one).
    pub cl_ord_id: u64,
    /// New total quantity (filled + open).
    pub qty: QtyLots,
    pub price: PriceTicks,
}

/// FIX OrderMassCancelRequest: all open orders of the account, optionally narrowed to one
/// instrument and/or one side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MassCancel {
    pub account: AccountId,
    pub instrument: Option<InstrumentId>,
    pub side: Option<Side>,
    pub cl_ord_id: u64,
}

/// Operator commands; the sequencer only builds these for admin sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminCommand {
    CreateAccount {
        account: AccountId,
        attrs: AccountAttrs,
    },
    SetAccountAttrs {
        account: AccountId,
        attrs: AccountAttrs,
    },
    Deposit {
        account: AccountId,
        asset: Asset,
        amount: Units,
    },
    Withdraw {
        account: AccountId,
        asset: Asset,
        amount: Units,
    },
    Halt {
        instrument: InstrumentId,
    },
    Resume {
        instrument: InstrumentId,
    },
    /// Kill switch: cancel every open order of the account and block new ones.
    KillAccount {
        account: AccountId,
    },
    /// Post the value of one class of securities collateral held for a margin account.
    SetCollateralValue {
        account: AccountId,
        class: u16,
        value: Units,
        haircut_ppm: RatePpm,
    },
    /// Kill switch for an owner group: `KillAccount` for every account of the group.
    KillGroup {
        owner_group: u32,
    },
    /// Lifts a kill switch: the account accepts new orders again (its cancelled orders stay
    /// cancelled).
    UnblockAccount {
        account: AccountId,
    },
    /// `UnblockAccount` for every account of the group.
    UnblockGroup {
        owner_group: u32,
    },
}

/// MmpConfig: an account's market maker protection on one underlying (BTC or ETH).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmpConfig {
    pub account: AccountId,
    /// MmpReqID of the request, echoed in the reply.
    pub request_id: u64,
    pub underlying: Asset,
    pub limits: MmpLimits,
}

/// MmpReset: unfreezes an account's protection on one underlying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmpReset {
    pub account: AccountId,
    /// MmpReqID of the request, echoed in the reply.
    pub request_id: u64,
    pub underlying: Asset,
}

/// Everything that can change engine state (a MassQuote enters by `Engine::apply_mass_quote`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    NewOrder(NewOrder),
    Cancel(Cancel),
    Amend(Amend),
    MassCancel(MassCancel),
    Admin(AdminCommand),
    /// Cancel quote sides (by instrument, quote set or all); see `quote`.
    QuoteCancel(QuoteCancel),
    /// Set an account's market maker protection on one underlying; see `mmp`.
    MmpConfig(MmpConfig),
    /// End an MMP freeze and empty the window.
    MmpReset(MmpReset),
    /// Time passes: fires timers (GTD expiry) due at the stamped time. Journaled like any
    /// command, so replay fires the same timers at the same point.
    Tick,
}

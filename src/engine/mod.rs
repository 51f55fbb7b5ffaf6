//! The deterministic exchange state machine.
//!
//! `Engine::apply(seq, time, command, sink)` is the only way state changes. It performs no I/O,
//! reads no clock, uses no floating point and does not allocate after start-up: every table has a
//! capacity fixed by configuration, and a full table is a reject with a reason.

pub mod account;
mod account_set;
mod admin;
pub mod asset;
pub mod book;
mod cancel;
pub mod cl_ord_ids;
pub mod command;
pub mod digest;
pub mod event;
pub mod hash;
pub mod instrument;
pub mod liquidation;
pub mod margin;
mod matching;
mod memory;
pub mod mmp;
pub mod order;
pub mod order_ids;
pub mod perp;
pub mod quote;
pub mod reject;
pub mod risk;
pub mod snapshot;
pub mod spot;
pub mod state;
pub mod types;

pub use account::{Account, AccountAttrs, Balance, ClientClass};
pub use asset::Asset;
pub use command::{
    AdminCommand, Amend, Cancel, Command, MassCancel, MmpConfig, MmpReset, NewOrder, OrderRef,
};
pub use event::{CancelReason, Event, EventSink, VecSink};
pub use instrument::{InstrumentKind, InstrumentSpec};
pub use mmp::{MmpBreach, MmpLimits};
pub use order::{OrdType, Side, StpMode, TimeInForce};
pub use quote::{MassQuote, QuoteCancel, QuoteEntry};
pub use reject::RejectReason;
pub use state::{Engine, EngineLimits};
pub use types::{AccountId, InstrumentId, OrderId, PriceTicks, QtyLots, RatePpm, Units};

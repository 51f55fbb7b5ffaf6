//! Between the wire and the engine: decoded SBE messages to engine commands (`inbound`), engine
//! events to SBE replies (`outbound`), and position, funding and collateral reports built from
//! engine state (`reports`). Decimal wire values become ticks and lots here, with the engine's
//! instrument rules, so off-tick prices and off-lot quantities get their own rejects.

pub mod inbound;
pub mod outbound;
pub mod quote;
pub mod reports;

pub use inbound::{translate, translate_order, Query, SpecLookup, Translated};
pub use outbound::{command_replies, Reply, ReplyContext};

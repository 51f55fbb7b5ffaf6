//! SBE codecs generated from `schema.xml`, and the runtime pieces they are built from.
//!
//! Decoding is zero-copy: [`decode`] validates a whole message once and returns an [`Inbound`]
//! holding a `…View<'a>` over the caller's bytes; the views' accessors then read fields in place.
//! Encoding writes an owned plain-data struct (`NewOrderSingle`, …) into a caller buffer through
//! [`Encode`], without allocating.

mod encode;
mod error;
mod generated;
mod group;
mod header;
mod var_data;
mod wire;

pub use encode::Encode;
pub use error::{DecodeError, EncodeError};
pub use generated::*;
pub use group::{GroupEntry, GroupIter, GroupVec, GroupView};
pub use header::{MessageHeader, HEADER_LEN};
pub use var_data::VarData;

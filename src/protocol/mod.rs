//! The order-entry wire protocol: SBE 1.0 messages (`schema.xml`), SOFH framing and the FIXP
//! session layer. This is the wire layer only; mapping to engine commands lives elsewhere.

pub mod codec;
pub mod fixp;
pub mod sofh;

pub use codec::{decode, DecodeError, Encode, EncodeError, Inbound, Plain};

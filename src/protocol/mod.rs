//! The order-entry wire protocol: SBE 1.0 messages (`schema.xml`), SOFH framing, the FIXP
//! session layer, and the mapping between wire messages and engine commands and events.

pub mod codec;
pub mod fixp;
pub mod mapping;
pub mod sofh;

pub use codec::{decode, DecodeError, Encode, EncodeError, Inbound, Plain};

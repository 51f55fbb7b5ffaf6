//! Errors of the SBE codecs. Each malformed input class has its own variant so a gateway can
//! log and count them precisely.

use thiserror::Error;

/// Why a byte string is not a valid message of this schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ends before a header, block, group or var-data field it announces.
    #[error("truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the next element needs.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// The header names another schema.
    #[error("schema id {actual} is not ours ({expected})")]
    WrongSchemaId {
        /// Our schema id.
        expected: u16,
        /// Schema id in the header.
        actual: u16,
    },
    /// The header names another version of our schema.
    #[error("schema version {actual} is not supported (expected {expected})")]
    WrongVersion {
        /// Our schema version.
        expected: u16,
        /// Version in the header.
        actual: u16,
    },
    /// No message of the schema has this template id.
    #[error("unknown template id {template_id}")]
    UnknownTemplate {
        /// Template id in the header.
        template_id: u16,
    },
    /// The header's blockLength differs from the template's.
    #[error("template {template_id}: blockLength {actual}, expected {expected}")]
    WrongBlockLength {
        /// Template id in the header.
        template_id: u16,
        /// Block length of the template.
        expected: u16,
        /// Block length in the header.
        actual: u16,
    },
    /// A group's dimension announces a block length other than the entry's.
    #[error("group {group}: entry blockLength {actual}, expected {expected}")]
    WrongGroupBlockLength {
        /// Group name.
        group: &'static str,
        /// Block length of the entry.
        expected: u16,
        /// Block length in the dimension.
        actual: u16,
    },
    /// A group announces more entries than the schema allows.
    #[error("group {group}: {count} entries exceed the maximum {max}")]
    GroupTooLarge {
        /// Group name.
        group: &'static str,
        /// numInGroup on the wire.
        count: usize,
        /// Schema maximum.
        max: usize,
    },
    /// A var-data field is longer than the schema allows.
    #[error("field {field}: {len} bytes exceed the maximum {max}")]
    VarDataTooLong {
        /// Field name.
        field: &'static str,
        /// Length on the wire.
        len: usize,
        /// Schema maximum.
        max: usize,
    },
    /// An enum field holds a value the schema does not list.
    #[error("field {field}: invalid enum value {value}")]
    InvalidEnum {
        /// Field name.
        field: &'static str,
        /// Raw value.
        value: u64,
    },
    /// A set field has a bit the schema does not define.
    #[error("field {field}: undefined bits in {bits:#x}")]
    InvalidSet {
        /// Field name.
        field: &'static str,
        /// Raw bits.
        bits: u64,
    },
    /// Bytes remain after the last element of the message.
    #[error("template {template_id}: {extra} bytes after the end of the message")]
    TrailingBytes {
        /// Template id in the header.
        template_id: u16,
        /// Unconsumed bytes.
        extra: usize,
    },
}

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The output buffer is shorter than the encoded message.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Encoded length of the message.
        needed: usize,
        /// Length of the buffer.
        available: usize,
    },
    /// A var-data value is longer than the schema allows.
    #[error("var data of {len} bytes exceeds the maximum {max}")]
    VarDataTooLong {
        /// Length of the value.
        len: usize,
        /// Schema maximum.
        max: usize,
    },
    /// A repeating group is already at the schema maximum.
    #[error("group full: the schema allows at most {max} entries")]
    GroupFull {
        /// Schema maximum.
        max: usize,
    },
}

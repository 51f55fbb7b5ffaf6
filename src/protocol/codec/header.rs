//! The SBE message header: blockLength, templateId, schemaId, version (4 × u16 LE).

use super::error::DecodeError;
use super::generated::{SCHEMA_ID, SCHEMA_VERSION};
use super::wire;

/// Size of the message header in bytes.
pub const HEADER_LEN: usize = 8;

/// The header preceding every message body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// Length of the root block.
    pub block_length: u16,
    /// Template id of the message.
    pub template_id: u16,
    /// Schema id ([`SCHEMA_ID`] for ours).
    pub schema_id: u16,
    /// Schema version ([`SCHEMA_VERSION`] for ours).
    pub version: u16,
}

impl MessageHeader {
    /// Header of a message of this schema.
    pub fn for_template(template_id: u16, block_length: u16) -> Self {
        MessageHeader {
            block_length,
            template_id,
            schema_id: SCHEMA_ID,
            version: SCHEMA_VERSION,
        }
    }

    /// Reads the header at the start of `bytes` and checks schema id and version.
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] if fewer than [`HEADER_LEN`] bytes;
    /// [`DecodeError::WrongSchemaId`] or [`DecodeError::WrongVersion`] for another schema.
    pub fn read(bytes: &[u8]) -> Result<Self, DecodeError> {
        let b = wire::take(bytes, HEADER_LEN)?;
        let header = MessageHeader {
            block_length: wire::get_u16(b, 0),
            template_id: wire::get_u16(b, 2),
            schema_id: wire::get_u16(b, 4),
            version: wire::get_u16(b, 6),
        };
        if header.schema_id != SCHEMA_ID {
            return Err(DecodeError::WrongSchemaId {
                expected: SCHEMA_ID,
                actual: header.schema_id,
            });
        }
        if header.version != SCHEMA_VERSION {
            return Err(DecodeError::WrongVersion {
                expected: SCHEMA_VERSION,
                actual: header.version,
            });
        }
        Ok(header)
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of `buf`.
    ///
    /// The caller guarantees `buf.len() >= HEADER_LEN` (encoders size-check first).
    pub fn write(&self, buf: &mut [u8]) {
        wire::put_u16(buf, 0, self.block_length);
        wire::put_u16(buf, 2, self.template_id);
        wire::put_u16(buf, 4, self.schema_id);
        wire::put_u16(buf, 6, self.version);
    }

    /// Checks the header's block length against the template's.
    ///
    /// The schema has a single version, so the block length must match exactly; an extended
    /// block from a newer version is refused rather than silently truncated.
    ///
    /// # Errors
    /// [`DecodeError::WrongBlockLength`] if they differ.
    pub fn expect_block_length(&self, expected: u16) -> Result<(), DecodeError> {
        if self.block_length == expected {
            Ok(())
        } else {
            Err(DecodeError::WrongBlockLength {
                template_id: self.template_id,
                expected,
                actual: self.block_length,
            })
        }
    }
}

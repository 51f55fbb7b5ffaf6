//! The encoder interface every owned message implements.

use super::error::EncodeError;

/// An owned message that can be written, with its SBE header, into a caller buffer.
pub trait Encode {
    /// Template id in the message header.
    const TEMPLATE_ID: u16;
    /// Root block length in the message header.
    const BLOCK_LENGTH: u16;
    /// FIX name of the message.
    const NAME: &'static str;

    /// Bytes [`Encode::encode`] will write: header, block, groups and var data.
    fn encoded_len(&self) -> usize;

    /// Writes header and message at the start of `buf`; returns the bytes written.
    /// Never allocates.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] if `buf` is shorter than [`Encode::encoded_len`];
    /// nothing meaningful is written in that case.
    fn encode(&self, buf: &mut [u8]) -> Result<usize, EncodeError>;

    /// The message in a buffer of its own, exactly its length (start-up, tools and tests; the
    /// hot path encodes into buffers it owns).
    fn to_vec(&self) -> Vec<u8> {
        let mut buf = vec![0u8; self.encoded_len()];
        let written = self.encode(&mut buf).expect("buffer sized by encoded_len");
        buf.truncate(written);
        buf
    }
}

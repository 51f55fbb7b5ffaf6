//! Variable-length data (`varStringEncoding`: length u16, then the bytes) and a fixed-capacity
//! owned holder for it.

use std::fmt;

use super::error::{DecodeError, EncodeError};
use super::wire;

/// Size of the length prefix.
pub const LENGTH_LEN: usize = 2;

/// Bytes a var-data field of `len` bytes occupies.
pub fn encoded_len(len: usize) -> usize {
    LENGTH_LEN + len
}

/// Validates the var-data field at the start of `bytes`; returns its content and its length
/// on the wire.
///
/// # Errors
/// [`DecodeError::Truncated`] or [`DecodeError::VarDataTooLong`] (longer than `max`).
pub fn read<'a>(
    bytes: &'a [u8],
    field: &'static str,
    max: usize,
) -> Result<(&'a [u8], usize), DecodeError> {
    let len = usize::from(wire::get_u16(wire::take(bytes, LENGTH_LEN)?, 0));
    if len > max {
        return Err(DecodeError::VarDataTooLong { field, len, max });
    }
    let content = wire::take(wire::rest(bytes, LENGTH_LEN), len)?;
    Ok((content, LENGTH_LEN + len))
}

/// Writes length and content at the start of `buf`; returns the bytes written.
///
/// The caller guarantees `buf` holds [`encoded_len`] bytes and `content` fits a u16 length
/// ([`VarData`] bounds it far below).
pub fn write(buf: &mut [u8], content: &[u8]) -> usize {
    let len = u16::try_from(content.len()).unwrap_or(u16::MAX);
    wire::put_u16(buf, 0, len);
    let end = LENGTH_LEN + usize::from(len);
    buf[LENGTH_LEN..end].copy_from_slice(&content[..usize::from(len)]);
    end
}

/// Up to `N` bytes of var data, stored inline.
#[derive(Clone, Copy)]
pub struct VarData<const N: usize> {
    len: usize,
    bytes: [u8; N],
}

impl<const N: usize> VarData<N> {
    /// A copy of `content`.
    ///
    /// # Errors
    /// [`EncodeError::VarDataTooLong`] if `content` is longer than `N`.
    pub fn new(content: &[u8]) -> Result<Self, EncodeError> {
        if content.len() > N {
            return Err(EncodeError::VarDataTooLong {
                len: content.len(),
                max: N,
            });
        }
        let mut bytes = [0u8; N];
        bytes[..content.len()].copy_from_slice(content);
        Ok(VarData {
            len: content.len(),
            bytes,
        })
    }

    /// A copy of `text`.
    ///
    /// # Errors
    /// [`EncodeError::VarDataTooLong`] if `text` is longer than `N` bytes.
    pub fn from_text(text: &str) -> Result<Self, EncodeError> {
        Self::new(text.as_bytes())
    }

    /// A copy of bytes a decoder already bounded by `N`; longer input is cut at `N`.
    pub(crate) fn from_validated(content: &[u8]) -> Self {
        let len = content.len().min(N);
        let mut bytes = [0u8; N];
        bytes[..len].copy_from_slice(&content[..len]);
        VarData { len, bytes }
    }

    /// The content.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The content as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()).ok()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for VarData<N> {
    fn default() -> Self {
        VarData {
            len: 0,
            bytes: [0u8; N],
        }
    }
}

impl<const N: usize> PartialEq for VarData<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<const N: usize> Eq for VarData<N> {}

impl<const N: usize> fmt::Debug for VarData<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(text) => write!(f, "{text:?}"),
            None => write!(f, "{:?}", self.as_bytes()),
        }
    }
}

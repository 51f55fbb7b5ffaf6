//! Simple Open Framing Header: each message is preceded by a big-endian u32 message length
//! (counting the 6-byte header itself) and a big-endian u16 encoding type, 0xEB50 for SBE 1.0
//! little-endian.

use thiserror::Error;

/// Size of the framing header.
pub const SOFH_LEN: usize = 6;

/// Encoding type of SBE 1.0 little-endian messages.
pub const SBE_LE_ENCODING: u16 = 0xEB50;

/// Why a byte stream is not a valid sequence of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SofhError {
    /// The encoding type is not SBE little-endian.
    #[error("encoding type {found:#06x} is not SBE little-endian (0xEB50)")]
    WrongEncodingType {
        /// Encoding type on the wire.
        found: u16,
    },
    /// The announced length cannot even hold the framing header.
    #[error("frame length {length} is shorter than the {SOFH_LEN}-byte header")]
    LengthTooSmall {
        /// Length on the wire.
        length: u32,
    },
    /// The announced length exceeds the configured maximum.
    #[error("frame length {length} exceeds the maximum {max}")]
    LengthTooLarge {
        /// Length on the wire.
        length: u32,
        /// Configured maximum.
        max: usize,
    },
    /// The input ends inside a frame (only for [`split_frame`], which expects whole frames).
    #[error("truncated frame: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the frame needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// The output buffer cannot hold the framing header and message.
    #[error("buffer too small for a frame: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the frame needs.
        needed: usize,
        /// Buffer length.
        available: usize,
    },
}

/// Reads the header at the start of `bytes`: `Ok(None)` if fewer than [`SOFH_LEN`] bytes,
/// otherwise the total frame length.
///
/// # Errors
/// [`SofhError::WrongEncodingType`], [`SofhError::LengthTooSmall`] or
/// [`SofhError::LengthTooLarge`] (above `max_frame_len`).
pub fn frame_len(bytes: &[u8], max_frame_len: usize) -> Result<Option<usize>, SofhError> {
    let Some(header) = bytes.get(..SOFH_LEN) else {
        return Ok(None);
    };
    let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let encoding = u16::from_be_bytes([header[4], header[5]]);
    if encoding != SBE_LE_ENCODING {
        return Err(SofhError::WrongEncodingType { found: encoding });
    }
    let len = usize::try_from(length).unwrap_or(usize::MAX);
    if len < SOFH_LEN {
        return Err(SofhError::LengthTooSmall { length });
    }
    if len > max_frame_len {
        return Err(SofhError::LengthTooLarge {
            length,
            max: max_frame_len,
        });
    }
    Ok(Some(len))
}

/// Splits one whole frame off the front of `bytes`: returns the SBE message and the rest.
///
/// # Errors
/// Any header error of [`frame_len`], or [`SofhError::Truncated`] if the frame is incomplete.
pub fn split_frame(bytes: &[u8], max_frame_len: usize) -> Result<(&[u8], &[u8]), SofhError> {
    let len = frame_len(bytes, max_frame_len)?.ok_or(SofhError::Truncated {
        needed: SOFH_LEN,
        available: bytes.len(),
    })?;
    if bytes.len() < len {
        return Err(SofhError::Truncated {
            needed: len,
            available: bytes.len(),
        });
    }
    Ok((&bytes[SOFH_LEN..len], &bytes[len..]))
}

/// Writes the framing header for a message of `message_len` bytes at the start of `buf`;
/// the message itself goes at `buf[SOFH_LEN..]`. Returns the total frame length.
///
/// # Errors
/// [`SofhError::BufferTooSmall`] if `buf` cannot hold the whole frame, or
/// [`SofhError::LengthTooLarge`] if the frame length does not fit a u32.
pub fn write_header(buf: &mut [u8], message_len: usize) -> Result<usize, SofhError> {
    let total = message_len + SOFH_LEN;
    let length = u32::try_from(total).map_err(|_| SofhError::LengthTooLarge {
        length: u32::MAX,
        max: u32::MAX as usize,
    })?;
    if buf.len() < total {
        return Err(SofhError::BufferTooSmall {
            needed: total,
            available: buf.len(),
        });
    }
    buf[..4].copy_from_slice(&length.to_be_bytes());
    buf[4..SOFH_LEN].copy_from_slice(&SBE_LE_ENCODING.to_be_bytes());
    Ok(total)
}

/// Streaming splitter over a receive buffer: yields each complete frame's SBE message and
/// stops at the first incomplete one. The caller then drops [`Frames::consumed`] bytes from
/// the front of its buffer and reads more.
///
/// After an error the stream is unusable (framing is lost) and the connection should close.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    buf: &'a [u8],
    pos: usize,
    max_frame_len: usize,
    failed: bool,
}

impl<'a> Frames<'a> {
    /// Splits `buf`, refusing frames longer than `max_frame_len` bytes (header included).
    pub fn new(buf: &'a [u8], max_frame_len: usize) -> Self {
        Frames {
            buf,
            pos: 0,
            max_frame_len,
            failed: false,
        }
    }

    /// Bytes of complete frames returned so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a [u8], SofhError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = &self.buf[self.pos..];
        match frame_len(rest, self.max_frame_len) {
            Ok(Some(len)) if rest.len() >= len => {
                self.pos += len;
                Some(Ok(&rest[SOFH_LEN..len]))
            }
            Ok(_) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(message: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; SOFH_LEN + message.len()];
        let n = write_header(&mut buf, message.len()).expect("buffer sized for the frame");
        buf[SOFH_LEN..n].copy_from_slice(message);
        buf
    }

    #[test]
    fn splitter_yields_whole_frames_and_keeps_the_partial_tail() {
        let mut stream = frame(b"abc");
        stream.extend(frame(b"defgh"));
        let partial = frame(b"ij");
        stream.extend(&partial[..4]);
        let mut frames = Frames::new(&stream, 64);
        assert_eq!(frames.next(), Some(Ok(&b"abc"[..])));
        assert_eq!(frames.next(), Some(Ok(&b"defgh"[..])));
        assert_eq!(frames.next(), None);
        assert_eq!(frames.consumed(), 9 + 11);
    }

    #[test]
    fn header_is_big_endian_with_sbe_encoding() {
        assert_eq!(frame(b"xy"), vec![0, 0, 0, 8, 0xEB, 0x50, b'x', b'y']);
    }

    #[test]
    fn wrong_encoding_type_is_rejected() {
        let bytes = [0, 0, 0, 8, 0x50, 0xEB, 1, 2];
        assert_eq!(
            split_frame(&bytes, 64),
            Err(SofhError::WrongEncodingType { found: 0x50EB })
        );
        let mut frames = Frames::new(&bytes, 64);
        assert!(matches!(
            frames.next(),
            Some(Err(SofhError::WrongEncodingType { .. }))
        ));
        assert_eq!(frames.next(), None);
    }

    #[test]
    fn length_shorter_than_header_is_rejected() {
        let bytes = [0, 0, 0, 5, 0xEB, 0x50];
        assert_eq!(
            split_frame(&bytes, 64),
            Err(SofhError::LengthTooSmall { length: 5 })
        );
    }

    #[test]
    fn length_above_maximum_is_rejected() {
        let bytes = [0, 0, 1, 0, 0xEB, 0x50];
        assert_eq!(
            split_frame(&bytes, 64),
            Err(SofhError::LengthTooLarge {
                length: 256,
                max: 64
            })
        );
    }

    #[test]
    fn truncated_frame_is_reported_by_split_frame() {
        let bytes = frame(b"abcdef");
        assert_eq!(
            split_frame(&bytes[..8], 64),
            Err(SofhError::Truncated {
                needed: 12,
                available: 8
            })
        );
        assert_eq!(
            split_frame(&bytes[..3], 64),
            Err(SofhError::Truncated {
                needed: SOFH_LEN,
                available: 3
            })
        );
    }
}

//! The MDP 3.0 binary packet: header (MsgSeqNum u32, SendingTime u64), then messages each
//! prefixed by MsgSize u16 (the message's length including those two bytes).

use super::codec::{self, Encode, Inbound};
use super::error::PacketError;

/// Bytes of the packet header.
pub const PACKET_HEADER_LEN: usize = 12;
/// Bytes of the MsgSize prefix of each message.
pub const MSG_SIZE_LEN: usize = 2;

/// The packet header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketHeader {
    /// Per-channel packet sequence number; 0 only on the recovery service's control packets.
    pub msg_seq_num: u32,
    /// Nanoseconds since the Unix epoch when the packet was closed.
    pub sending_time_ns: u64,
}

impl PacketHeader {
    /// Reads the header at the start of a packet.
    ///
    /// # Errors
    /// [`PacketError::Truncated`] if the packet is shorter than the header.
    pub fn read(bytes: &[u8]) -> Result<PacketHeader, PacketError> {
        let header = bytes
            .get(..PACKET_HEADER_LEN)
            .ok_or(PacketError::Truncated { len: bytes.len() })?;
        let mut seq = [0u8; 4];
        seq.copy_from_slice(&header[..4]);
        let mut time = [0u8; 8];
        time.copy_from_slice(&header[4..]);
        Ok(PacketHeader {
            msg_seq_num: u32::from_le_bytes(seq),
            sending_time_ns: u64::from_le_bytes(time),
        })
    }

    fn write(&self, buf: &mut [u8]) {
        buf[..4].copy_from_slice(&self.msg_seq_num.to_le_bytes());
        buf[4..PACKET_HEADER_LEN].copy_from_slice(&self.sending_time_ns.to_le_bytes());
    }
}

/// Builds one packet in place: a fixed buffer allocated once, reused for every packet.
pub struct PacketBuilder {
    buf: Box<[u8]>,
    len: usize,
    messages: u16,
}

impl PacketBuilder {
    /// A builder of packets of at most `bytes_max` bytes.
    pub fn new(bytes_max: usize) -> PacketBuilder {
        debug_assert!(bytes_max > PACKET_HEADER_LEN + MSG_SIZE_LEN);
        PacketBuilder {
            buf: vec![0u8; bytes_max].into_boxed_slice(),
            len: 0,
            messages: 0,
        }
    }

    /// Starts a packet (the sending time is written when it is closed).
    pub fn start(&mut self, msg_seq_num: u32) {
        PacketHeader {
            msg_seq_num,
            sending_time_ns: 0,
        }
        .write(&mut self.buf);
        self.len = PACKET_HEADER_LEN;
        self.messages = 0;
    }

    /// Whether a packet is started.
    pub fn is_started(&self) -> bool {
        self.len != 0
    }

    /// Messages in the packet.
    pub fn messages(&self) -> u16 {
        self.messages
    }

    /// Whether a message of `encoded_len` bytes (SBE header included) fits.
    #[inline]
    pub fn fits(&self, encoded_len: usize) -> bool {
        self.len + MSG_SIZE_LEN + encoded_len <= self.buf.len()
    }

    /// Appends `message`; returns the offset of its SBE header in the packet, or `None` (and
    /// nothing written) when it does not fit.
    #[inline]
    pub fn push<M: Encode>(&mut self, message: &M) -> Option<usize> {
        debug_assert!(self.is_started());
        let start = self.len;
        let body = start + MSG_SIZE_LEN;
        let written = message.encode(self.buf.get_mut(body..)?).ok()?;
        let size = u16::try_from(MSG_SIZE_LEN + written).ok()?;
        self.buf[start..body].copy_from_slice(&size.to_le_bytes());
        self.len = body + written;
        self.messages += 1;
        Some(body)
    }

    /// Sets bits in the byte at `offset` of the packet (a MatchEventIndicator).
    pub fn set_bits(&mut self, offset: usize, bits: u8) {
        if offset < self.len {
            self.buf[offset] |= bits;
        }
    }

    /// Stamps the sending time and returns the finished packet; the builder is then empty.
    pub fn close(&mut self, sending_time_ns: u64) -> &[u8] {
        self.buf[4..PACKET_HEADER_LEN].copy_from_slice(&sending_time_ns.to_le_bytes());
        let len = self.len;
        self.len = 0;
        &self.buf[..len]
    }
}

/// Iterates the messages of a packet, decoding each.
pub struct Messages<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// The messages of `packet` (whose header [`PacketHeader::read`] reads).
pub fn messages(packet: &[u8]) -> Messages<'_> {
    Messages {
        bytes: packet,
        pos: PACKET_HEADER_LEN.min(packet.len()),
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Inbound<'a>, PacketError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.bytes.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let Some(size) = rest.get(..MSG_SIZE_LEN) else {
            self.pos = self.bytes.len();
            return Some(Err(PacketError::Truncated {
                len: self.bytes.len(),
            }));
        };
        let size = usize::from(u16::from_le_bytes([size[0], size[1]]));
        let Some(message) = rest.get(MSG_SIZE_LEN..size).filter(|_| size > MSG_SIZE_LEN) else {
            self.pos = self.bytes.len();
            return Some(Err(PacketError::BadMsgSize { at: self.pos, size }));
        };
        self.pos += size;
        Some(codec::decode(message).map_err(PacketError::Decode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marketdata::codec::{RecoveryRequest, SecurityStatus};

    #[test]
    fn messages_round_trip_with_sizes_that_include_the_prefix() {
        let mut builder = PacketBuilder::new(256);
        builder.start(7);
        let request = RecoveryRequest {
            request_id: 1,
            begin_seq_no: 2,
            end_seq_no: 3,
        };
        let at = builder.push(&request).unwrap();
        assert_eq!(at, PACKET_HEADER_LEN + MSG_SIZE_LEN);
        builder.push(&SecurityStatus::default()).unwrap();
        let packet = builder.close(99).to_vec();
        let size = u16::from_le_bytes([packet[12], packet[13]]) as usize;
        assert_eq!(size, MSG_SIZE_LEN + request.encoded_len());
        let header = PacketHeader::read(&packet).unwrap();
        assert_eq!((header.msg_seq_num, header.sending_time_ns), (7, 99));
        let decoded: Vec<_> = messages(&packet).map(|m| m.unwrap().to_plain()).collect();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0], codec::Plain::RecoveryRequest(request));
    }

    #[test]
    fn a_message_that_does_not_fit_is_refused_whole() {
        let mut builder = PacketBuilder::new(PACKET_HEADER_LEN + 20);
        builder.start(1);
        assert!(builder.push(&SecurityStatus::default()).is_none());
        assert_eq!(builder.messages(), 0);
    }

    #[test]
    fn a_bad_size_ends_iteration_with_an_error() {
        let mut packet = vec![0u8; PACKET_HEADER_LEN];
        packet.extend_from_slice(&[1, 0, 0]);
        let items: Vec<_> = messages(&packet).collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_err());
    }
}

//! A minimal pcap writer: captures UDP payloads as Ethernet/IPv4/UDP frames between loopback
//! addresses, so packet tools (Wireshark, dpkt, sbedecoder's MDP scripts) can read them.

use std::io::{self, Write};
use std::net::Ipv4Addr;

const ETHERNET_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const UDP_LEN: usize = 8;
/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u32 = 1;

/// Writes the pcap global header (microsecond timestamps, Ethernet frames).
///
/// # Errors
/// The writer fails.
pub fn write_header(out: &mut impl Write) -> io::Result<()> {
    out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    out.write_all(&2u16.to_le_bytes())?;
    out.write_all(&4u16.to_le_bytes())?;
    out.write_all(&0i32.to_le_bytes())?;
    out.write_all(&0u32.to_le_bytes())?;
    out.write_all(&65_535u32.to_le_bytes())?;
    out.write_all(&LINKTYPE_ETHERNET.to_le_bytes())
}

/// One UDP datagram between two IPv4 endpoints.
#[derive(Clone, Copy, Debug)]
pub struct Datagram<'a> {
    pub time_ns: u64,
    pub src: (Ipv4Addr, u16),
    pub dst: (Ipv4Addr, u16),
    pub payload: &'a [u8],
}

/// Writes one record: Ethernet, IPv4 (with its header checksum), UDP (checksum 0: unused).
///
/// # Errors
/// The writer fails, or the payload does not fit a UDP datagram.
pub fn write_datagram(out: &mut impl Write, datagram: &Datagram<'_>) -> io::Result<()> {
    let udp_len = u16::try_from(UDP_LEN + datagram.payload.len())
        .map_err(|_| io::Error::other("payload too long for UDP"))?;
    let ip_len = udp_len + IPV4_LEN as u16;
    let frame_len = ETHERNET_LEN as u32 + u32::from(ip_len);
    let secs = (datagram.time_ns / 1_000_000_000) as u32;
    let micros = (datagram.time_ns % 1_000_000_000 / 1_000) as u32;
    for field in [secs, micros, frame_len, frame_len] {
        out.write_all(&field.to_le_bytes())?;
    }
    // Ethernet: locally administered MACs, IPv4.
    out.write_all(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00])?;
    let mut ip = [0u8; IPV4_LEN];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 1; // TTL as seen on loopback after one hop (the sender sets 0 for multicast)
    ip[9] = 17; // UDP
    ip[12..16].copy_from_slice(&datagram.src.0.octets());
    ip[16..20].copy_from_slice(&datagram.dst.0.octets());
    let checksum = ipv4_checksum(&ip);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    out.write_all(&ip)?;
    out.write_all(&datagram.src.1.to_be_bytes())?;
    out.write_all(&datagram.dst.1.to_be_bytes())?;
    out.write_all(&udp_len.to_be_bytes())?;
    out.write_all(&0u16.to_be_bytes())?;
    out.write_all(datagram.payload)
}

/// The one's-complement sum of the header's 16-bit words, complemented (RFC 791).
fn ipv4_checksum(header: &[u8; IPV4_LEN]) -> u16 {
    let mut sum: u32 = header
        .chunks_exact(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_with_its_checksum_sums_to_all_ones() {
        let mut ip = [0u8; IPV4_LEN];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&100u16.to_be_bytes());
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[127, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[127, 0, 0, 1]);
        let checksum = ipv4_checksum(&ip);
        ip[10..12].copy_from_slice(&checksum.to_be_bytes());
        assert_eq!(ipv4_checksum(&ip), 0);
    }

    #[test]
    fn a_record_is_header_plus_frame() {
        let mut out = Vec::new();
        let datagram = Datagram {
            time_ns: 1_500_000_000,
            src: (Ipv4Addr::LOCALHOST, 1),
            dst: (Ipv4Addr::LOCALHOST, 2),
            payload: b"abc",
        };
        write_datagram(&mut out, &datagram).unwrap();
        assert_eq!(out.len(), 16 + 14 + 20 + 8 + 3);
        assert_eq!(&out[4..8], &500_000u32.to_le_bytes());
    }
}

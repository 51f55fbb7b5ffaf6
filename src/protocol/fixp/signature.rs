//! HMAC-SHA256 request signatures.
//!
//! Canonical forms (decimal integers without padding or sign, fields separated by one LF):
//! - Negotiate: `RequestTimestamp "\n" UUID "\n" SessionID`
//! - Establish: `RequestTimestamp "\n" UUID "\n" SessionID "\n" NextSeqNo "\n" KeepaliveInterval`
//!
//! The key is the session secret as UTF-8 bytes; the signature is the 32 raw digest bytes.
//! SessionID is the name without its NUL padding. Nothing is allocated.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// A raw HMAC-SHA256 digest.
pub type Signature = [u8; 32];

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC hashes keys longer than the block and pads shorter ones: any length is valid.
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    }
}

/// Decimal digits of `value` in `buf`.
fn decimal(value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut pos = buf.len();
    let mut rest = value;
    loop {
        pos -= 1;
        // rest % 10 < 10, so the cast cannot truncate.
        buf[pos] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            return &buf[pos..];
        }
    }
}

fn update_fields(mac: &mut HmacSha256, timestamp_ns: u64, uuid: u64, session_id: &str) {
    let mut digits = [0u8; 20];
    mac.update(decimal(timestamp_ns, &mut digits));
    mac.update(b"\n");
    mac.update(decimal(uuid, &mut digits));
    mac.update(b"\n");
    mac.update(session_id.as_bytes());
}

/// Signature of a Negotiate.
pub fn negotiate_signature(
    secret: &[u8],
    timestamp_ns: u64,
    uuid: u64,
    session_id: &str,
) -> Signature {
    let mut mac = mac(secret);
    update_fields(&mut mac, timestamp_ns, uuid, session_id);
    mac.finalize().into_bytes().into()
}

/// Signature of an Establish.
pub fn establish_signature(
    secret: &[u8],
    timestamp_ns: u64,
    uuid: u64,
    session_id: &str,
    next_seq_no: u32,
    keepalive_interval_ms: u32,
) -> Signature {
    let mut mac = mac(secret);
    update_fields(&mut mac, timestamp_ns, uuid, session_id);
    let mut digits = [0u8; 20];
    mac.update(b"\n");
    mac.update(decimal(u64::from(next_seq_no), &mut digits));
    mac.update(b"\n");
    mac.update(decimal(u64::from(keepalive_interval_ms), &mut digits));
    mac.finalize().into_bytes().into()
}

/// Compares two signatures in constant time.
pub fn verify(expected: &Signature, received: &Signature) -> bool {
    let diff = expected
        .iter()
        .zip(received)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_formats_edge_values() {
        let mut buf = [0u8; 20];
        assert_eq!(decimal(0, &mut buf), b"0");
        assert_eq!(decimal(u64::MAX, &mut buf), b"18446744073709551615");
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = mac(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        let digest: Signature = mac.finalize().into_bytes().into();
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn verify_detects_a_single_bit_flip() {
        let a = negotiate_signature(b"k", 1, 2, "MM1");
        let mut b = a;
        assert!(verify(&a, &b));
        b[31] ^= 1;
        assert!(!verify(&a, &b));
    }
}

//! The record checksum: CRC32C over a record's header bytes 8..40, then its payload.
//!
//! The writer hashes the values it stores (header words from registers, payload from the
//! caller's buffer) instead of reading the record back from the mapping, so the checksum does
//! not wait on those stores. On x86-64 with SSE4.2 it uses the `crc32` instruction directly:
//! the `crc32c` crate's entry point is a call that first splits its input into aligned parts,
//! which for a 100-byte record cost about as much as the hashing. Elsewhere it calls the crate.
//! Both give `crc32c::crc32c` of the same bytes (tested below).

/// The header bytes covered by the checksum (offsets 8..40), as little-endian words.
pub(crate) const CHECKED_HEADER_WORDS: usize = 4;

/// CRC32C of the little-endian bytes of `header` followed by `payload`.
#[inline]
pub(crate) fn record_crc(header: &[u64; CHECKED_HEADER_WORDS], payload: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sse4.2") {
        // SAFETY: the CPU supports SSE4.2 (checked just above), the only feature the function
        // is compiled for.
        return unsafe { record_crc_sse42(header, payload) };
    }
    record_crc_portable(header, payload)
}

fn record_crc_portable(header: &[u64; CHECKED_HEADER_WORDS], payload: &[u8]) -> u32 {
    let mut bytes = [0u8; 8 * CHECKED_HEADER_WORDS];
    for (slot, word) in bytes.as_chunks_mut::<8>().0.iter_mut().zip(header) {
        *slot = word.to_le_bytes();
    }
    crc32c::crc32c_append(crc32c::crc32c(&bytes), payload)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
fn record_crc_sse42(header: &[u64; CHECKED_HEADER_WORDS], payload: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};

    // CRC32C starts from all ones and inverts the result, as `crc32c::crc32c` does. The
    // instruction reads its 8-byte operand as little-endian, the byte order of the record.
    let mut crc = u64::from(u32::MAX);
    for &word in header {
        crc = _mm_crc32_u64(crc, word);
    }
    let (words, tail) = payload.as_chunks::<8>();
    for word in words {
        crc = _mm_crc32_u64(crc, u64::from_le_bytes(*word));
    }
    // The instruction leaves the CRC in the low 32 bits and zeroes the high ones.
    let mut crc = crc as u32;
    for &byte in tail {
        crc = _mm_crc32_u8(crc, byte);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: [u64; CHECKED_HEADER_WORDS] = [
        0x0102_0304_0506_0708,
        0x1112_1314_1516_1718,
        0x2122_2324_2526_2728,
        0,
    ];

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn header_then(payload: &[u8]) -> Vec<u8> {
        let mut joined: Vec<u8> = HEADER.iter().flat_map(|w| w.to_le_bytes()).collect();
        joined.extend_from_slice(payload);
        joined
    }

    #[test]
    fn record_crc_is_crc32c_of_header_bytes_then_payload_for_every_tail_length() {
        for len in 0..=200 {
            let payload = bytes(len, 11);
            assert_eq!(
                record_crc(&HEADER, &payload),
                crc32c::crc32c(&header_then(&payload)),
                "payload of {len} bytes"
            );
        }
    }

    #[test]
    fn portable_and_dispatched_paths_agree() {
        for len in [0, 1, 7, 8, 63, 64, 65, 1000] {
            let payload = bytes(len, 5);
            assert_eq!(
                record_crc(&HEADER, &payload),
                record_crc_portable(&HEADER, &payload),
                "payload of {len} bytes"
            );
        }
    }

    #[test]
    fn record_crc_of_unaligned_payload_is_crc32c() {
        let buf = bytes(100, 5);
        for start in 1..8 {
            let payload = &buf[start..start + 64];
            assert_eq!(
                record_crc(&HEADER, payload),
                crc32c::crc32c(&header_then(payload))
            );
        }
    }
}

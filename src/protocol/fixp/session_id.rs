//! SessionID on the wire: `char[16]`, ASCII, padded with NUL bytes.

use super::error::FixpError;

/// Size of the SessionID field.
pub const SESSION_ID_LEN: usize = 16;

/// The wire form of a session name.
///
/// # Errors
/// [`FixpError::InvalidSessionId`] if `name` is empty, longer than 16 bytes or contains a byte
/// that is not printable ASCII.
pub fn session_id_bytes(name: &str) -> Result<[u8; SESSION_ID_LEN], FixpError> {
    let bytes = name.as_bytes();
    let invalid = FixpError::InvalidSessionId {
        len: bytes.len(),
        max: SESSION_ID_LEN,
    };
    if bytes.is_empty() || bytes.len() > SESSION_ID_LEN || !bytes.iter().all(u8::is_ascii_graphic) {
        return Err(invalid);
    }
    let mut out = [0u8; SESSION_ID_LEN];
    out[..bytes.len()].copy_from_slice(bytes);
    Ok(out)
}

/// The session name in a wire SessionID: the bytes before the NUL padding.
///
/// # Errors
/// [`FixpError::InvalidSessionId`] if it is empty, not printable ASCII, or has a non-NUL byte
/// after the padding starts.
pub fn session_id_str(wire: &[u8; SESSION_ID_LEN]) -> Result<&str, FixpError> {
    let len = wire.iter().position(|&b| b == 0).unwrap_or(SESSION_ID_LEN);
    let (name, padding) = wire.split_at(len);
    let invalid = FixpError::InvalidSessionId {
        len,
        max: SESSION_ID_LEN,
    };
    if name.is_empty() || !name.iter().all(u8::is_ascii_graphic) || padding.iter().any(|&b| b != 0)
    {
        return Err(invalid);
    }
    std::str::from_utf8(name).map_err(|_| invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_round_trips_through_nul_padding() {
        let wire = session_id_bytes("MM1").expect("valid name");
        assert_eq!(&wire[..4], b"MM1\0");
        assert_eq!(session_id_str(&wire), Ok("MM1"));
    }

    #[test]
    fn session_id_rejects_bad_names() {
        assert!(session_id_bytes("").is_err());
        assert!(session_id_bytes("A234567890123456X").is_err());
        assert!(session_id_bytes("has space").is_err());
        let mut wire = session_id_bytes("MM1").expect("valid name");
        wire[5] = b'x';
        assert!(session_id_str(&wire).is_err());
        assert!(session_id_str(&[0u8; SESSION_ID_LEN]).is_err());
    }
}

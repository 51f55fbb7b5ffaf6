//! Little-endian reads and writes at fixed offsets of a block.
//!
//! Callers pass blocks whose length the generated code has already checked against the
//! schema's layout, so the slicing here cannot go out of bounds for generated offsets.

use super::error::DecodeError;

/// The first `n` bytes of `bytes`.
///
/// # Errors
/// [`DecodeError::Truncated`] if `bytes` is shorter than `n`.
pub fn take(bytes: &[u8], n: usize) -> Result<&[u8], DecodeError> {
    bytes.get(..n).ok_or(DecodeError::Truncated {
        needed: n,
        available: bytes.len(),
    })
}

/// The bytes after `pos`, empty if `pos` is past the end.
pub fn rest(bytes: &[u8], pos: usize) -> &[u8] {
    bytes.get(pos..).unwrap_or_default()
}

/// `W` bytes at `off`.
pub fn get_array<const W: usize>(b: &[u8], off: usize) -> [u8; W] {
    let mut out = [0u8; W];
    out.copy_from_slice(&b[off..off + W]);
    out
}

/// Writes `value` at `off`.
pub fn put_array<const W: usize>(b: &mut [u8], off: usize, value: &[u8; W]) {
    b[off..off + W].copy_from_slice(value);
}

// The generated code uses the subset of these the schema needs (no i8/i16 field today).
macro_rules! int_access {
    ($($get:ident, $put:ident, $t:ty;)*) => {$(
        #[allow(dead_code)]
        #[doc = concat!("Reads a little-endian `", stringify!($t), "` at `off`.")]
        pub fn $get(b: &[u8], off: usize) -> $t {
            <$t>::from_le_bytes(get_array(b, off))
        }

        #[allow(dead_code)]
        #[doc = concat!("Writes a little-endian `", stringify!($t), "` at `off`.")]
        pub fn $put(b: &mut [u8], off: usize, value: $t) {
            put_array(b, off, &value.to_le_bytes());
        }
    )*};
}

int_access! {
    get_u8, put_u8, u8;
    get_i8, put_i8, i8;
    get_u16, put_u16, u16;
    get_i16, put_i16, i16;
    get_u32, put_u32, u32;
    get_i32, put_i32, i32;
    get_u64, put_u64, u64;
    get_i64, put_i64, i64;
}

/// `None` if `raw` is the SBE null value of an optional field.
pub fn opt<T: PartialEq>(raw: T, null: T) -> Option<T> {
    if raw == null {
        None
    } else {
        Some(raw)
    }
}

/// Unwraps an enum or set value that the view's `wrap` already validated.
///
/// Views are only built by `wrap`, which rejects invalid values, and they borrow their bytes
/// immutably, so the value cannot have changed since: the `None` arm is unreachable.
pub fn validated<T>(value: Option<T>, field: &'static str) -> T {
    match value {
        Some(v) => v,
        None => unreachable!("field {field} was validated when the view was wrapped"),
    }
}

/// [`validated`] for an optional enum: `None` when `raw` is the null value.
pub fn validated_opt<R: PartialEq, T>(
    raw: R,
    null: R,
    from_wire: fn(R) -> Option<T>,
    field: &'static str,
) -> Option<T> {
    if raw == null {
        None
    } else {
        Some(validated(from_wire(raw), field))
    }
}

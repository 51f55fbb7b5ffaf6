//! Decimal text ⇄ wire mantissa. Prices, quantities and amounts travel as an i64 mantissa with
//! the schema's constant exponent −8 (`1.5` = `150000000`); conversion here is exact or fails.

use std::str::FromStr;

use rust_decimal::Decimal;
use thiserror::Error;

/// Decimal places the wire carries (exponent −8).
pub const WIRE_SCALE: u32 = 8;

/// Why a decimal text is not a wire value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecimalError {
    /// Not a decimal number.
    #[error("{field} {text:?} is not a decimal number")]
    NotANumber {
        /// What the value is (`price`, `qty`, …).
        field: &'static str,
        /// The text given.
        text: String,
    },
    /// More than 8 significant decimal places: the wire cannot carry it exactly.
    #[error("{field} {text:?} has {places} decimal places; the wire carries at most 8")]
    TooPrecise {
        /// What the value is.
        field: &'static str,
        /// The text given.
        text: String,
        /// Decimal places after dropping trailing zeros.
        places: u32,
    },
    /// The mantissa does not fit an i64.
    #[error("{field} {text:?} is too large for the wire (|value| × 1e8 must fit in i64)")]
    OutOfRange {
        /// What the value is.
        field: &'static str,
        /// The text given.
        text: String,
    },
    /// Zero or negative where only a positive value makes sense.
    #[error("{field} {text:?} must be greater than zero")]
    NotPositive {
        /// What the value is.
        field: &'static str,
        /// The text given.
        text: String,
    },
    /// Negative where the value cannot be negative.
    #[error("{field} {text:?} must not be negative")]
    Negative {
        /// What the value is.
        field: &'static str,
        /// The text given.
        text: String,
    },
}

/// Converts decimal text to the wire mantissa (value × 10^8), exactly.
///
/// Trailing zeros do not count as places (`"1.500000000"` is `1.5`).
///
/// # Errors
/// [`DecimalError::NotANumber`], [`DecimalError::TooPrecise`] (more than 8 places) or
/// [`DecimalError::OutOfRange`].
pub fn to_mantissa(field: &'static str, text: &str) -> Result<i64, DecimalError> {
    let value = Decimal::from_str(text.trim())
        .map_err(|_| DecimalError::NotANumber {
            field,
            text: text.to_owned(),
        })?
        .normalize();
    let places = value.scale();
    if places > WIRE_SCALE {
        return Err(DecimalError::TooPrecise {
            field,
            text: text.to_owned(),
            places,
        });
    }
    // value = m × 10^-places, so value × 10^8 = m × 10^(8 - places), an integer.
    let factor = 10i128.pow(WIRE_SCALE - places);
    value
        .mantissa()
        .checked_mul(factor)
        .and_then(|m| i64::try_from(m).ok())
        .ok_or_else(|| DecimalError::OutOfRange {
            field,
            text: text.to_owned(),
        })
}

/// [`to_mantissa`] for a value that must be greater than zero (prices, quantities).
///
/// # Errors
/// As [`to_mantissa`], plus [`DecimalError::NotPositive`].
pub fn positive_mantissa(field: &'static str, text: &str) -> Result<i64, DecimalError> {
    let mantissa = to_mantissa(field, text)?;
    if mantissa <= 0 {
        return Err(DecimalError::NotPositive {
            field,
            text: text.to_owned(),
        });
    }
    Ok(mantissa)
}

/// [`to_mantissa`] for a value that may be zero but not negative (limits, valuations).
///
/// # Errors
/// As [`to_mantissa`], plus [`DecimalError::Negative`].
pub fn non_negative_mantissa(field: &'static str, text: &str) -> Result<i64, DecimalError> {
    let mantissa = to_mantissa(field, text)?;
    if mantissa < 0 {
        return Err(DecimalError::Negative {
            field,
            text: text.to_owned(),
        });
    }
    Ok(mantissa)
}

/// Renders a wire mantissa as the shortest exact decimal text (`10000050000000` → `"100000.5"`).
pub fn from_mantissa(mantissa: i64) -> String {
    Decimal::new(mantissa, WIRE_SCALE).normalize().to_string()
}

/// Decimal places of a funding rate on the wire (exponent −9, parts per billion).
pub const RATE_SCALE: u32 = 9;

/// Renders a rate mantissa (exponent −9) as the shortest exact decimal text
/// (`100000` → `"0.0001"`).
pub fn from_rate_mantissa(mantissa: i64) -> String {
    Decimal::new(mantissa, RATE_SCALE).normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_render_with_nine_places() {
        assert_eq!(from_rate_mantissa(100_000), "0.0001");
        assert_eq!(from_rate_mantissa(-7_500_000), "-0.0075");
        assert_eq!(from_rate_mantissa(0), "0");
    }

    #[test]
    fn cent_is_one_million_units() {
        assert_eq!(to_mantissa("price", "0.01"), Ok(1_000_000));
    }

    #[test]
    fn whole_and_fractional_values_convert_exactly() {
        assert_eq!(to_mantissa("qty", "1"), Ok(100_000_000));
        assert_eq!(to_mantissa("qty", "1.5"), Ok(150_000_000));
        assert_eq!(to_mantissa("price", "100000.5"), Ok(10_000_050_000_000));
        assert_eq!(to_mantissa("qty", "0.00000001"), Ok(1));
        assert_eq!(to_mantissa("qty", "-2.25"), Ok(-225_000_000));
    }

    #[test]
    fn trailing_zeros_beyond_eight_places_are_not_precision() {
        assert_eq!(to_mantissa("qty", "1.5000000000"), Ok(150_000_000));
    }

    #[test]
    fn nine_places_are_refused() {
        assert_eq!(
            to_mantissa("qty", "0.000000001"),
            Err(DecimalError::TooPrecise {
                field: "qty",
                text: "0.000000001".into(),
                places: 9
            })
        );
    }

    #[test]
    fn garbage_is_not_a_number() {
        for text in ["", "abc", "1.2.3", "1,5", "0x10"] {
            assert!(
                matches!(
                    to_mantissa("price", text),
                    Err(DecimalError::NotANumber { .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn values_beyond_i64_mantissa_are_out_of_range() {
        // i64::MAX / 1e8 ≈ 92 233 720 368.5
        assert_eq!(
            to_mantissa("qty", "92233720368"),
            Ok(9_223_372_036_800_000_000)
        );
        assert!(matches!(
            to_mantissa("qty", "92233720369"),
            Err(DecimalError::OutOfRange { .. })
        ));
    }

    #[test]
    fn positive_and_non_negative_guards() {
        assert!(matches!(
            positive_mantissa("qty", "0"),
            Err(DecimalError::NotPositive { .. })
        ));
        assert!(matches!(
            positive_mantissa("qty", "-1"),
            Err(DecimalError::NotPositive { .. })
        ));
        assert_eq!(non_negative_mantissa("value", "0"), Ok(0));
        assert!(matches!(
            non_negative_mantissa("value", "-0.1"),
            Err(DecimalError::Negative { .. })
        ));
    }

    #[test]
    fn rendering_is_shortest_exact_text() {
        assert_eq!(from_mantissa(10_000_050_000_000), "100000.5");
        assert_eq!(from_mantissa(100_000_000), "1");
        assert_eq!(from_mantissa(0), "0");
        assert_eq!(from_mantissa(1), "0.00000001");
        assert_eq!(from_mantissa(-150_000_000), "-1.5");
    }

    #[test]
    fn render_then_parse_round_trips() {
        for m in [0, 1, 7, 150_000_000, -3, i64::MAX, i64::MIN + 1] {
            assert_eq!(to_mantissa("x", &from_mantissa(m)), Ok(m), "{m}");
        }
    }
}

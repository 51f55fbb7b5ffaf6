//! Decimal text at the edges (config, admin input) to the engine's fixed-point units.

use rust_decimal::Decimal;

use crate::engine::types::UNITS_PER_WHOLE;

/// A decimal that does not convert exactly to 1e-8 units.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecimalError {
    #[error("{field}: {value} has more than 8 decimal places")]
    TooPrecise { field: String, value: Decimal },
    #[error("{field}: {value} is out of range")]
    OutOfRange { field: String, value: Decimal },
}

/// `value × 1e8` as an integer; refuses anything that would need rounding.
///
/// # Errors
/// `TooPrecise` for more than 8 decimals, `OutOfRange` beyond i64.
pub fn decimal_to_units(field: &str, value: Decimal) -> Result<i64, DecimalError> {
    let scaled = value * Decimal::from(UNITS_PER_WHOLE);
    if !scaled.fract().is_zero() {
        return Err(DecimalError::TooPrecise {
            field: field.to_string(),
            value,
        });
    }
    i64::try_from(scaled).map_err(|_| DecimalError::OutOfRange {
        field: field.to_string(),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn converts_exact_decimals_and_refuses_rounding() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(decimal_to_units("x", d("0.1")), Ok(10_000_000));
        assert_eq!(decimal_to_units("x", d("100000")), Ok(10_000_000_000_000));
        assert!(matches!(
            decimal_to_units("x", d("0.000000001")),
            Err(DecimalError::TooPrecise { .. })
        ));
    }
}

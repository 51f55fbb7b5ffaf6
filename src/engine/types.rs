//! Dimensioned integers. Each dimension has its own type so that a unit mistake fails to compile;
//! only products that make sense are provided (price × quantity → notional, in `instrument`).

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

/// Fixed-point scale of every asset amount: 1 unit = 1e-8 of the asset (1e-8 USD, 1 satoshi).
pub const UNITS_PER_WHOLE: i64 = 100_000_000;

/// Parts per million, the denominator of every `RatePpm`.
pub const PPM: i64 = 1_000_000;

macro_rules! integer_newtype {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

macro_rules! additive {
    ($name:ident) => {
        impl Add for $name {
            type Output = $name;
            #[inline]
            fn add(self, rhs: $name) -> $name {
                $name(self.0 + rhs.0)
            }
        }
        impl Sub for $name {
            type Output = $name;
            #[inline]
            fn sub(self, rhs: $name) -> $name {
                $name(self.0 - rhs.0)
            }
        }
        impl AddAssign for $name {
            #[inline]
            fn add_assign(&mut self, rhs: $name) {
                self.0 += rhs.0;
            }
        }
        impl SubAssign for $name {
            #[inline]
            fn sub_assign(&mut self, rhs: $name) {
                self.0 -= rhs.0;
            }
        }
        impl Neg for $name {
            type Output = $name;
            #[inline]
            fn neg(self) -> $name {
                $name(-self.0)
            }
        }
    };
}

integer_newtype!(
    /// A price in whole ticks of its instrument.
    PriceTicks(i64)
);
integer_newtype!(
    /// A quantity in whole lots of its instrument.
    QtyLots(i64)
);
integer_newtype!(
    /// An amount of one asset in units of 1e-8 (money, balances, fees, notionals).
    Units(i64)
);
integer_newtype!(
    /// A rate in parts per million (fees, bands, haircuts).
    RatePpm(i64)
);
integer_newtype!(
    /// Dense account index, assigned from configuration or by the operator.
    AccountId(u32)
);
integer_newtype!(
    /// Dense instrument index; the wire carries the SecurityID instead.
    InstrumentId(u16)
);
integer_newtype!(
    /// Exchange-assigned order id: unique over the life of the venue.
    OrderId(u64)
);

additive!(QtyLots);
additive!(Units);

impl PriceTicks {
    /// `self × rate / 1e6` in ticks, truncated toward zero: the half-width of a price band or a
    /// market order's protection offset. The same i64 fast path as `Units::times_rate_ceil`
    /// (a trade that moves the reference price computes a band).
    #[inline]
    pub fn times_rate_trunc(self, rate: RatePpm) -> i64 {
        match self.0.checked_mul(rate.0) {
            Some(product) => product / PPM,
            None => self.times_rate_trunc_wide(rate),
        }
    }

    #[cold]
    #[inline(never)]
    fn times_rate_trunc_wide(self, rate: RatePpm) -> i64 {
        (self.0 as i128 * rate.0 as i128 / PPM as i128) as i64
    }
}

impl QtyLots {
    pub const ZERO: QtyLots = QtyLots(0);

    #[inline]
    pub fn min(self, other: QtyLots) -> QtyLots {
        QtyLots(self.0.min(other.0))
    }
}

impl Units {
    pub const ZERO: Units = Units(0);

    /// Converts an i128 intermediate result back to units.
    ///
    /// Configuration bounds (maximum price × maximum quantity) guarantee the result fits; a
    /// failure here means those bounds were not enforced, which is a bug, not bad input.
    #[inline]
    #[track_caller]
    pub fn from_i128(value: i128) -> Units {
        match i64::try_from(value) {
            Ok(v) => Units(v),
            Err(_) => panic!("money overflow: {value} does not fit in i64 units"),
        }
    }

    /// `ceil(self × rate / 1e6)`: a fee charged by the venue rounds up, a rebate paid by the
    /// venue (negative rate) rounds towards zero; both round in the venue's favour.
    ///
    /// The product almost always fits in an i64, where dividing by the constant 1e6 compiles to
    /// a multiplication; only a product beyond i64 takes the (slow) i128 path.
    #[inline]
    pub fn times_rate_ceil(self, rate: RatePpm) -> Units {
        match self.0.checked_mul(rate.0) {
            // Truncating division rounds a negative quotient up already; a positive one with a
            // remainder needs one more.
            Some(product) => Units(product / PPM + (product % PPM > 0) as i64),
            None => self.times_rate_ceil_wide(rate),
        }
    }

    #[cold]
    #[inline(never)]
    fn times_rate_ceil_wide(self, rate: RatePpm) -> Units {
        let product = self.0 as i128 * rate.0 as i128;
        Units::from_i128(div_ceil_i128(product, PPM as i128))
    }

    /// `floor(self × rate / 1e6)`, with the same i64 fast path as `times_rate_ceil`.
    #[inline]
    pub fn times_rate_floor(self, rate: RatePpm) -> Units {
        match self.0.checked_mul(rate.0) {
            // Truncating division rounds a negative quotient with a remainder up: one less.
            Some(product) => Units(product / PPM - (product % PPM < 0) as i64),
            None => self.times_rate_floor_wide(rate),
        }
    }

    #[cold]
    #[inline(never)]
    fn times_rate_floor_wide(self, rate: RatePpm) -> Units {
        let product = self.0 as i128 * rate.0 as i128;
        Units::from_i128(product.div_euclid(PPM as i128))
    }
}

/// Ceiling division for a positive divisor, correct for negative numerators.
#[inline]
pub fn div_ceil_i128(numerator: i128, divisor: i128) -> i128 {
    debug_assert!(divisor > 0);
    -div_euclid_i128(-numerator, divisor)
}

/// `numerator.div_euclid(divisor)`, in 64-bit arithmetic when both fit: a 128-bit division is
/// a library call many times slower, and a liquidation storm divides millions of times with
/// values that nearly always fit.
#[inline]
pub fn div_euclid_i128(numerator: i128, divisor: i128) -> i128 {
    match (i64::try_from(numerator), i64::try_from(divisor)) {
        // i64::MIN / −1 overflows in 64 bits: left to the wide path.
        (Ok(n), Ok(d)) if d != -1 => n.div_euclid(d) as i128,
        _ => numerator.div_euclid(divisor),
    }
}

/// Nanoseconds since the Unix epoch, as stamped by the sequencer. The engine never reads a clock.
pub type TimeNs = u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_division_equals_wide_division() {
        let values = [
            0i128,
            1,
            -1,
            7,
            -7,
            i64::MAX as i128,
            i64::MIN as i128,
            1 << 70,
            -(1 << 70),
        ];
        for n in values {
            for d in [1i128, 2, 3, -1, -3, 1_000_000, i64::MAX as i128, 1 << 65] {
                assert_eq!(div_euclid_i128(n, d), n.div_euclid(d), "{n} / {d}");
            }
        }
    }

    #[test]
    fn fee_rounds_up_and_rebate_rounds_towards_zero() {
        assert_eq!(Units(1_000_001).times_rate_ceil(RatePpm(1)), Units(2));
        assert_eq!(Units(999_999).times_rate_ceil(RatePpm(1)), Units(1));
        assert_eq!(Units(1_000_000).times_rate_ceil(RatePpm(1)), Units(1));
        assert_eq!(Units(1_999_999).times_rate_ceil(RatePpm(-1)), Units(-1));
        assert_eq!(Units(0).times_rate_ceil(RatePpm(500)), Units(0));
    }

    #[test]
    fn i64_fast_path_agrees_with_i128_near_the_limits() {
        let values = [
            i64::MAX,
            i64::MIN + 1,
            i64::MAX / 7,
            -1_999_999,
            1_000_000,
            0,
            1,
            -1,
        ];
        let rates = [
            RatePpm(1),
            RatePpm(-1),
            RatePpm(500),
            RatePpm(-100),
            RatePpm(999_999),
        ];
        for value in values {
            for rate in rates {
                let product = value as i128 * rate.0 as i128;
                let ceil = div_ceil_i128(product, PPM as i128);
                let floor = product.div_euclid(PPM as i128);
                assert_eq!(
                    Units(value).times_rate_ceil(rate).0 as i128,
                    ceil,
                    "{value} {rate}"
                );
                assert_eq!(
                    Units(value).times_rate_floor(rate).0 as i128,
                    floor,
                    "{value} {rate}"
                );
                // A band's half-width truncates toward zero, as the i128 expression it replaced.
                assert_eq!(
                    PriceTicks(value).times_rate_trunc(rate),
                    (product / PPM as i128) as i64,
                    "{value} {rate}"
                );
            }
        }
    }

    #[test]
    fn floor_rounds_down_for_negative_products() {
        assert_eq!(Units(1_500_000).times_rate_floor(RatePpm(-1)), Units(-2));
        assert_eq!(Units(1_500_000).times_rate_floor(RatePpm(1)), Units(1));
    }
}

//! Loanable value under concentration limits.
//!
//! ```text
//! S   = Σ_class securities value × (1 − class haircut)
//! V_a = balance_a × index_a × (1 − haircut_a)          for a in {BTC, ETH}
//! L   = S + Σ_a c_a, the largest value such that
//!       0 ≤ c_a ≤ V_a,   c_a ≤ single_cap × L,   Σ_a c_a ≤ va_cap × L
//! ```
//!
//! The caps are shares of the loanable value itself (SFC: "the VA share of loanable value is
//! capped, and so is any single asset"), so L is a fixed point of the non-decreasing concave
//! map `g(L) = S + min(va_cap·L, Σ_a min(V_a, single_cap·L))`. Written as the minimum of its
//! affine pieces `a + b·L`, `g(L) ≥ L` holds exactly when `L ≤ a / (1 − b)` for every piece
//! with `b < 1`, so the largest fixed point is the smallest of those bounds:
//!
//! ```text
//! L = min( S + V_btc + V_eth,
//!          S / (1 − va_cap),                  if va_cap < 1
//!          (S + V_btc) / (1 − single_cap),    if single_cap < 1
//!          (S + V_eth) / (1 − single_cap),    if single_cap < 1
//!          S / (1 − 2·single_cap) )           if single_cap < 1/2
//! ```
//!
//! Each bound rounds down (in the venue's favour). Without securities (S = 0) and with a VA cap
//! below 100%, nothing is loanable: financing is for securities-margin clients.

use crate::engine::types::PPM;

/// The loanable value (USD units) of `securities` (after haircut) and the haircut values of
/// BTC and ETH `va`, with caps in ppm (see the module comment).
pub fn loanable_value(
    securities: i128,
    va: [i128; 2],
    va_cap_ppm: i64,
    single_cap_ppm: i64,
) -> i128 {
    let s = securities.max(0);
    let [btc, eth] = va.map(|v| v.max(0));
    let ppm = PPM as i128;
    let bound = |numerator: i128, share_ppm: i128| numerator * ppm / (ppm - share_ppm);
    let (va_cap, single) = (va_cap_ppm as i128, single_cap_ppm as i128);
    let mut value = s + btc + eth;
    if va_cap < ppm {
        value = value.min(bound(s, va_cap));
    }
    if single < ppm {
        value = value
            .min(bound(s + btc, single))
            .min(bound(s + eth, single));
    }
    if 2 * single < ppm {
        value = value.min(bound(s, 2 * single));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    const USD: i128 = 100_000_000;

    #[test]
    fn securities_alone_are_loanable_in_full() {
        assert_eq!(
            loanable_value(100_000 * USD, [0, 0], 500_000, 400_000),
            100_000 * USD
        );
    }

    #[test]
    fn virtual_assets_alone_lend_nothing_under_a_va_cap() {
        assert_eq!(loanable_value(0, [500_000 * USD, 0], 500_000, 400_000), 0);
        // Without caps they lend their haircut value.
        assert_eq!(loanable_value(0, [500 * USD, 0], PPM, PPM), 500 * USD);
    }

    #[test]
    fn the_single_asset_cap_binds_a_large_btc_holding() {
        // S 100 000, BTC 200 000: L = 100 000 / 0.6 = 166 666.66..., BTC counts 66 666.66...
        let l = loanable_value(100_000 * USD, [200_000 * USD, 0], 500_000, 400_000);
        assert_eq!(l, 100_000 * USD * 10 / 6);
        let counted_btc = l - 100_000 * USD;
        // BTC's share of L is the 40% cap (to the unit), and below the 50% VA cap.
        assert!(counted_btc * 10 <= 4 * l && counted_btc * 10 > 4 * l - 10);
    }

    #[test]
    fn the_va_cap_binds_two_assets_together() {
        // S 100 000, BTC and ETH 100 000 each, caps 50% / 40%: the VA cap gives L = 200 000
        // (VA 100 000 = 50%), each asset 50 000 = 25% of L, within its 40%.
        let l = loanable_value(
            100_000 * USD,
            [100_000 * USD, 100_000 * USD],
            500_000,
            400_000,
        );
        assert_eq!(l, 200_000 * USD);
    }

    #[test]
    fn small_holdings_count_in_full() {
        let l = loanable_value(100_000 * USD, [10_000 * USD, 5_000 * USD], 500_000, 400_000);
        assert_eq!(l, 115_000 * USD);
    }

    #[test]
    fn the_caps_hold_at_the_result() {
        // A brute-force check of the fixed point on a grid of inputs.
        for s in [0, 1, 7_000, 100_000, 333_333] {
            for btc in [0, 5_000, 90_000, 1_000_000] {
                for eth in [0, 3_000, 250_000] {
                    for (va_cap, single) in [(500_000, 400_000), (300_000, 200_000), (PPM, 600_000)]
                    {
                        let l = loanable_value(s * USD, [btc * USD, eth * USD], va_cap, single);
                        let cap = |share: i64| l * share as i128 / PPM as i128;
                        let c_btc = (btc * USD).min(cap(single));
                        let c_eth = (eth * USD).min(cap(single));
                        let counted = (c_btc + c_eth).min(cap(va_cap));
                        // L is (within rounding) S plus what the caps let the assets count.
                        assert!(
                            (s * USD + counted - l).abs() <= 4,
                            "s {s} btc {btc} eth {eth}"
                        );
                    }
                }
            }
        }
    }
}

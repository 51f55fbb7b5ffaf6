//! Funding: premium sampling, the rate, and the payment of one position.
//!
//! ```text
//! impact bid / ask = average fill price of `impact_notional` sold into the bids / bought
//!                    from the asks (rounded down to a tick; missing if the side is too thin)
//! premium          = (max(0, impact bid − index) − max(0, index − impact ask)) / index
//! rate             = avg premium + clamp(interest − avg premium, −clamp, +clamp),
//!                    then clamped to ±cap
//! payment          = −qty × mark × rate     (positive rate: longs pay, shorts receive)
//! ```
//!
//! The premium is sampled every `premium_sample_ns` while the index is valid (a missing impact
//! price contributes 0 to its term); the average is the plain mean of the interval's samples,
//! 0 without any. Rates are in ppm, truncated towards zero. A payment is rounded down: a payer
//! pays the amount rounded up, a receiver gets it rounded down, and the difference (below one
//! unit per position) goes to the venue, so funding never creates money.

use crate::engine::types::{PriceTicks, TimeNs, Units, PPM};

/// Funding schedule and the samples of the current interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FundingState {
    /// 0 until the first command sets the schedule from journaled time.
    pub next_sample_ns: TimeNs,
    pub next_settle_ns: TimeNs,
    pub premium_sum_ppm: i64,
    pub samples: u32,
    /// Rate of the last settled interval (used by the mark's `c1`).
    pub last_rate_ppm: i64,
}

impl FundingState {
    /// Starts the schedule at the first whole multiples of the intervals after `now`.
    pub fn start(&mut self, now: TimeNs, sample_ns: u64, interval_ns: u64) {
        self.next_sample_ns = (now / sample_ns + 1) * sample_ns;
        self.next_settle_ns = (now / interval_ns + 1) * interval_ns;
    }

    pub fn is_started(&self) -> bool {
        self.next_settle_ns != 0
    }

    /// The mean premium of the interval so far, truncated towards zero (0 without samples).
    pub fn average_premium_ppm(&self) -> i64 {
        if self.samples == 0 {
            0
        } else {
            self.premium_sum_ppm / self.samples as i64
        }
    }
}

/// The premium of one sample, in ppm of the index.
pub fn premium_ppm(
    index: PriceTicks,
    impact_bid: Option<PriceTicks>,
    impact_ask: Option<PriceTicks>,
) -> i64 {
    debug_assert!(index.0 > 0);
    let above = impact_bid.map_or(0, |bid| (bid.0 - index.0).max(0));
    let below = impact_ask.map_or(0, |ask| (index.0 - ask.0).max(0));
    ((above - below) as i128 * PPM as i128 / index.0 as i128) as i64
}

/// `avg + clamp(interest − avg, ±clamp)`, capped at `±cap` (all ppm).
pub fn funding_rate_ppm(avg_premium: i64, interest: i64, clamp: i64, cap: i64) -> i64 {
    let rate = avg_premium + (interest - avg_premium).clamp(-clamp, clamp);
    rate.clamp(-cap, cap)
}

/// What a position of `qty` lots receives (negative: pays) at `mark` and `rate_ppm`:
/// `floor(−qty × mark × rate)`.
pub fn payment(qty: i64, mark: PriceTicks, per_tick_lot: i64, rate_ppm: i64) -> Units {
    let raw = -(qty as i128) * mark.0 as i128 * per_tick_lot as i128 * rate_ppm as i128;
    Units::from_i128(raw.div_euclid(PPM as i128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premium_of_a_rich_book_is_positive() {
        // Index 100 000.0 (1 000 000 ticks); impact bid 100 050.0, impact ask 100 070.0:
        // premium = 500 / 1 000 000 = 0.05% = 500 ppm.
        let p = premium_ppm(
            PriceTicks(1_000_000),
            Some(PriceTicks(1_000_500)),
            Some(PriceTicks(1_000_700)),
        );
        assert_eq!(p, 500);
        // A cheap book: impact ask 99 980.0 → −0.02%.
        let p = premium_ppm(PriceTicks(1_000_000), None, Some(PriceTicks(999_800)));
        assert_eq!(p, -200);
    }

    #[test]
    fn rate_follows_the_interest_within_the_clamp() {
        // Average premium 0.02%, interest 0.01%: interest − premium = −0.01% inside ±0.05%,
        // so the rate is the interest itself.
        assert_eq!(funding_rate_ppm(200, 100, 500, 7_500), 100);
        // Premium 0.3%: clamp(0.01% − 0.3%) = −0.05% → 0.25%.
        assert_eq!(funding_rate_ppm(3_000, 100, 500, 7_500), 2_500);
        // Premium 2%: 1.95%, capped at 0.75%.
        assert_eq!(funding_rate_ppm(20_000, 100, 500, 7_500), 7_500);
        assert_eq!(funding_rate_ppm(-20_000, 100, 500, 7_500), -7_500);
    }

    #[test]
    fn long_pays_short_receives_rounded_for_the_venue() {
        // 1 BTC (100 000 lots of 100 units per tick-lot) at mark 100 000.0, rate 0.01%:
        // 100 000 USD × 0.0001 = 10 USD.
        let ten_usd = Units(10 * 100_000_000);
        assert_eq!(payment(100_000, PriceTicks(1_000_000), 100, 100), -ten_usd);
        assert_eq!(payment(-100_000, PriceTicks(1_000_000), 100, 100), ten_usd);
        // 1 lot at 3 ticks is 300 units; × 3 ppm = 0.0009 units: the payer pays 1 unit, the
        // receiver gets 0, the venue keeps the difference.
        assert_eq!(payment(1, PriceTicks(3), 100, 3), Units(-1));
        assert_eq!(payment(-1, PriceTicks(3), 100, 3), Units(0));
    }
}

//! The mark price, which values positions and drives margin, bands and the circuit breaker.
//!
//! ```text
//! mark = median(c1, c2, c3)
//! c1 = index × (1 + last funding rate × time to next funding / funding interval)
//! c2 = index + EMA(mid − index)
//! c3 = last trade price
//! ```
//!
//! Rules for missing inputs: without a valid index the mark is not recomputed (it keeps its
//! last value and the instrument is in its protective state); before the first trade `c3` is
//! missing and the mark is the mean of `c1` and `c2`; while one side of the book is empty the
//! basis is not observed and the EMA keeps its value (before any observation `c2 = index`).
//!
//! The EMA is time-weighted with time constant `τ = mark_ema_ns`: at each recomputation the
//! basis that held since the previous one moves the EMA by `(basis − ema) × min(Δt, τ) / τ`.
//! Rounding: the EMA is kept in thousandths of a tick and truncated towards zero at each step;
//! `c1`, `c2` and the two-input mean round down to a whole tick.

use crate::engine::types::{PriceTicks, TimeNs, PPM};

/// Thousandths of a tick per tick, the EMA's resolution.
const MILLI: i64 = 1_000;

/// What the mark is computed from.
#[derive(Clone, Copy, Debug)]
pub struct MarkInputs {
    pub index: PriceTicks,
    /// (best bid + best ask) / 2 in thousandths of a tick, when both sides have orders.
    pub mid_milli: Option<i64>,
    pub last_trade: Option<PriceTicks>,
    pub funding_rate_ppm: i64,
    pub time_to_funding_ns: u64,
    pub funding_interval_ns: u64,
    pub ema_ns: u64,
}

/// Mark price state of one perpetual.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkState {
    /// The current mark in ticks (0: none yet).
    pub price: PriceTicks,
    /// EMA of (mid − index), thousandths of a tick.
    pub ema_milli: i64,
    pub has_ema: bool,
    /// The basis observed at the last recomputation, if there was a mid.
    pub basis_milli: i64,
    pub has_basis: bool,
    pub updated_ns: TimeNs,
}

impl MarkState {
    /// Updates the EMA to `now` and recomputes the mark; returns it.
    pub fn recompute(&mut self, now: TimeNs, inputs: &MarkInputs) -> PriceTicks {
        self.advance_ema(now, inputs.ema_ns);
        match inputs.mid_milli {
            Some(mid) => {
                self.basis_milli = mid - inputs.index.0 * MILLI;
                self.has_basis = true;
                if !self.has_ema {
                    self.ema_milli = self.basis_milli;
                    self.has_ema = true;
                }
            }
            None => self.has_basis = false,
        }
        self.updated_ns = now;
        let index = inputs.index.0 as i128;
        let funding = index * inputs.funding_rate_ppm as i128 * inputs.time_to_funding_ns as i128;
        let c1 = index + funding.div_euclid(PPM as i128 * inputs.funding_interval_ns as i128);
        let c2 = index + (self.ema_milli as i128).div_euclid(MILLI as i128);
        let mark = match inputs.last_trade {
            Some(last) => median3(c1, c2, last.0 as i128),
            None => (c1 + c2).div_euclid(2),
        };
        self.price = PriceTicks(mark as i64);
        self.price
    }

    fn advance_ema(&mut self, now: TimeNs, ema_ns: u64) {
        if !(self.has_ema && self.has_basis) {
            return;
        }
        let elapsed = now.saturating_sub(self.updated_ns).min(ema_ns);
        let step = (self.basis_milli - self.ema_milli) as i128 * elapsed as i128 / ema_ns as i128;
        self.ema_milli += step as i64;
    }
}

fn median3(a: i128, b: i128, c: i128) -> i128 {
    a.max(b).min(a.min(b).max(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;
    const HOUR: u64 = 3_600 * S;

    fn inputs(index: i64, mid: Option<i64>, last: Option<i64>, rate: i64) -> MarkInputs {
        MarkInputs {
            index: PriceTicks(index),
            mid_milli: mid.map(|m| m * MILLI),
            last_trade: last.map(PriceTicks),
            funding_rate_ppm: rate,
            time_to_funding_ns: 4 * HOUR,
            funding_interval_ns: 8 * HOUR,
            ema_ns: 60 * S,
        }
    }

    #[test]
    fn mark_is_the_median_of_the_three_components() {
        let mut mark = MarkState::default();
        // Index 1 000 000 ticks (100 000 USD), rate 0.01% with half the interval left:
        // c1 = 1 000 000 × (1 + 0.0001 × 0.5) = 1 000 050. Mid 1 000 200 → first basis 200,
        // c2 = 1 000 200. Last trade 1 000 100 → median 1 000 100.
        let m = mark.recompute(S, &inputs(1_000_000, Some(1_000_200), Some(1_000_100), 100));
        assert_eq!(m, PriceTicks(1_000_100));
        // A last trade far away does not move the mark beyond the other two.
        let m = mark.recompute(S, &inputs(1_000_000, Some(1_000_200), Some(900_000), 100));
        assert_eq!(m, PriceTicks(1_000_050));
    }

    #[test]
    fn without_a_trade_the_mark_is_the_mean_of_c1_and_c2() {
        let mut mark = MarkState::default();
        // c1 = 1 000 050, no mid → c2 = index = 1 000 000 → mean 1 000 025.
        let m = mark.recompute(S, &inputs(1_000_000, None, None, 100));
        assert_eq!(m, PriceTicks(1_000_025));
    }

    #[test]
    fn ema_moves_by_the_elapsed_share_of_its_time_constant() {
        let mut mark = MarkState::default();
        mark.recompute(0, &inputs(1_000_000, Some(1_000_000), None, 0));
        assert_eq!(mark.ema_milli, 0);
        // The mid jumps 600 ticks above the index; the old basis (0) held until now.
        mark.recompute(15 * S, &inputs(1_000_000, Some(1_000_600), None, 0));
        assert_eq!(mark.ema_milli, 0);
        // 15 s later, with τ = 60 s, the EMA moves a quarter of the way: 150 ticks.
        let m = mark.recompute(30 * S, &inputs(1_000_000, Some(1_000_600), None, 0));
        assert_eq!(mark.ema_milli, 150_000);
        // c1 = 1 000 000, c2 = 1 000 150 → mean 1 000 075.
        assert_eq!(m, PriceTicks(1_000_075));
        // After more than τ the EMA reaches the basis.
        mark.recompute(200 * S, &inputs(1_000_000, Some(1_000_600), None, 0));
        assert_eq!(mark.ema_milli, 600_000);
    }
}

//! Dynamic circuit breaker: a mark move beyond `breaker_move` within a rolling
//! `breaker_window` halts new orders on the instrument for `breaker_halt`.
//!
//! The window is divided into `SLOTS` time slots of `breaker_window / SLOTS` each; a slot keeps
//! the lowest and highest mark seen in it. The breaker trips when, over the slots of the last
//! window, `max − min > min × breaker_move`. Slots make the cost of a mark update fixed (one
//! pass over `SLOTS` entries) however often the mark moves, and never shorten the window; the
//! price is a granularity of one slot at the old end of the window (a move may be judged over
//! up to one slot more than the window). While halted, resting orders stay, new orders and
//! amends that move an order or raise its size are rejected, and cancels and size reductions
//! are accepted; when the halt ends the window starts afresh.

use crate::engine::types::{PriceTicks, TimeNs, PPM};

/// Time slots per window.
pub const SLOTS: usize = 64;

/// Lowest and highest mark in one slot (`number` = time / slot width; 0 = unused).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    pub number: u64,
    pub low: PriceTicks,
    pub high: PriceTicks,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breaker {
    pub slots: [Slot; SLOTS],
    /// Halted while `now < halted_until_ns`.
    pub halted_until_ns: TimeNs,
}

impl Breaker {
    pub fn with_capacity() -> Breaker {
        Breaker {
            slots: [Slot::default(); SLOTS],
            halted_until_ns: 0,
        }
    }

    #[inline]
    pub fn is_halted(&self, now: TimeNs) -> bool {
        now < self.halted_until_ns
    }

    /// Records a new mark; returns true when it trips the breaker.
    pub fn on_mark(
        &mut self,
        now: TimeNs,
        mark: PriceTicks,
        move_ppm: i64,
        window_ns: u64,
        halt_ns: u64,
    ) -> bool {
        if self.is_halted(now) {
            return false;
        }
        let width = (window_ns / SLOTS as u64).max(1);
        // Slot numbers start at 1 so that 0 marks an unused slot.
        let number = now / width + 1;
        let slot = &mut self.slots[(number % SLOTS as u64) as usize];
        if slot.number != number {
            *slot = Slot {
                number,
                low: mark,
                high: mark,
            };
        } else {
            slot.low = slot.low.min(mark);
            slot.high = slot.high.max(mark);
        }
        let oldest = number.saturating_sub(SLOTS as u64 - 1);
        let (low, high) = self
            .slots
            .iter()
            .filter(|s| s.number >= oldest && s.number != 0)
            .fold((i64::MAX, i64::MIN), |(lo, hi), s| {
                (lo.min(s.low.0), hi.max(s.high.0))
            });
        let tripped = (high - low) as i128 * PPM as i128 > low as i128 * move_ppm as i128;
        if tripped {
            self.halted_until_ns = now + halt_ns;
            self.slots = [Slot::default(); SLOTS];
        }
        tripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn a_ten_percent_move_within_the_window_halts() {
        let mut b = Breaker::with_capacity();
        let (mv, win, halt) = (100_000, 60 * S, 30 * S);
        assert!(!b.on_mark(S, PriceTicks(1_000), mv, win, halt));
        assert!(!b.on_mark(2 * S, PriceTicks(1_100), mv, win, halt));
        assert!(b.on_mark(3 * S, PriceTicks(1_101), mv, win, halt));
        assert!(b.is_halted(32 * S));
        assert!(!b.is_halted(33 * S));
    }

    #[test]
    fn the_same_move_spread_beyond_the_window_does_not_halt() {
        let mut b = Breaker::with_capacity();
        let (mv, win, halt) = (100_000, 60 * S, 30 * S);
        assert!(!b.on_mark(0, PriceTicks(1_000), mv, win, halt));
        assert!(!b.on_mark(50 * S, PriceTicks(1_060), mv, win, halt));
        assert!(!b.on_mark(100 * S, PriceTicks(1_120), mv, win, halt));
    }

    #[test]
    fn frequent_marks_do_not_shorten_the_window() {
        // 6 000 marks over 60 s creeping up 10.1%: the window still sees the first ones.
        let mut b = Breaker::with_capacity();
        let (mv, win, halt) = (100_000, 60 * S, 30 * S);
        let mut tripped = false;
        for i in 0..6_000u64 {
            let mark = PriceTicks(100_000 + (i as i64 * 10_100) / 5_999);
            tripped |= b.on_mark(i * 10_000_000, mark, mv, win, halt);
        }
        assert!(tripped);
    }
}

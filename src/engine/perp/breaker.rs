//! Dynamic circuit breaker: a mark move beyond `breaker_move` within a rolling
//! `breaker_window` halts new orders on the instrument for `breaker_halt`.
//!
//! The window keeps the marks of the last `breaker_window` (at most `WINDOW_MAX` of them; when
//! full the oldest goes first, which can only shorten the window). The breaker trips when
//! `max − min > min × breaker_move`. While halted, resting orders stay, new orders and amends
//! that move an order or raise its size are rejected, and cancels and size reductions are
//! accepted; when the halt ends the window starts afresh from the current mark.

use std::collections::VecDeque;

use crate::engine::types::{PriceTicks, TimeNs, PPM};

/// Most marks the rolling window holds.
pub const WINDOW_MAX: usize = 256;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Breaker {
    pub window: VecDeque<(TimeNs, PriceTicks)>,
    /// Halted while `now < halted_until_ns`.
    pub halted_until_ns: TimeNs,
}

impl Breaker {
    pub fn with_capacity() -> Breaker {
        Breaker {
            window: VecDeque::with_capacity(WINDOW_MAX),
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
        while let Some(&(time, _)) = self.window.front() {
            if now.saturating_sub(time) <= window_ns && self.window.len() < WINDOW_MAX {
                break;
            }
            self.window.pop_front();
        }
        self.window.push_back((now, mark));
        let (low, high) = self
            .window
            .iter()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &(_, p)| {
                (lo.min(p.0), hi.max(p.0))
            });
        let tripped = (high - low) as i128 * PPM as i128 > low as i128 * move_ppm as i128;
        if tripped {
            self.halted_until_ns = now + halt_ns;
            self.window.clear();
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
}

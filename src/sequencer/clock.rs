//! The sequencer's clock: wall time in ns since the Unix epoch, never going backwards. It is
//! read only by the sequencer; the engine sees time only through journaled stamps.

use std::time::{SystemTime, UNIX_EPOCH};

/// A non-decreasing wall clock.
#[derive(Debug)]
pub struct Clock {
    last_ns: u64,
}

impl Clock {
    /// A clock that never stamps earlier than `floor_ns` (the last journaled time).
    pub fn new(floor_ns: u64) -> Clock {
        Clock { last_ns: floor_ns }
    }

    /// The current time, or the last stamp if the wall clock stepped back.
    pub fn now_ns(&mut self) -> u64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        if wall > self.last_ns {
            self.last_ns = wall;
        }
        self.last_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_back_below_the_floor() {
        let far_future = u64::MAX / 2;
        let mut clock = Clock::new(far_future);
        assert_eq!(clock.now_ns(), far_future);
        let mut clock = Clock::new(0);
        let a = clock.now_ns();
        assert!(clock.now_ns() >= a);
    }
}

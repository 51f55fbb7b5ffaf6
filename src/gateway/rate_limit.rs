//! A token bucket per connection: `rate` messages per second with bursts up to `burst`.

/// Token bucket in integer arithmetic: tokens are counted in millionths.
#[derive(Clone, Copy, Debug)]
pub struct RateLimiter {
    rate_per_sec: u64,
    capacity_micro: u64,
    tokens_micro: u64,
    last_ns: u64,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32, burst: u32, now_ns: u64) -> RateLimiter {
        let capacity_micro = u64::from(burst.max(1)) * 1_000_000;
        RateLimiter {
            rate_per_sec: u64::from(rate_per_sec),
            capacity_micro,
            tokens_micro: capacity_micro,
            last_ns: now_ns,
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now_ns: u64) -> bool {
        let elapsed_ns = now_ns.saturating_sub(self.last_ns);
        self.last_ns = now_ns;
        // rate/s × elapsed ns = rate × elapsed / 1e9 tokens = rate × elapsed / 1e3 micro-tokens.
        let refill = (self.rate_per_sec as u128 * elapsed_ns as u128 / 1_000) as u64;
        self.tokens_micro = self
            .tokens_micro
            .saturating_add(refill)
            .min(self.capacity_micro);
        if self.tokens_micro >= 1_000_000 {
            self.tokens_micro -= 1_000_000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_the_rate() {
        let mut limiter = RateLimiter::new(1_000, 10, 0);
        assert_eq!((0..20).filter(|_| limiter.try_take(0)).count(), 10);
        // 5 ms at 1000/s refills 5 tokens.
        assert_eq!((0..20).filter(|_| limiter.try_take(5_000_000)).count(), 5);
    }
}

//! The simulated price process: per instrument, a seeded multiplicative random walk with
//! occasional jumps, and per source a little independent noise around it.
//!
//! One step of an instrument whose walk price is `p` (in 1e-8 USD):
//! 1. `z` ~ N(0, 1) (approximated, bounded to ±6: see [`SplitMix64::normal`]).
//! 2. `factor = 1 + volatility × z`; with probability `jump_probability` also
//!    `factor ×= 1 ± jump_size`, up or down with equal odds.
//! 3. `p' = max(1, round(p × factor))`.
//! 4. Source `i` (ids 1..=N) publishes `max(1, round(p' × (1 + source_noise × z_i)))` with its
//!    own `z_i`.
//!
//! Rounding is to the nearest whole 1e-8 unit, halves away from zero. The parameter bounds
//! keep every factor at or above 0.2, so prices stay positive without the floor of 1 unit ever
//! mattering in practice. Each instrument has its own generator, seeded from the seed and its
//! SecurityID, so its path does not change when other instruments are fed alongside.

use std::time::Duration;

use super::error::FeederError;
use super::rng::SplitMix64;
use super::source::{SourcePrice, Update, UpdateSource};

/// Fewest sources: the venue computes an index from at least 3 fresh constituents.
pub const SOURCES_MIN: u16 = 3;
/// Most sources: IndexConstituents carries at most 16 constituents.
pub const SOURCES_MAX: u16 = 16;
/// Sources when not told.
pub const SOURCES_DEFAULT: u16 = 3;

/// Largest per-step volatility: with `z` bounded to ±6 the factor stays at or above 0.4.
const VOLATILITY_MAX: f64 = 0.1;
/// Largest jump: with the volatility bound, a jump down leaves a factor of at least 0.2.
const JUMP_SIZE_MAX: f64 = 0.5;
/// Largest source noise: 6 × 1% keeps sources within the venue's default 5% outlier band
/// nearly always; the default is far smaller.
const SOURCE_NOISE_MAX: f64 = 0.01;

/// Parameters of the walk, the same for every instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkParams {
    /// Relative standard deviation of one step.
    pub volatility: f64,
    /// Chance that a step also jumps.
    pub jump_probability: f64,
    /// Relative size of a jump.
    pub jump_size: f64,
    /// Relative standard deviation of each source around the walk.
    pub source_noise: f64,
    /// Number of sources (ConstituentSourceID 1..=sources).
    pub sources: u16,
}

impl Default for WalkParams {
    /// Calm markets with an occasional 1% jump: 5 bp per step, a jump every ~100 steps, and
    /// sources 2 bp apart.
    fn default() -> Self {
        WalkParams {
            volatility: 0.0005,
            jump_probability: 0.01,
            jump_size: 0.01,
            source_noise: 0.0002,
            sources: SOURCES_DEFAULT,
        }
    }
}

impl WalkParams {
    /// Checks every parameter against the bounds that keep prices positive.
    ///
    /// # Errors
    /// [`FeederError::Parameter`] naming the flag.
    pub fn validate(&self) -> Result<(), FeederError> {
        let check = |name, value: f64, max: f64, range| {
            if value.is_finite() && (0.0..=max).contains(&value) {
                Ok(())
            } else {
                Err(FeederError::Parameter { name, value, range })
            }
        };
        check("--volatility", self.volatility, VOLATILITY_MAX, "[0, 0.1]")?;
        check("--jump-probability", self.jump_probability, 1.0, "[0, 1]")?;
        check("--jump-size", self.jump_size, JUMP_SIZE_MAX, "[0, 0.5]")?;
        check(
            "--source-noise",
            self.source_noise,
            SOURCE_NOISE_MAX,
            "[0, 0.01]",
        )?;
        if !(SOURCES_MIN..=SOURCES_MAX).contains(&self.sources) {
            return Err(FeederError::Parameter {
                name: "--sources",
                value: f64::from(self.sources),
                range: "[3, 16]",
            });
        }
        Ok(())
    }
}

/// The walk of one instrument.
#[derive(Debug, Clone)]
pub struct RandomWalk {
    security_id: i32,
    price_units: i64,
    params: WalkParams,
    rng: SplitMix64,
}

impl RandomWalk {
    /// A walk for `security_id` starting at `start_units` (1e-8 USD).
    ///
    /// # Errors
    /// [`FeederError::Parameter`] for parameters out of bounds or a start price below 1 unit.
    pub fn new(
        seed: u64,
        security_id: i32,
        start_units: i64,
        params: WalkParams,
    ) -> Result<RandomWalk, FeederError> {
        params.validate()?;
        if start_units < 1 {
            return Err(FeederError::Parameter {
                name: "--start-price",
                value: start_units as f64 / 1e8,
                range: "(0, 92233720368]",
            });
        }
        // Instruments get distinct streams: the seed mixed with the SecurityID through one
        // SplitMix64 step, so neighbouring seeds or ids do not give correlated walks.
        let stream = SplitMix64::new(seed ^ (security_id as u32 as u64).rotate_left(32)).next_u64();
        Ok(RandomWalk {
            security_id,
            price_units: start_units,
            params,
            rng: SplitMix64::new(stream),
        })
    }

    /// The instrument.
    pub fn security_id(&self) -> i32 {
        self.security_id
    }

    /// The walk's current price in 1e-8 USD.
    pub fn price_units(&self) -> i64 {
        self.price_units
    }

    /// Steps 1–4 of the module comment: moves the walk and returns one price per source.
    pub fn step(&mut self) -> Vec<SourcePrice> {
        let p = &self.params;
        let mut factor = 1.0 + p.volatility * self.rng.normal();
        if self.rng.unit() < p.jump_probability {
            let up = self.rng.next_u64() & 1 == 1;
            factor *= if up {
                1.0 + p.jump_size
            } else {
                1.0 - p.jump_size
            };
        }
        self.price_units = scale(self.price_units, factor);
        (1..=p.sources)
            .map(|source_id| SourcePrice {
                source_id,
                price_units: scale(self.price_units, 1.0 + p.source_noise * self.rng.normal()),
            })
            .collect()
    }
}

/// `max(1, round(units × factor))`; `as` saturates, so an absurd product cannot wrap.
fn scale(units: i64, factor: f64) -> i64 {
    ((units as f64 * factor).round() as i64).max(1)
}

/// Round-robin over the walks: round `r` publishes every instrument once, due at
/// `r × interval` after the start.
#[derive(Debug, Clone)]
pub struct WalkSource {
    walks: Vec<RandomWalk>,
    interval: Duration,
    round: u64,
    next: usize,
}

impl WalkSource {
    /// Feeds `walks` (in this order within a round) every `interval`.
    pub fn new(walks: Vec<RandomWalk>, interval: Duration) -> WalkSource {
        WalkSource {
            walks,
            interval,
            round: 0,
            next: 0,
        }
    }
}

impl UpdateSource for WalkSource {
    fn next_update(&mut self) -> Option<Update> {
        let count = self.walks.len();
        let walk = self.walks.get_mut(self.next)?;
        let interval_ms = u64::try_from(self.interval.as_millis()).unwrap_or(u64::MAX);
        let due = Duration::from_millis(interval_ms.saturating_mul(self.round));
        let update = Update {
            due,
            security_id: walk.security_id(),
            prices: walk.step(),
        };
        self.next += 1;
        if self.next == count {
            self.next = 0;
            self.round += 1;
        }
        Some(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BTC: i64 = 100_000 * 100_000_000;

    fn prices(seed: u64, steps: usize) -> Vec<Vec<SourcePrice>> {
        let mut walk = RandomWalk::new(seed, 3, BTC, WalkParams::default()).expect("valid");
        (0..steps).map(|_| walk.step()).collect()
    }

    #[test]
    fn random_walk_is_deterministic_for_a_seed() {
        assert_eq!(prices(7, 500), prices(7, 500));
        assert_ne!(
            prices(7, 50),
            prices(8, 50),
            "another seed takes another path"
        );
    }

    #[test]
    fn random_walk_path_is_pinned_for_seed_one() {
        // Pins the algorithm: a change to the generator, the step or the rounding shows here,
        // and would change every documented `--seed` run.
        let first = &prices(1, 1)[0];
        let pinned: Vec<i64> = first.iter().map(|s| s.price_units).collect();
        assert_eq!(pinned, PINNED_SEED_ONE);
    }

    const PINNED_SEED_ONE: [i64; 3] = [9_998_937_102_184, 9_992_815_198_387, 9_997_538_161_021];

    #[test]
    fn an_instruments_path_does_not_depend_on_the_others_fed() {
        let params = WalkParams::default();
        let btc = || RandomWalk::new(7, 3, BTC, params).expect("valid");
        let eth = RandomWalk::new(7, 4, 3_000 * 100_000_000, params).expect("valid");
        let mut alone = WalkSource::new(vec![btc()], Duration::from_secs(1));
        let mut both = WalkSource::new(vec![btc(), eth], Duration::from_secs(1));
        for round in 0..20u64 {
            let a = alone.next_update().expect("endless");
            let b = both.next_update().expect("endless");
            let e = both.next_update().expect("endless");
            assert_eq!(a, b);
            assert_eq!(e.security_id, 4);
            assert_eq!(e.due, Duration::from_secs(round));
        }
    }

    #[test]
    fn prices_are_whole_units_positive_and_near_the_walk() {
        let params = WalkParams {
            volatility: 0.1,
            jump_probability: 0.5,
            jump_size: 0.5,
            source_noise: 0.01,
            sources: 16,
        };
        let mut walk = RandomWalk::new(3, 3, 1, params).expect("valid");
        for _ in 0..2_000 {
            let prices = walk.step();
            assert_eq!(prices.len(), 16);
            assert!(prices.iter().all(|s| s.price_units >= 1));
        }
        let mut calm = RandomWalk::new(3, 3, BTC, WalkParams::default()).expect("valid");
        for _ in 0..2_000 {
            let sources = calm.step();
            let walk_price = calm.price_units() as f64;
            for s in sources {
                // 6 standard deviations of 2 bp, plus the rounding.
                let distance = (s.price_units as f64 - walk_price).abs();
                assert!(
                    distance <= walk_price * 0.0012 + 1.0,
                    "{s:?} vs {walk_price}"
                );
            }
        }
    }

    #[test]
    fn sources_are_numbered_from_one() {
        let ids: Vec<u16> = prices(1, 1)[0].iter().map(|s| s.source_id).collect();
        assert_eq!(ids, [1, 2, 3]);
    }

    #[test]
    fn out_of_range_parameters_name_their_flag() {
        let bad = |p: WalkParams| match p.validate() {
            Err(FeederError::Parameter { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        let ok = WalkParams::default();
        assert_eq!(
            bad(WalkParams {
                volatility: 0.2,
                ..ok
            }),
            "--volatility"
        );
        assert_eq!(
            bad(WalkParams {
                jump_size: -0.1,
                ..ok
            }),
            "--jump-size"
        );
        assert_eq!(
            bad(WalkParams {
                jump_probability: f64::NAN,
                ..ok
            }),
            "--jump-probability"
        );
        assert_eq!(
            bad(WalkParams {
                source_noise: 0.5,
                ..ok
            }),
            "--source-noise"
        );
        assert_eq!(bad(WalkParams { sources: 2, ..ok }), "--sources");
        assert_eq!(bad(WalkParams { sources: 17, ..ok }), "--sources");
        assert!(
            RandomWalk::new(1, 3, 0, ok).is_err(),
            "a start price must be positive"
        );
    }
}

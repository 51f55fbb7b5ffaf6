//! The index price: the median of operator-published constituent prices, with stale and
//! outlier constituents excluded.
//!
//! On each IndexConstituents message, at engine time `now`:
//! 1. Merge the constituents by source id (a source's newer price replaces its older one).
//! 2. Fresh = constituents with `now − time <= index_max_age`.
//! 3. `m0` = median of the fresh prices; outliers are those with `|p − m0| > m0 × outlier`.
//! 4. Index = median of the fresh non-outliers, rounded half up to a whole tick. The median of
//!    an even count is the mean of the two middle prices, rounded down (in 1e-8 units).
//! 5. If fewer than `index_min_sources` remain, the index is stale now. Otherwise it stays valid
//!    until the moment the `min_sources`-th newest of them turns stale: between messages the
//!    value is kept, and validity only runs out.

use crate::engine::types::{PriceTicks, TimeNs, PPM};

/// Most price sources an index may have.
pub const MAX_SOURCES: usize = 16;
/// Fewest constituents one message must carry.
pub const MIN_CONSTITUENTS_PER_MESSAGE: usize = 3;

/// One source's price: `price` in 1e-8 USD per whole base unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Constituent {
    pub source_id: u16,
    pub price: i64,
    pub time_ns: TimeNs,
}

/// Why an index update was refused (nothing changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("{count} constituents; at least {MIN_CONSTITUENTS_PER_MESSAGE} are needed")]
    TooFew { count: usize },
    #[error("more than {MAX_SOURCES} price sources")]
    TooManySources,
    #[error("source {source_id} price {price} is not positive")]
    NonPositive { source_id: u16, price: i64 },
    #[error("source {source_id} appears twice")]
    DuplicateSource { source_id: u16 },
    #[error("publication time {time_ns} not after the previous one {previous_ns}")]
    OutOfOrder {
        time_ns: TimeNs,
        previous_ns: TimeNs,
    },
    #[error("source {source_id} time {time_ns} is older than its last price")]
    SourceOutOfOrder { source_id: u16, time_ns: TimeNs },
    #[error("source {source_id} time {time_ns} is in the future (now {now_ns})")]
    Future {
        source_id: u16,
        time_ns: TimeNs,
        now_ns: TimeNs,
    },
}

/// The index of one perpetual.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexState {
    pub sources: Vec<Constituent>,
    /// Operator publication time of the last accepted message.
    pub published_ns: TimeNs,
    /// The last computed index in ticks (0: never computed).
    pub price: PriceTicks,
    /// Constituents the last computation used.
    pub used: u8,
    /// The index is valid while `now < valid_until_ns`.
    pub valid_until_ns: TimeNs,
}

/// What the index rules need from the perpetual's specification.
#[derive(Clone, Copy, Debug)]
pub struct IndexRules {
    pub max_age_ns: u64,
    pub outlier_ppm: i64,
    pub min_sources: u8,
    pub tick_units: i64,
}

impl IndexState {
    pub fn with_capacity() -> IndexState {
        IndexState {
            sources: Vec::with_capacity(MAX_SOURCES),
            ..IndexState::default()
        }
    }

    #[inline]
    pub fn is_valid(&self, now: TimeNs) -> bool {
        self.price.0 > 0 && now < self.valid_until_ns
    }

    /// Checks and merges a message's constituents, then recomputes (steps 1–5).
    ///
    /// # Errors
    /// The message is refused as a whole and the state is unchanged.
    pub fn update(
        &mut self,
        now: TimeNs,
        published_ns: TimeNs,
        constituents: &[Constituent],
        rules: IndexRules,
    ) -> Result<(), IndexError> {
        self.check(now, published_ns, constituents, rules)?;
        for c in constituents {
            match self.sources.iter_mut().find(|s| s.source_id == c.source_id) {
                Some(slot) => *slot = *c,
                None => self.sources.push(*c),
            }
        }
        self.published_ns = published_ns;
        self.recompute(now, rules);
        Ok(())
    }

    fn check(
        &self,
        now: TimeNs,
        published_ns: TimeNs,
        constituents: &[Constituent],
        rules: IndexRules,
    ) -> Result<(), IndexError> {
        if constituents.len() < MIN_CONSTITUENTS_PER_MESSAGE {
            return Err(IndexError::TooFew {
                count: constituents.len(),
            });
        }
        if published_ns <= self.published_ns {
            return Err(IndexError::OutOfOrder {
                time_ns: published_ns,
                previous_ns: self.published_ns,
            });
        }
        let mut new_sources = 0;
        for (i, c) in constituents.iter().enumerate() {
            if c.price <= 0 {
                return Err(IndexError::NonPositive {
                    source_id: c.source_id,
                    price: c.price,
                });
            }
            if constituents[..i].iter().any(|o| o.source_id == c.source_id) {
                return Err(IndexError::DuplicateSource {
                    source_id: c.source_id,
                });
            }
            if c.time_ns > now.saturating_add(rules.max_age_ns) {
                return Err(IndexError::Future {
                    source_id: c.source_id,
                    time_ns: c.time_ns,
                    now_ns: now,
                });
            }
            match self.sources.iter().find(|s| s.source_id == c.source_id) {
                Some(old) if old.time_ns > c.time_ns => {
                    return Err(IndexError::SourceOutOfOrder {
                        source_id: c.source_id,
                        time_ns: c.time_ns,
                    })
                }
                Some(_) => {}
                None => new_sources += 1,
            }
        }
        if self.sources.len() + new_sources > MAX_SOURCES {
            return Err(IndexError::TooManySources);
        }
        Ok(())
    }

    /// Steps 2–5 of the module comment.
    fn recompute(&mut self, now: TimeNs, rules: IndexRules) {
        let mut fresh = [Constituent::default(); MAX_SOURCES];
        let mut n = 0;
        for s in &self.sources {
            if now.saturating_sub(s.time_ns) <= rules.max_age_ns {
                fresh[n] = *s;
                n += 1;
            }
        }
        let fresh = &mut fresh[..n];
        fresh.sort_unstable_by_key(|c| c.price);
        let used = match median(fresh) {
            Some(m0) => {
                let limit = m0 as i128 * rules.outlier_ppm as i128;
                let mut kept = 0;
                for i in 0..fresh.len() {
                    let distance = (fresh[i].price as i128 - m0 as i128).abs() * PPM as i128;
                    if distance <= limit {
                        fresh[kept] = fresh[i];
                        kept += 1;
                    }
                }
                kept
            }
            None => 0,
        };
        let kept = &mut fresh[..used];
        self.used = used as u8;
        if used < rules.min_sources as usize {
            self.valid_until_ns = now;
            return;
        }
        let m = median(kept).expect("at least the minimum of sources remain");
        let tick = rules.tick_units;
        self.price = PriceTicks((m + tick / 2) / tick);
        // The min_sources-th newest time bounds how long enough of them stay fresh.
        kept.sort_unstable_by_key(|c| std::cmp::Reverse(c.time_ns));
        let limiting = kept[rules.min_sources as usize - 1].time_ns;
        self.valid_until_ns = limiting + rules.max_age_ns + 1;
    }
}

/// Median of prices sorted ascending; the mean of the middle two (rounded down) for an even
/// count.
fn median(sorted: &[Constituent]) -> Option<i64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        return Some(sorted[n / 2].price);
    }
    let (a, b) = (sorted[n / 2 - 1].price, sorted[n / 2].price);
    Some(((a as i128 + b as i128).div_euclid(2)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;
    const USD: i64 = 100_000_000;
    const RULES: IndexRules = IndexRules {
        max_age_ns: 10 * S,
        outlier_ppm: 50_000,
        min_sources: 3,
        tick_units: 10_000_000,
    };

    fn c(source_id: u16, dollars: i64, time_ns: u64) -> Constituent {
        Constituent {
            source_id,
            price: dollars * USD,
            time_ns,
        }
    }

    #[test]
    fn median_of_three_fresh_constituents() {
        let mut index = IndexState::with_capacity();
        let now = 100 * S;
        let msg = [c(1, 100_010, now), c(2, 99_990, now), c(3, 100_000, now)];
        index.update(now, now, &msg, RULES).unwrap();
        assert_eq!(index.price, PriceTicks(1_000_000));
        assert!(index.is_valid(now + 10 * S));
        assert!(!index.is_valid(now + 10 * S + 1));
    }

    #[test]
    fn outlier_and_stale_constituents_are_excluded() {
        let mut index = IndexState::with_capacity();
        let now = 100 * S;
        // Source 4 is 10% away (outlier); source 5 is 11 s old (stale).
        let msg = [
            c(1, 100_000, now),
            c(2, 100_020, now),
            c(3, 100_050, now),
            c(4, 110_000, now),
            c(5, 50_000, now - 11 * S),
        ];
        index.update(now, now, &msg, RULES).unwrap();
        // Fresh: 100 000, 100 020, 100 050, 110 000 → m0 = 100 035; 110 000 is > 5% away.
        // Kept: 100 000, 100 020, 100 050 → median 100 020.
        assert_eq!(index.price, PriceTicks(1_000_200));
        assert_eq!(index.used, 3);
    }

    #[test]
    fn even_count_median_rounds_to_the_nearest_tick() {
        let mut index = IndexState::with_capacity();
        let now = S;
        let msg = [
            c(1, 100_000, now),
            Constituent {
                source_id: 2,
                price: 100_000 * USD + 15_000_000,
                time_ns: now,
            },
            c(3, 99_000, now),
            c(4, 101_000, now),
        ];
        index.update(now, now, &msg, RULES).unwrap();
        // Middle two: 100 000.00 and 100 000.15 → 100 000.075 → nearest tick 100 000.1.
        assert_eq!(index.price, PriceTicks(1_000_001));
    }

    #[test]
    fn too_few_valid_constituents_make_the_index_stale() {
        let mut index = IndexState::with_capacity();
        let now = 100 * S;
        let msg = [
            c(1, 100_000, now),
            c(2, 100_000, now - 20 * S),
            c(3, 90_000, now),
        ];
        index.update(now, now, &msg, RULES).unwrap();
        assert!(!index.is_valid(now));
    }

    #[test]
    fn bad_messages_are_refused_without_change() {
        let mut index = IndexState::with_capacity();
        let now = 100 * S;
        let good = [c(1, 100_000, now), c(2, 100_000, now), c(3, 100_000, now)];
        index.update(now, now, &good, RULES).unwrap();
        let before = index.clone();
        let zero = [c(1, 0, now), c(2, 100_000, now), c(3, 100_000, now)];
        assert!(matches!(
            index.update(now, now + 1, &zero, RULES),
            Err(IndexError::NonPositive { .. })
        ));
        assert_eq!(
            index.update(now, now, &good, RULES),
            Err(IndexError::OutOfOrder {
                time_ns: now,
                previous_ns: now
            })
        );
        assert_eq!(
            index.update(now, now + 1, &good[..2], RULES),
            Err(IndexError::TooFew { count: 2 })
        );
        let dup = [c(1, 1, now), c(1, 1, now), c(3, 1, now)];
        assert!(index.update(now, now + 1, &dup, RULES).is_err());
        assert_eq!(index, before);
    }
}

//! A hierarchical bitmap over a price domain: which prices have a level on one side. The order
//! pool uses one over its slots too (which slots are free).
//!
//! Level 0 has one bit per price; each word of level k has its bit set in level k+1. Finding the
//! next occupied price above or below any price touches one word per level (4 words for a domain
//! of 16M ticks), so the best price after a level empties is found in a few nanoseconds.

/// Levels a bitmap can have: enough for any domain below 2^36 indices.
const LEVELS_MAX: usize = 6;

/// Occupied prices of one side of a book. Indices are price offsets within the book's domain
/// (every method expects an index below the domain given to `new`).
///
/// All levels live in one buffer, level 0 first, so that reaching a word costs one add instead
/// of a load of the level's own buffer: every order entry and exit walks this structure.
pub struct PriceBitmap {
    words: Box<[u64]>,
    /// Where each level starts in `words`; levels `0..depth` exist.
    start: [usize; LEVELS_MAX],
    /// Number of levels; the last has exactly one word.
    depth: usize,
}

impl PriceBitmap {
    /// A bitmap for `domain` prices, all clear. Memory is zeroed lazily by the allocator.
    ///
    /// # Panics
    /// If `domain` needs more than `LEVELS_MAX` levels (2^36 indices or more).
    pub fn new(domain: usize) -> PriceBitmap {
        let mut start = [0; LEVELS_MAX];
        let mut depth = 0;
        let mut total = 0;
        let mut bits = domain.max(1);
        loop {
            assert!(depth < LEVELS_MAX, "bitmap domain {domain} too large");
            let words = bits.div_ceil(64);
            start[depth] = total;
            total += words;
            depth += 1;
            if words == 1 {
                break;
            }
            bits = words;
        }
        PriceBitmap {
            words: vec![0u64; total].into_boxed_slice(),
            start,
            depth,
        }
    }

    /// The word of `level` holding bit `index` of that level. An index beyond the level would
    /// read the next level's words, so callers keep indices below the domain.
    #[inline(always)]
    fn word(&self, level: usize, index: usize) -> u64 {
        debug_assert!(
            index / 64 < self.level_words(level),
            "index {index} beyond the domain"
        );
        self.words[self.start[level] + index / 64]
    }

    #[inline(always)]
    fn word_mut(&mut self, level: usize, index: usize) -> &mut u64 {
        debug_assert!(
            index / 64 < self.level_words(level),
            "index {index} beyond the domain"
        );
        &mut self.words[self.start[level] + index / 64]
    }

    /// Words in `level`.
    #[inline(always)]
    fn level_words(&self, level: usize) -> usize {
        let end = if level + 1 < self.depth {
            self.start[level + 1]
        } else {
            self.words.len()
        };
        end - self.start[level]
    }

    #[inline]
    pub fn contains(&self, index: usize) -> bool {
        self.word(0, index) & (1u64 << (index % 64)) != 0
    }

    #[inline(always)]
    pub fn set(&mut self, index: usize) {
        let mut index = index;
        for level in 0..self.depth {
            let word = self.word_mut(level, index);
            let was_empty = *word == 0;
            *word |= 1u64 << (index % 64);
            if !was_empty {
                return;
            }
            index /= 64;
        }
    }

    #[inline(always)]
    pub fn clear(&mut self, index: usize) {
        let mut index = index;
        for level in 0..self.depth {
            let word = self.word_mut(level, index);
            *word &= !(1u64 << (index % 64));
            if *word != 0 {
                return;
            }
            index /= 64;
        }
    }

    /// The smallest set index: one word per level, from the single top word down.
    #[inline(always)]
    pub fn first(&self) -> Option<usize> {
        let top = self.depth - 1;
        let word = self.word(top, 0);
        if word == 0 {
            return None;
        }
        Some(self.descend_lowest(top, word.trailing_zeros() as usize))
    }

    /// The smallest set index ≥ `from`.
    #[inline]
    pub fn next_at_or_after(&self, from: usize) -> Option<usize> {
        let mut level = 0;
        let mut index = from;
        // Ascend until a word holds a set bit at or after the position.
        let found = loop {
            let w = index / 64;
            if w >= self.level_words(level) {
                return None;
            }
            let word = self.word(level, index) & (!0u64 << (index % 64));
            if word != 0 {
                break w * 64 + word.trailing_zeros() as usize;
            }
            level += 1;
            if level == self.depth {
                return None;
            }
            index = w + 1;
        };
        Some(self.descend_lowest(level, found))
    }

    /// The largest set index ≤ `from`.
    #[inline]
    pub fn prev_at_or_before(&self, from: usize) -> Option<usize> {
        let mut level = 0;
        let mut index = from;
        let found = loop {
            let w = index / 64;
            let word = self.word(level, index) & (!0u64 >> (63 - index % 64));
            if word != 0 {
                break w * 64 + 63 - word.leading_zeros() as usize;
            }
            level += 1;
            if level == self.depth || w == 0 {
                return None;
            }
            index = w - 1;
        };
        Some(self.descend_highest(level, found))
    }

    #[inline]
    fn descend_lowest(&self, mut level: usize, mut index: usize) -> usize {
        while level > 0 {
            level -= 1;
            let word = self.words[self.start[level] + index];
            debug_assert!(word != 0, "summary bit set over an empty word");
            index = index * 64 + word.trailing_zeros() as usize;
        }
        index
    }

    #[inline]
    fn descend_highest(&self, mut level: usize, mut index: usize) -> usize {
        while level > 0 {
            level -= 1;
            let word = self.words[self.start[level] + index];
            debug_assert!(word != 0, "summary bit set over an empty word");
            index = index * 64 + 63 - word.leading_zeros() as usize;
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        #[test]
        fn agrees_with_an_ordered_set(
            ops in prop::collection::vec((0usize..300_000, any::<bool>()), 1..200),
            probes in prop::collection::vec(0usize..300_000, 1..50),
        ) {
            let mut bitmap = PriceBitmap::new(300_000);
            let mut model = BTreeSet::new();
            for (index, insert) in ops {
                if insert {
                    bitmap.set(index);
                    model.insert(index);
                } else {
                    bitmap.clear(index);
                    model.remove(&index);
                }
            }
            for probe in probes {
                let next = model.range(probe..).next().copied();
                let prev = model.range(..=probe).next_back().copied();
                prop_assert_eq!(bitmap.next_at_or_after(probe), next);
                prop_assert_eq!(bitmap.prev_at_or_before(probe), prev);
                prop_assert_eq!(bitmap.contains(probe), model.contains(&probe));
            }
            prop_assert_eq!(bitmap.first(), model.first().copied());
        }
    }

    #[test]
    fn every_level_boundary_agrees_with_an_ordered_set() {
        for domain in [1, 63, 64, 65, 4_095, 4_096, 4_097, 262_145] {
            let mut bitmap = PriceBitmap::new(domain);
            let mut model = BTreeSet::new();
            let picks = [0, 1, 62, 63, 64, 4_095, 4_096, 262_143, 262_144];
            for &index in picks.iter().filter(|&&i| i < domain) {
                bitmap.set(index);
                model.insert(index);
            }
            for probe in (0..domain).step_by(1 + domain / 500).chain([domain - 1]) {
                let next = model.range(probe..).next().copied();
                let prev = model.range(..=probe).next_back().copied();
                assert_eq!(bitmap.next_at_or_after(probe), next, "domain {domain}");
                assert_eq!(bitmap.prev_at_or_before(probe), prev, "domain {domain}");
            }
            assert_eq!(bitmap.first(), Some(0), "domain {domain}");
            for &index in model.iter() {
                bitmap.clear(index);
            }
            assert_eq!(bitmap.first(), None, "domain {domain}");
            assert_eq!(bitmap.next_at_or_after(0), None, "domain {domain}");
        }
    }

    #[test]
    fn empty_bitmap_finds_nothing() {
        let bitmap = PriceBitmap::new(1000);
        assert_eq!(bitmap.next_at_or_after(0), None);
        assert_eq!(bitmap.prev_at_or_before(999), None);
        assert_eq!(bitmap.first(), None);
    }
}

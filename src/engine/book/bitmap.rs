//! A hierarchical bitmap over a price domain: which prices have a level on one side. The order
//! pool uses one over its slots too (which slots are free).
//!
//! Level 0 has one bit per price; each word of level k has its bit set in level k+1. Finding the
//! next occupied price above or below any price touches one word per level (4 words for a domain
//! of 16M ticks), so the best price after a level empties is found in a few nanoseconds.

/// Occupied prices of one side of a book. Indices are price offsets within the book's domain.
pub struct PriceBitmap {
    levels: Vec<Vec<u64>>,
}

impl PriceBitmap {
    /// A bitmap for `domain` prices, all clear. Memory is zeroed lazily by the allocator.
    pub fn new(domain: usize) -> PriceBitmap {
        let mut levels = Vec::new();
        let mut bits = domain.max(1);
        loop {
            let words = bits.div_ceil(64);
            levels.push(vec![0u64; words]);
            if words == 1 {
                break;
            }
            bits = words;
        }
        PriceBitmap { levels }
    }

    #[inline]
    pub fn contains(&self, index: usize) -> bool {
        self.levels[0][index / 64] & (1u64 << (index % 64)) != 0
    }

    #[inline]
    pub fn set(&mut self, index: usize) {
        let mut index = index;
        for level in self.levels.iter_mut() {
            let word = &mut level[index / 64];
            let was_empty = *word == 0;
            *word |= 1u64 << (index % 64);
            if !was_empty {
                return;
            }
            index /= 64;
        }
    }

    #[inline]
    pub fn clear(&mut self, index: usize) {
        let mut index = index;
        for level in self.levels.iter_mut() {
            let word = &mut level[index / 64];
            *word &= !(1u64 << (index % 64));
            if *word != 0 {
                return;
            }
            index /= 64;
        }
    }

    /// The smallest set index: one word per level, from the single top word down.
    #[inline]
    pub fn first(&self) -> Option<usize> {
        let top = self.levels.len() - 1;
        // The construction loop stops at a level of exactly one word.
        let word = self.levels[top][0];
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
            let words = &self.levels[level];
            let w = index / 64;
            if w >= words.len() {
                return None;
            }
            let word = words[w] & (!0u64 << (index % 64));
            if word != 0 {
                break w * 64 + word.trailing_zeros() as usize;
            }
            level += 1;
            if level == self.levels.len() {
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
            let words = &self.levels[level];
            let w = index / 64;
            let word = words[w] & (!0u64 >> (63 - index % 64));
            if word != 0 {
                break w * 64 + 63 - word.leading_zeros() as usize;
            }
            level += 1;
            if level == self.levels.len() || w == 0 {
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
            let word = self.levels[level][index];
            debug_assert!(word != 0, "summary bit set over an empty word");
            index = index * 64 + word.trailing_zeros() as usize;
        }
        index
    }

    #[inline]
    fn descend_highest(&self, mut level: usize, mut index: usize) -> usize {
        while level > 0 {
            level -= 1;
            let word = self.levels[level][index];
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
    fn empty_bitmap_finds_nothing() {
        let bitmap = PriceBitmap::new(1000);
        assert_eq!(bitmap.next_at_or_after(0), None);
        assert_eq!(bitmap.prev_at_or_before(999), None);
        assert_eq!(bitmap.first(), None);
    }
}

//! ClOrdIDs that finished orders used, kept for a bounded window so a client that resends an
//! order (after a reconnect, say) with the same ClOrdID is rejected as a duplicate instead of
//! trading twice. The window holds the last `capacity` retired (account, ClOrdID) pairs across
//! the venue; older ones may be reused. It is engine state: snapshotted and digested.
//!
//! The window's contribution to the state digest is kept up to date as keys come and go, so
//! a digest costs O(1) here rather than O(window): a polynomial hash over the keys in window
//! order, `Σ h(keyᵢ) · B^(len−1−i)` modulo 2⁶⁴ (oldest key at i = 0). Pushing the newest key
//! is `H·B + h(key)`; dropping the oldest subtracts `h(oldest) · B^(len−1)`, a power kept
//! alongside (B is odd, so it has an inverse modulo 2⁶⁴ and the power can step down). Equal
//! windows in equal order always hash equal; a restored window, rebuilt key by key in order,
//! reproduces the hash.

use std::collections::VecDeque;

use super::hash::SlotMap;

/// The last `capacity` retired (account, ClOrdID) pairs, oldest first.
pub struct RetiredClOrdIds {
    set: SlotMap<(u32, u64)>,
    order: VecDeque<(u32, u64)>,
    capacity: usize,
    /// The rolling hash of `order` (see the module documentation).
    hash: u64,
    /// `B^len`, len = `order.len()`.
    power: u64,
}

/// The base of the rolling hash: odd, so invertible modulo 2⁶⁴.
const BASE: u64 = 0x9E37_79B9_7F4A_7C15;
/// `BASE⁻¹` modulo 2⁶⁴ (checked by a test).
const BASE_INVERSE: u64 = inverse_mod_2_64(BASE);

/// The inverse of odd `a` modulo 2⁶⁴ by Newton's iteration (each step doubles the correct
/// low bits; `a` itself is right to 3 bits for odd `a`).
const fn inverse_mod_2_64(a: u64) -> u64 {
    let mut x = a;
    let mut i = 0;
    while i < 5 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

/// A key's term in the rolling hash: SplitMix64's finaliser over both fields.
#[inline]
fn key_hash((account, cl_ord_id): (u32, u64)) -> u64 {
    let mut z = cl_ord_id ^ (account as u64).rotate_left(40) ^ 0xD1B5_4A32_D192_ED03;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl RetiredClOrdIds {
    pub fn new(capacity: usize) -> RetiredClOrdIds {
        RetiredClOrdIds {
            set: SlotMap::with_capacity(capacity.max(1), (0, 0)),
            order: VecDeque::with_capacity(capacity),
            capacity,
            hash: 0,
            power: 1,
        }
    }

    /// Whether `key` was retired within the window.
    #[inline]
    pub fn contains(&self, key: (u32, u64)) -> bool {
        self.capacity > 0 && self.set.get(key).is_some()
    }

    /// Records that `key` finished; forgets the oldest when the window is full.
    #[inline]
    pub fn retire(&mut self, key: (u32, u64)) {
        if self.capacity == 0 || self.set.get(key).is_some() {
            return;
        }
        if self.order.len() == self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(oldest);
                self.power = self.power.wrapping_mul(BASE_INVERSE);
                self.hash = self
                    .hash
                    .wrapping_sub(key_hash(oldest).wrapping_mul(self.power));
            }
        }
        self.order.push_back(key);
        self.hash = self.hash.wrapping_mul(BASE).wrapping_add(key_hash(key));
        self.power = self.power.wrapping_mul(BASE);
        let inserted = self.set.insert(key, 1);
        debug_assert!(inserted.is_ok(), "the set holds at most `capacity` keys");
    }

    /// The rolling hash of the window, keys in order (what the state digest folds in).
    pub fn window_hash(&self) -> u64 {
        self.hash
    }

    /// Retired keys, oldest first (snapshot order).
    pub fn iter(&self) -> impl Iterator<Item = &(u32, u64)> {
        self.order.iter()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_capacity_keys() {
        let mut retired = RetiredClOrdIds::new(2);
        retired.retire((1, 10));
        retired.retire((1, 11));
        retired.retire((2, 10));
        assert!(!retired.contains((1, 10)));
        assert!(retired.contains((1, 11)));
        assert!(retired.contains((2, 10)));
        assert_eq!(
            retired.iter().copied().collect::<Vec<_>>(),
            [(1, 11), (2, 10)]
        );
    }

    #[test]
    fn the_base_inverse_is_an_inverse() {
        assert_eq!(BASE.wrapping_mul(BASE_INVERSE), 1);
    }

    /// The rolling hash equals the hash of the window computed from scratch, whatever slid out.
    #[test]
    fn the_rolling_hash_equals_a_fresh_hash_of_the_window() {
        let mut rolling = RetiredClOrdIds::new(5);
        for i in 0..40u64 {
            rolling.retire(((i % 3) as u32, i * 7));
            let mut fresh = RetiredClOrdIds::new(5);
            for key in rolling.iter() {
                fresh.retire(*key);
            }
            assert_eq!(rolling.window_hash(), fresh.window_hash(), "after {i}");
            assert_eq!(rolling.power, fresh.power);
        }
    }

    #[test]
    fn the_rolling_hash_depends_on_the_order() {
        let mut ab = RetiredClOrdIds::new(4);
        ab.retire((1, 1));
        ab.retire((1, 2));
        let mut ba = RetiredClOrdIds::new(4);
        ba.retire((1, 2));
        ba.retire((1, 1));
        assert_ne!(ab.window_hash(), ba.window_hash());
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let mut retired = RetiredClOrdIds::new(0);
        retired.retire((1, 1));
        assert!(!retired.contains((1, 1)));
    }
}

//! Every (account, ClOrdID) the venue must recognise: those of live orders, which name the
//! order, and those of finished orders within a bounded window, so a client that resends an
//! order (after a reconnect, say) with the same ClOrdID is rejected as a duplicate instead of
//! trading twice. The window holds the last `capacity` retired pairs across the venue; older
//! ones may be reused. The window is engine state: snapshotted and digested.
//!
//! One map holds both kinds, a retired key keeping its bucket with the value [`RETIRED`]: an
//! order finishing turns its key into a retired one in place, in the cache line just read, and
//! a duplicate check is one lookup.
//!
//! A per-account high-water mark skips even that lookup for the common case: clients number
//! orders upwards, and a ClOrdID above the highest one indexed for its account (client ids and
//! quote keys apart) cannot be live or retired. It is a filter, not state: it never changes an
//! answer, so it is neither snapshotted nor digested (a restore rebuilds it from the keys).
//!
//! The window's contribution to the state digest is kept up to date as keys come and go, so
//! a digest costs O(1) here rather than O(window): a polynomial hash over the keys in window
//! order, `Σ h(keyᵢ) · B^(len−1−i)` modulo 2⁶⁴ (oldest key at i = 0). Pushing the newest key
//! is `H·B + h(key)`; dropping the oldest subtracts `h(oldest) · B^(len−1)`, a power kept
//! alongside (B is odd, so it has an inverse modulo 2⁶⁴ and the power can step down). Equal
//! windows in equal order always hash equal; a restored window, rebuilt key by key in order,
//! reproduces the hash.

use std::collections::VecDeque;

use super::hash::{MapFull, SlotMap};
use super::quote::is_quote_cl_ord_id;

/// (account, ClOrdID).
pub type ClKey = (u32, u64);

/// How many of an account's next ClOrdIDs a new live key prefetches.
const PREFETCH_AHEAD: u64 = 3;

/// The map value of a retired key (never a pool slot: pools are far smaller).
const RETIRED: u32 = u32::MAX - 1;

/// What the venue knows of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClOrdIdState {
    Unused,
    /// Names the live order in this pool slot.
    Live(u32),
    /// A finished order's, within the window.
    Retired,
}

/// Live and recently retired (account, ClOrdID) keys.
pub struct ClOrdIds {
    map: SlotMap<ClKey>,
    /// Retired keys, oldest first.
    window: VecDeque<ClKey>,
    capacity: usize,
    /// The rolling hash of `window` (see the module documentation).
    hash: u64,
    /// `B^len`, len = `window.len()`.
    power: u64,
    /// Per account: the highest client ClOrdID and the highest quote key indexed.
    high: Vec<[u64; 2]>,
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
fn key_hash((account, cl_ord_id): ClKey) -> u64 {
    let mut z = cl_ord_id ^ (account as u64).rotate_left(40) ^ 0xD1B5_4A32_D192_ED03;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl ClOrdIds {
    /// Room for `max_live` live orders' keys and a window of `capacity` retired ones, for
    /// accounts below `max_accounts`.
    pub fn new(max_live: usize, capacity: usize, max_accounts: usize) -> ClOrdIds {
        ClOrdIds {
            map: SlotMap::with_capacity(max_live + capacity, (0, 0)),
            window: VecDeque::with_capacity(capacity),
            capacity,
            hash: 0,
            power: 1,
            high: vec![[0; 2]; max_accounts],
        }
    }

    /// What `key` names. ClOrdID 0 (none given) is always unused.
    #[inline]
    pub fn state(&self, key: ClKey) -> ClOrdIdState {
        if key.1 == 0 || key.1 > self.high_of(key) {
            return ClOrdIdState::Unused;
        }
        match self.map.get(key) {
            None => ClOrdIdState::Unused,
            Some(RETIRED) => ClOrdIdState::Retired,
            Some(slot) => ClOrdIdState::Live(slot),
        }
    }

    /// The live order `key` names.
    #[inline]
    pub fn live(&self, key: ClKey) -> Option<u32> {
        match self.state(key) {
            ClOrdIdState::Live(slot) => Some(slot),
            _ => None,
        }
    }

    /// Whether `key` names a live order or one retired within the window.
    #[inline]
    pub fn used(&self, key: ClKey) -> bool {
        self.state(key) != ClOrdIdState::Unused
    }

    #[inline]
    fn high_of(&self, (account, cl_ord_id): ClKey) -> u64 {
        self.high
            .get(account as usize)
            .map_or(u64::MAX, |h| h[is_quote_cl_ord_id(cl_ord_id) as usize])
    }

    #[inline]
    fn raise_high(&mut self, (account, cl_ord_id): ClKey) {
        let high = &mut self.high[account as usize][is_quote_cl_ord_id(cl_ord_id) as usize];
        *high = (*high).max(cl_ord_id);
    }

    /// Indexes a live order's key (which must be unused).
    ///
    /// # Errors
    /// `MapFull` when more keys than the map was sized for are present.
    #[inline]
    pub fn insert_live(&mut self, key: ClKey, slot: u32) -> Result<(), MapFull> {
        debug_assert!(slot != RETIRED);
        self.raise_high(key);
        let inserted = self.map.insert(key, slot);
        // Clients number orders upwards (cancels and amends take ids too): this account's
        // next keys most likely follow, and their buckets (in a table of tens of MiB) are out
        // of cache until fetched.
        for ahead in 1..=PREFETCH_AHEAD {
            self.map.prefetch((key.0, key.1.wrapping_add(ahead)));
        }
        inserted
    }

    /// Forgets a live order's key without retiring it (quote keys are reused by design).
    #[inline]
    pub fn remove_live(&mut self, key: ClKey) {
        self.map.remove(key);
    }

    /// The live order of `key` finished: its key joins the window, and the oldest retired key
    /// leaves it when the window is full. With no window, the key is simply forgotten.
    #[inline]
    pub fn retire(&mut self, key: ClKey) {
        if self.capacity == 0 {
            self.map.remove(key);
            return;
        }
        if self.window.len() == self.capacity {
            if let Some(oldest) = self.window.pop_front() {
                self.map.remove(oldest);
                // The next key to leave is known now; its bucket is long out of cache.
                if let Some(&next) = self.window.front() {
                    self.map.prefetch(next);
                }
                self.power = self.power.wrapping_mul(BASE_INVERSE);
                self.hash = self
                    .hash
                    .wrapping_sub(key_hash(oldest).wrapping_mul(self.power));
            }
        }
        self.window.push_back(key);
        self.hash = self.hash.wrapping_mul(BASE).wrapping_add(key_hash(key));
        self.power = self.power.wrapping_mul(BASE);
        let inserted = self.map.insert(key, RETIRED);
        debug_assert!(inserted.is_ok(), "the map has room for the whole window");
    }

    /// A snapshot's retired key, in window order: [`ClOrdIds::retire`] for a key that was
    /// never live here, so the high-water mark must learn it too.
    pub fn restore_retired(&mut self, key: ClKey) {
        self.raise_high(key);
        self.retire(key);
    }

    /// The rolling hash of the window, keys in order (what the state digest folds in).
    pub fn window_hash(&self) -> u64 {
        self.hash
    }

    /// Retired keys, oldest first (snapshot order).
    pub fn retired(&self) -> impl Iterator<Item = &ClKey> {
        self.window.iter()
    }

    /// Retired keys in the window.
    pub fn retired_len(&self) -> usize {
        self.window.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_capacity_keys() {
        let mut retired = ClOrdIds::new(0, 2, 4);
        retired.restore_retired((1, 10));
        retired.restore_retired((1, 11));
        retired.restore_retired((2, 10));
        assert!(!retired.used((1, 10)));
        assert!(retired.used((1, 11)));
        assert!(retired.used((2, 10)));
        assert_eq!(
            retired.retired().copied().collect::<Vec<_>>(),
            [(1, 11), (2, 10)]
        );
    }

    #[test]
    fn a_live_key_retires_in_place_and_leaves_with_the_window() {
        let mut ids = ClOrdIds::new(4, 1, 4);
        ids.insert_live((1, 7), 3).unwrap();
        assert_eq!(ids.state((1, 7)), ClOrdIdState::Live(3));
        assert_eq!(
            ids.state((1, 5)),
            ClOrdIdState::Unused,
            "below the mark: looked up"
        );
        assert_eq!(ids.state((2, 7)), ClOrdIdState::Unused, "another account's");
        ids.retire((1, 7));
        assert_eq!(ids.state((1, 7)), ClOrdIdState::Retired);
        assert_eq!(ids.live((1, 7)), None);
        ids.insert_live((1, 3), 0).unwrap();
        assert_eq!(
            ids.state((1, 3)),
            ClOrdIdState::Live(0),
            "a lower id after a higher one"
        );
        ids.retire((1, 3));
        assert_eq!(
            ids.state((1, 7)),
            ClOrdIdState::Unused,
            "slid out of a window of one"
        );
        assert_eq!(ids.state((1, 3)), ClOrdIdState::Retired);
        assert_eq!(ids.state((1, 0)), ClOrdIdState::Unused, "no ClOrdID");
    }

    #[test]
    fn the_base_inverse_is_an_inverse() {
        assert_eq!(BASE.wrapping_mul(BASE_INVERSE), 1);
    }

    /// The rolling hash equals the hash of the window computed from scratch, whatever slid out.
    #[test]
    fn the_rolling_hash_equals_a_fresh_hash_of_the_window() {
        let mut rolling = ClOrdIds::new(0, 5, 4);
        for i in 0..40u64 {
            rolling.restore_retired(((i % 3) as u32, i * 7));
            let mut fresh = ClOrdIds::new(0, 5, 4);
            for key in rolling.retired() {
                fresh.restore_retired(*key);
            }
            assert_eq!(rolling.window_hash(), fresh.window_hash(), "after {i}");
            assert_eq!(rolling.power, fresh.power);
        }
    }

    #[test]
    fn the_rolling_hash_depends_on_the_order() {
        let mut ab = ClOrdIds::new(0, 4, 4);
        ab.restore_retired((1, 1));
        ab.restore_retired((1, 2));
        let mut ba = ClOrdIds::new(0, 4, 4);
        ba.restore_retired((1, 2));
        ba.restore_retired((1, 1));
        assert_ne!(ab.window_hash(), ba.window_hash());
    }

    #[test]
    fn zero_capacity_remembers_nothing() {
        let mut retired = ClOrdIds::new(0, 0, 4);
        retired.restore_retired((1, 1));
        assert!(!retired.used((1, 1)));
    }
}

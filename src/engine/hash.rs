//! A fixed-capacity open-addressing map from small integer keys to pool slots.
//!
//! Linear probing with backward-shift deletion (no tombstones), a multiplicative hash with no
//! random seed (the engine must be deterministic; nothing iterates this map), and a capacity
//! fixed at start-up: inserting beyond `max_entries` is refused, never a reallocation.

use super::memory::huge_page_vec;

/// A key the map can hold.
pub trait MapKey: Copy + Eq {
    /// The key's home bucket in a table of `mask + 1` buckets (a power of two, 2^(64 − shift)).
    fn home(&self, shift: u32, mask: usize) -> usize;
}

impl MapKey for u64 {
    #[inline]
    fn home(&self, shift: u32, _mask: usize) -> usize {
        (mix(*self) >> shift) as usize
    }
}

/// ClOrdIDs whose values differ only in these low bits share a run of neighbouring buckets.
const RUN_BITS: u32 = 5;

/// (account, ClOrdID). Clients number orders upwards, and a table sized for the whole order
/// pool spans tens of MiB, where a bucket picked at random is a cache miss on every insert,
/// lookup and removal. So each account's ClOrdIDs are placed in runs of 2^`RUN_BITS`: the
/// run's start is hashed from (account, ClOrdID without its low bits), the low bits step
/// through neighbouring buckets. Consecutive ids then share cache lines, while ids far apart
/// (strides, time stamps) still land at unrelated places; a run is short enough that two runs
/// that meet cost a few probes, not a scan.
impl MapKey for (u32, u64) {
    #[inline]
    fn home(&self, shift: u32, mask: usize) -> usize {
        let run = mix((self.1 >> RUN_BITS) ^ (self.0 as u64).rotate_left(40)) >> shift;
        (run as usize + (self.1 & ((1 << RUN_BITS) - 1)) as usize) & mask
    }
}

/// Fibonacci hashing: multiply by 2^64 / φ. The product's top bits depend on every bit of the
/// key, its low bits only on the key's low bits, so `home` takes the bucket from the top bits.
#[inline]
fn mix(key: u64) -> u64 {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

const EMPTY: u32 = u32::MAX;

/// The map is full: `max_entries` keys are present.
#[derive(Debug, PartialEq, Eq)]
pub struct MapFull;

/// One bucket: the key beside its value, so a probe touches one cache line, not two.
#[derive(Clone, Copy)]
struct Bucket<K> {
    key: K,
    value: u32,
}

/// Key → `u32` slot map with a fixed capacity.
pub struct SlotMap<K: MapKey> {
    buckets: Vec<Bucket<K>>,
    mask: usize,
    /// `64 − log2(buckets)`: shifting the hash right by it leaves the top bits as the bucket.
    shift: u32,
    len: usize,
    max_entries: usize,
}

impl<K: MapKey> SlotMap<K> {
    /// A map for up to `max_entries` keys; buckets are the next power of two ≥ 1.5 × that, so
    /// a full map is at most 2/3 loaded (linear probing stays short) and the table, filled
    /// at start-up, is no bigger than it needs to be.
    pub fn with_capacity(max_entries: usize, filler: K) -> SlotMap<K> {
        let buckets = (max_entries.max(4) * 3 / 2).next_power_of_two();
        SlotMap {
            buckets: huge_page_vec(
                buckets,
                Bucket {
                    key: filler,
                    value: EMPTY,
                },
            ),
            mask: buckets - 1,
            shift: u64::BITS - buckets.trailing_zeros(),
            len: 0,
            max_entries,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn home(&self, key: &K) -> usize {
        key.home(self.shift, self.mask)
    }

    /// The slot stored for `key`.
    #[inline]
    pub fn get(&self, key: K) -> Option<u32> {
        let mut i = self.home(&key);
        loop {
            let bucket = &self.buckets[i];
            if bucket.value == EMPTY {
                return None;
            }
            if bucket.key == key {
                return Some(bucket.value);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Inserts or overwrites `key`.
    ///
    /// # Errors
    /// `MapFull` when the key is new and `max_entries` keys are present.
    #[inline]
    pub fn insert(&mut self, key: K, value: u32) -> Result<(), MapFull> {
        debug_assert!(value != EMPTY);
        let mut i = self.home(&key);
        loop {
            let bucket = &mut self.buckets[i];
            if bucket.value == EMPTY {
                if self.len == self.max_entries {
                    return Err(MapFull);
                }
                *bucket = Bucket { key, value };
                self.len += 1;
                return Ok(());
            }
            if bucket.key == key {
                bucket.value = value;
                return Ok(());
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Asks the CPU to start loading `key`'s home bucket, for a lookup due soon (a hint: no
    /// effect on results).
    #[inline]
    pub fn prefetch(&self, key: K) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let bucket: *const Bucket<K> = &self.buckets[self.home(&key)];
            // A bucket may straddle two cache lines: fetch both ends.
            let last = bucket.cast::<u8>().wrapping_add(size_of::<Bucket<K>>() - 1);
            // SAFETY: a prefetch never faults and reads nothing; the addresses are in bounds.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(bucket.cast());
                _mm_prefetch::<_MM_HINT_T0>(last.cast());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = key;
    }

    /// Removes `key`, returning its slot.
    #[inline]
    pub fn remove(&mut self, key: K) -> Option<u32> {
        let mut i = self.home(&key);
        loop {
            let Bucket { key: found, value } = self.buckets[i];
            if value == EMPTY {
                return None;
            }
            if found == key {
                self.shift_back(i);
                self.len -= 1;
                return Some(value);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Closes the hole at `hole` by moving later entries of the probe run back into it.
    fn shift_back(&mut self, mut hole: usize) {
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let moved = self.buckets[j];
            if moved.value == EMPTY {
                break;
            }
            let home = self.home(&moved.key);
            let distance_from_home = j.wrapping_sub(home) & self.mask;
            let distance_from_hole = j.wrapping_sub(hole) & self.mask;
            if distance_from_home >= distance_from_hole {
                self.buckets[hole] = moved;
                hole = j;
            }
        }
        self.buckets[hole].value = EMPTY;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn insert_beyond_capacity_is_refused() {
        let mut map = SlotMap::with_capacity(2, 0u64);
        map.insert(1, 10).unwrap();
        map.insert(2, 20).unwrap();
        assert_eq!(map.insert(3, 30), Err(MapFull));
        map.insert(2, 21).unwrap();
        assert_eq!(map.get(2), Some(21));
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(
            ops in prop::collection::vec((0u64..64, any::<bool>()), 0..400),
        ) {
            let mut map = SlotMap::with_capacity(64, 0u64);
            let mut model = HashMap::new();
            for (i, (key, insert)) in ops.into_iter().enumerate() {
                if insert {
                    map.insert(key, i as u32).unwrap();
                    model.insert(key, i as u32);
                } else {
                    prop_assert_eq!(map.remove(key), model.remove(&key));
                }
                prop_assert_eq!(map.len(), model.len());
            }
            for key in 0..64u64 {
                prop_assert_eq!(map.get(key), model.get(&key).copied());
            }
        }

        /// (account, ClOrdID) keys placed in runs: consecutive ids, runs that meet and wrap
        /// around the end of a small table.
        #[test]
        fn account_keys_behave_like_a_hash_map(
            ops in prop::collection::vec((0u32..3, 0u64..200, any::<bool>()), 0..600),
        ) {
            let mut map = SlotMap::with_capacity(100, (0u32, 0u64));
            let mut model = HashMap::new();
            for (i, (account, cl_ord_id, insert)) in ops.into_iter().enumerate() {
                let key = (account, cl_ord_id);
                if insert && (model.len() < 100 || model.contains_key(&key)) {
                    map.insert(key, i as u32).unwrap();
                    model.insert(key, i as u32);
                } else if !insert {
                    prop_assert_eq!(map.remove(key), model.remove(&key));
                }
                prop_assert_eq!(map.len(), model.len());
            }
            for account in 0..3u32 {
                for cl_ord_id in 0..200u64 {
                    let key = (account, cl_ord_id);
                    prop_assert_eq!(map.get(key), model.get(&key).copied());
                }
            }
        }
    }
}

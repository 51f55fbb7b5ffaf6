//! ClOrdIDs that finished orders used, kept for a bounded window so a client that resends an
//! order (after a reconnect, say) with the same ClOrdID is rejected as a duplicate instead of
//! trading twice. The window holds the last `capacity` retired (account, ClOrdID) pairs across
//! the venue; older ones may be reused. It is engine state: snapshotted and digested.

use std::collections::VecDeque;

use super::hash::SlotMap;

/// The last `capacity` retired (account, ClOrdID) pairs, oldest first.
pub struct RetiredClOrdIds {
    set: SlotMap<(u32, u64)>,
    order: VecDeque<(u32, u64)>,
    capacity: usize,
}

impl RetiredClOrdIds {
    pub fn new(capacity: usize) -> RetiredClOrdIds {
        RetiredClOrdIds {
            set: SlotMap::with_capacity(capacity.max(1), (0, 0)),
            order: VecDeque::with_capacity(capacity),
            capacity,
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
            }
        }
        self.order.push_back(key);
        let inserted = self.set.insert(key, 1);
        debug_assert!(inserted.is_ok(), "the set holds at most `capacity` keys");
    }

    /// Retired keys, oldest first (snapshot and digest order).
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
    fn zero_capacity_remembers_nothing() {
        let mut retired = RetiredClOrdIds::new(0);
        retired.retire((1, 1));
        assert!(!retired.contains((1, 1)));
    }
}

//! Liquidation candidates of one perpetual, ordered by trigger price: a mark move visits only
//! the accounts whose trigger it crossed (plus those sharing the boundary bucket), never the
//! whole position table.
//!
//! Two bucketed lists: "falls" (liquidatable when the mark is at or below the trigger, longs)
//! and "rises" (at or above, shorts). Buckets are `2^shift` ticks wide, with at most
//! `BUCKETS_MAX` of them over the instrument's price domain; a hierarchical bitmap finds the
//! next non-empty bucket. Each account is in at most one list, through a node in a table sized
//! to the account capacity at start-up: inserting and removing never allocate.
//!
//! The index is derived state: it is rebuilt from positions and balances after a snapshot
//! restore, and the order of accounts within a bucket carries no meaning (callers sort the
//! candidates they collect).

use super::price::Trigger;
use crate::engine::account::NIL;
use crate::engine::book::bitmap::PriceBitmap;
use crate::engine::types::PriceTicks;

/// Most buckets per list.
pub const BUCKETS_MAX: usize = 1 << 16;

#[derive(Clone, Copy, Debug)]
struct Node {
    prev: u32,
    next: u32,
    /// 0: in no list, 1: falls, 2: rises.
    list: u8,
    bucket: u32,
    trigger: PriceTicks,
}

const FREE: Node = Node {
    prev: NIL,
    next: NIL,
    list: 0,
    bucket: 0,
    trigger: PriceTicks(0),
};

struct Buckets {
    heads: Vec<u32>,
    occupied: PriceBitmap,
}

impl Buckets {
    fn new(count: usize) -> Buckets {
        Buckets {
            heads: vec![NIL; count],
            occupied: PriceBitmap::new(count),
        }
    }
}

/// See the module comment.
pub struct LiquidationIndex {
    min_price: i64,
    shift: u32,
    count: usize,
    lists: [Buckets; 2],
    nodes: Vec<Node>,
}

impl LiquidationIndex {
    /// An empty index over `[min_price, max_price]` for `max_accounts` accounts.
    pub fn new(min_price: PriceTicks, max_price: PriceTicks, max_accounts: u32) -> Self {
        let domain = (max_price.0 - min_price.0 + 1).max(1) as u64;
        let mut shift = 0;
        while domain.div_ceil(1 << shift) as usize > BUCKETS_MAX {
            shift += 1;
        }
        let count = domain.div_ceil(1 << shift) as usize;
        LiquidationIndex {
            min_price: min_price.0,
            shift,
            count,
            lists: [Buckets::new(count), Buckets::new(count)],
            nodes: vec![FREE; max_accounts as usize],
        }
    }

    fn bucket_of(&self, price: PriceTicks) -> u32 {
        let offset = (price.0 - self.min_price).max(0) as u64 >> self.shift;
        offset.min(self.count as u64 - 1) as u32
    }

    /// Files `account` under `trigger` (replacing any previous entry).
    pub fn set(&mut self, account: u32, trigger: Trigger) {
        self.remove(account);
        let (list, price) = match trigger {
            Trigger::Falls(p) => (1u8, p),
            Trigger::Rises(p) => (2u8, p),
            Trigger::Never => return,
        };
        let bucket = self.bucket_of(price);
        let buckets = &mut self.lists[list as usize - 1];
        let head = buckets.heads[bucket as usize];
        self.nodes[account as usize] = Node {
            prev: NIL,
            next: head,
            list,
            bucket,
            trigger: price,
        };
        if head != NIL {
            self.nodes[head as usize].prev = account;
        }
        buckets.heads[bucket as usize] = account;
        buckets.occupied.set(bucket as usize);
    }

    /// Takes `account` out of the index.
    pub fn remove(&mut self, account: u32) {
        let node = self.nodes[account as usize];
        if node.list == 0 {
            return;
        }
        let buckets = &mut self.lists[node.list as usize - 1];
        if node.prev == NIL {
            buckets.heads[node.bucket as usize] = node.next;
        } else {
            self.nodes[node.prev as usize].next = node.next;
        }
        if node.next != NIL {
            self.nodes[node.next as usize].prev = node.prev;
        }
        if buckets.heads[node.bucket as usize] == NIL {
            buckets.occupied.clear(node.bucket as usize);
        }
        self.nodes[account as usize] = FREE;
    }

    /// The trigger `account` is filed under.
    pub fn trigger(&self, account: u32) -> Trigger {
        let node = &self.nodes[account as usize];
        match node.list {
            1 => Trigger::Falls(node.trigger),
            2 => Trigger::Rises(node.trigger),
            _ => Trigger::Never,
        }
    }

    /// Calls `visit(account, trigger)` for every account whose trigger `mark` has reached:
    /// falls-triggers at or above the mark and rises-triggers at or below it.
    pub fn for_each_triggered(&self, mark: PriceTicks, mut visit: impl FnMut(u32, PriceTicks)) {
        let at = self.bucket_of(mark) as usize;
        let falls = &self.lists[0];
        let mut bucket = falls.occupied.prev_at_or_before(self.count - 1);
        while let Some(b) = bucket.filter(|b| *b >= at) {
            self.visit_bucket(falls.heads[b], |node| node.trigger >= mark, &mut visit);
            bucket = b
                .checked_sub(1)
                .and_then(|p| falls.occupied.prev_at_or_before(p));
        }
        let rises = &self.lists[1];
        let mut bucket = rises.occupied.next_at_or_after(0);
        while let Some(b) = bucket.filter(|b| *b <= at) {
            self.visit_bucket(rises.heads[b], |node| node.trigger <= mark, &mut visit);
            bucket = rises.occupied.next_at_or_after(b + 1);
        }
    }

    fn visit_bucket(
        &self,
        head: u32,
        reached: impl Fn(&Node) -> bool,
        visit: &mut impl FnMut(u32, PriceTicks),
    ) {
        let mut account = head;
        while account != NIL {
            let node = &self.nodes[account as usize];
            if reached(node) {
                visit(account, node.trigger);
            }
            account = node.next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triggered(index: &LiquidationIndex, mark: i64) -> Vec<u32> {
        let mut out = Vec::new();
        index.for_each_triggered(PriceTicks(mark), |a, _| out.push(a));
        out.sort_unstable();
        out
    }

    #[test]
    fn a_mark_move_visits_only_crossed_triggers() {
        let mut index = LiquidationIndex::new(PriceTicks(10), PriceTicks(10_000_000), 16);
        index.set(1, Trigger::Falls(PriceTicks(950_000)));
        index.set(2, Trigger::Falls(PriceTicks(900_000)));
        index.set(3, Trigger::Rises(PriceTicks(1_050_000)));
        index.set(4, Trigger::Rises(PriceTicks(1_100_000)));
        assert!(triggered(&index, 1_000_000).is_empty());
        assert_eq!(triggered(&index, 950_000), vec![1]);
        assert_eq!(triggered(&index, 899_999), vec![1, 2]);
        assert_eq!(triggered(&index, 1_060_000), vec![3]);
        // Within one bucket the exact trigger decides.
        assert!(triggered(&index, 950_001).is_empty());
    }

    #[test]
    fn set_replaces_and_remove_empties() {
        let mut index = LiquidationIndex::new(PriceTicks(1), PriceTicks(1_000), 4);
        index.set(0, Trigger::Falls(PriceTicks(500)));
        index.set(0, Trigger::Rises(PriceTicks(600)));
        assert_eq!(index.trigger(0), Trigger::Rises(PriceTicks(600)));
        assert_eq!(triggered(&index, 400), Vec::<u32>::new());
        assert_eq!(triggered(&index, 700), vec![0]);
        index.remove(0);
        assert_eq!(index.trigger(0), Trigger::Never);
        assert!(triggered(&index, 700).is_empty());
        index.set(1, Trigger::Never);
        assert_eq!(index.trigger(1), Trigger::Never);
    }
}

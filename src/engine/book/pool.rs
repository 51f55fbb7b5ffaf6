//! The order pool: a fixed array of order slots. Orders of every instrument and account live
//! here; books and accounts link them by slot index.
//!
//! Allocation always takes the lowest free slot. Order ids encode their slot (`order_ids`), so
//! which slot an order gets is visible state; taking the lowest makes it a function of which
//! slots hold live orders, which a snapshot restores, instead of the history of frees that a
//! free list would remember. It also keeps the live orders packed at the front of the array.

use super::bitmap::PriceBitmap;
use crate::engine::memory::huge_page_vec;
use crate::engine::order::Order;
use crate::engine::types::OrderId;

/// Fixed-capacity storage of live orders.
///
/// Invariant: a slot's bit in `free` is set iff the slot holds no order (`id == OrderId(0)`);
/// `live` is the number of clear bits.
pub struct OrderPool {
    pub orders: Vec<Order>,
    free: PriceBitmap,
    live: u32,
}

impl OrderPool {
    pub fn new(capacity: u32) -> OrderPool {
        let mut free = PriceBitmap::new(capacity as usize);
        for slot in 0..capacity as usize {
            free.set(slot);
        }
        OrderPool {
            orders: huge_page_vec(capacity as usize, Order::EMPTY),
            free,
            live: 0,
        }
    }

    /// Takes the lowest free slot, or `None` when every slot holds a live order.
    #[inline]
    pub fn allocate(&mut self) -> Option<u32> {
        let slot = self.free.first()?;
        self.free.clear(slot);
        self.live += 1;
        Some(slot as u32)
    }

    /// Takes `slot` if it exists and is free (snapshot restore puts each order back in the slot
    /// its id names).
    pub fn allocate_at(&mut self, slot: usize) -> bool {
        if slot >= self.orders.len() || !self.free.contains(slot) {
            return false;
        }
        self.free.clear(slot);
        self.live += 1;
        true
    }

    /// Returns a slot to the free slots. Only the id is cleared: a free slot is known by its
    /// id alone, and entry writes every field of the next order to take the slot.
    #[inline]
    pub fn free(&mut self, slot: u32) {
        debug_assert!(!self.free.contains(slot as usize), "freeing a free slot");
        self.orders[slot as usize].id = OrderId(0);
        self.free.set(slot as usize);
        self.live -= 1;
    }

    #[inline]
    pub fn live(&self) -> u32 {
        self.live
    }

    #[inline]
    pub fn get(&self, slot: u32) -> &Order {
        &self.orders[slot as usize]
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u32) -> &mut Order {
        &mut self.orders[slot as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_takes_the_lowest_free_slot() {
        let mut pool = OrderPool::new(200);
        for expected in 0..130 {
            assert_eq!(pool.allocate(), Some(expected));
        }
        pool.free(70);
        pool.free(3);
        pool.free(129);
        assert_eq!(pool.allocate(), Some(3));
        assert_eq!(pool.allocate(), Some(70));
        assert!(pool.allocate_at(150));
        assert!(!pool.allocate_at(150), "taken");
        assert!(!pool.allocate_at(200), "beyond the pool");
        assert_eq!(pool.allocate(), Some(129));
        assert_eq!(pool.allocate(), Some(130));
        assert_eq!(pool.live(), 132);
    }

    #[test]
    fn a_full_pool_refuses() {
        let mut pool = OrderPool::new(1);
        assert_eq!(pool.allocate(), Some(0));
        assert_eq!(pool.allocate(), None);
    }
}

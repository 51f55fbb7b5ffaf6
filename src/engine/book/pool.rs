//! The order pool: a fixed array of order slots with a free list. Orders of every instrument and
//! account live here; books and accounts link them by slot index.

use crate::engine::account::NIL;
use crate::engine::order::Order;

/// Fixed-capacity storage of live orders.
pub struct OrderPool {
    pub orders: Vec<Order>,
    free_head: u32,
    live: u32,
}

impl OrderPool {
    pub fn new(capacity: u32) -> OrderPool {
        let mut orders = vec![Order::EMPTY; capacity as usize];
        for (i, order) in orders.iter_mut().enumerate() {
            order.next = if i + 1 < capacity as usize {
                i as u32 + 1
            } else {
                NIL
            };
        }
        OrderPool {
            orders,
            free_head: if capacity > 0 { 0 } else { NIL },
            live: 0,
        }
    }

    /// Takes a free slot, or `None` when every slot holds a live order.
    #[inline]
    pub fn allocate(&mut self) -> Option<u32> {
        let slot = self.free_head;
        if slot == NIL {
            return None;
        }
        self.free_head = self.orders[slot as usize].next;
        self.live += 1;
        Some(slot)
    }

    /// Returns a slot to the free list.
    #[inline]
    pub fn free(&mut self, slot: u32) {
        let order = &mut self.orders[slot as usize];
        *order = Order::EMPTY;
        order.next = self.free_head;
        self.free_head = slot;
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

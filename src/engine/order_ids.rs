//! Exchange order ids that name their pool slot: `id = serial << slot_bits | slot`.
//!
//! `serial` is the engine's order counter (1, 2, 3... in entry order) and `slot` the order's
//! pool slot; `slot_bits` is the number of bits needed for `max_orders` slots, fixed at start-up.
//! Finding a live order by id is then one indexed load and one comparison, where a hash map
//! from sequential ids to slots missed the cache on every insert, lookup and removal.
//!
//! Invariants:
//! - ids are unique over the life of the venue and strictly increase in entry order, because the
//!   serial does and sits above the slot bits;
//! - no id is 0 (serials start at 1), so a free pool slot (id 0) never matches a lookup;
//! - an order's id is valid exactly while the order is live in the slot the id names.
//!
//! Limit: serials run out after `2^(64 − slot_bits) − 1` orders (about 1.8e13 with the default
//! 1,000,000 slots: 8 days at 25M orders per second, 5,000 years at 100K per second). From then
//! on new orders are rejected with `RejectReason::OrderIdsExhausted`; cancels and amends of live
//! orders still work.

use super::book::OrderPool;
use super::types::OrderId;

/// Issues order ids and decodes them into pool slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderIds {
    /// Bits of an id that hold the slot: enough for every slot of the pool.
    slot_bits: u32,
    /// The serial the next order gets; starts at 1.
    next_serial: u64,
}

impl OrderIds {
    /// Ids for a pool of `max_orders` slots, the first serial being 1.
    pub fn new(max_orders: u32) -> OrderIds {
        let slot_bits = u32::BITS - max_orders.saturating_sub(1).leading_zeros();
        OrderIds {
            slot_bits,
            next_serial: 1,
        }
    }

    /// The largest serial an id can hold.
    #[inline]
    pub fn max_serial(&self) -> u64 {
        u64::MAX >> self.slot_bits
    }

    /// The serial the next order gets (state: snapshots and digests hold it).
    #[inline]
    pub fn next_serial(&self) -> u64 {
        self.next_serial
    }

    /// Restores the counter from a snapshot.
    pub(crate) fn set_next_serial(&mut self, next_serial: u64) {
        self.next_serial = next_serial;
    }

    /// True when every serial has been issued: new orders must be rejected.
    #[inline]
    pub fn exhausted(&self) -> bool {
        self.next_serial > self.max_serial()
    }

    /// The id of a new order entering `slot`; advances the serial.
    ///
    /// The caller checked `exhausted()` first (a reject, not a panic, at the limit).
    #[inline]
    pub fn issue(&mut self, slot: u32) -> OrderId {
        debug_assert!(!self.exhausted(), "order serials exhausted");
        debug_assert!((slot as u64) < 1u64 << self.slot_bits);
        let id = OrderId(self.next_serial << self.slot_bits | slot as u64);
        self.next_serial += 1;
        id
    }

    /// The pool slot `id` names. It holds that order only if the order is still live.
    #[inline]
    pub fn slot_of(&self, id: OrderId) -> usize {
        // `slot_bits <= 32` (slots are u32), so the shift cannot overflow.
        (id.0 & ((1u64 << self.slot_bits) - 1)) as usize
    }

    /// True when `id` was issued (it may since have finished), false for ids never issued
    /// (serial 0 or in the future). An id with an issued serial but another slot than the order
    /// of that serial got was never issued either; it is still reported as issued, because
    /// telling the two apart would need a record per serial.
    #[inline]
    pub fn was_issued(&self, id: OrderId) -> bool {
        let serial = id.0 >> self.slot_bits;
        serial != 0 && serial < self.next_serial
    }

    /// The slot of the live order `id`, if it is live.
    #[inline]
    pub fn live_slot(&self, pool: &OrderPool, id: OrderId) -> Option<u32> {
        let slot = self.slot_of(id);
        // No id is 0, so a free slot (id 0) only "matches" a query for id 0.
        match pool.orders.get(slot) {
            Some(order) if order.id == id && id.0 != 0 => Some(slot as u32),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_slot_and_increase_with_the_serial() {
        let mut ids = OrderIds::new(10_000);
        assert_eq!(ids.slot_bits, 14);
        let a = ids.issue(9_999);
        let b = ids.issue(0);
        assert!(b > a);
        assert_eq!(ids.slot_of(a), 9_999);
        assert_eq!(ids.slot_of(b), 0);
        assert!(ids.was_issued(a) && ids.was_issued(b));
        assert!(!ids.was_issued(OrderId(999)), "serial 0 is never issued");
        assert!(
            !ids.was_issued(OrderId(3 << 14)),
            "serial 3 is in the future"
        );
    }

    #[test]
    fn slot_bits_cover_exactly_the_pool() {
        assert_eq!(OrderIds::new(1).slot_bits, 0);
        assert_eq!(OrderIds::new(2).slot_bits, 1);
        assert_eq!(OrderIds::new(8_192).slot_bits, 13);
        assert_eq!(OrderIds::new(8_193).slot_bits, 14);
        assert_eq!(OrderIds::new(1_000_000).slot_bits, 20);
        let one = OrderIds::new(1);
        assert_eq!(one.slot_of(OrderId(77)), 0);
        assert_eq!(one.max_serial(), u64::MAX);
    }

    #[test]
    fn serials_run_out_at_the_top_of_the_id() {
        let mut ids = OrderIds::new(1 << 20);
        ids.set_next_serial(ids.max_serial());
        assert!(!ids.exhausted());
        let last = ids.issue((1 << 20) - 1);
        assert_eq!(last, OrderId(u64::MAX));
        assert!(ids.exhausted());
    }
}

//! A price level: a FIFO queue of orders linked through the order pool.

use crate::engine::account::NIL;
use crate::engine::types::{PriceTicks, QtyLots};

/// One price on one side. Invariant: `count == 0` iff `head == NIL` iff the level is free;
/// `qty` is the sum of the open quantity of the queued orders.
#[derive(Clone, Copy, Debug)]
pub struct Level {
    pub price: PriceTicks,
    pub head: u32,
    pub tail: u32,
    pub qty: QtyLots,
    pub count: u32,
    /// Next free level when this one is free.
    pub next_free: u32,
}

impl Level {
    pub const EMPTY: Level = Level {
        price: PriceTicks(0),
        head: NIL,
        tail: NIL,
        qty: QtyLots(0),
        count: 0,
        next_free: NIL,
    };
}

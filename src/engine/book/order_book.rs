//! Both sides of one instrument's book: levels indexed directly by price, a bitmap per side for
//! the next occupied price, FIFO queues of pool slots within a level.

use super::bitmap::PriceBitmap;
use super::level::Level;
use super::pool::OrderPool;
use crate::engine::account::NIL;
use crate::engine::order::Side;
use crate::engine::types::{PriceTicks, QtyLots};

/// Every level of the book is in use.
#[derive(Debug, PartialEq, Eq)]
pub struct BookFull;

/// One instrument's book.
///
/// Invariants: a price has at most one level, on one side (a crossing order matches before it
/// could rest); `best[side]` is the best occupied price or `None`; when both exist,
/// `best bid < best ask` after every command.
pub struct OrderBook {
    min_price: PriceTicks,
    /// Level index + 1 for each price offset; 0 means no level.
    level_of_price: Vec<u32>,
    levels: Vec<Level>,
    free_level: u32,
    occupied: [PriceBitmap; 2],
    best: [Option<PriceTicks>; 2],
}

impl OrderBook {
    /// A book over prices `[min_price, max_price]` with room for `max_levels` levels.
    pub fn new(min_price: PriceTicks, max_price: PriceTicks, max_levels: u32) -> OrderBook {
        let domain = (max_price.0 - min_price.0 + 1) as usize;
        let mut levels = vec![Level::EMPTY; max_levels as usize];
        for (i, level) in levels.iter_mut().enumerate() {
            level.next_free = if i + 1 < max_levels as usize {
                i as u32 + 1
            } else {
                NIL
            };
        }
        OrderBook {
            min_price,
            level_of_price: vec![0u32; domain],
            levels,
            free_level: if max_levels > 0 { 0 } else { NIL },
            occupied: [PriceBitmap::new(domain), PriceBitmap::new(domain)],
            best: [None, None],
        }
    }

    #[inline]
    fn offset(&self, price: PriceTicks) -> usize {
        debug_assert!(price >= self.min_price);
        (price.0 - self.min_price.0) as usize
    }

    /// The best price on `side`: highest bid or lowest ask.
    #[inline]
    pub fn best(&self, side: Side) -> Option<PriceTicks> {
        self.best[side.index()]
    }

    /// The level at `price`, if any (on whichever side holds it).
    #[inline(always)]
    pub fn level_at(&self, price: PriceTicks) -> Option<&Level> {
        match self.level_of_price[self.offset(price)] {
            0 => None,
            n => Some(&self.levels[n as usize - 1]),
        }
    }

    /// Head of the queue at the best price of `side`.
    #[inline]
    pub fn best_head(&self, side: Side) -> Option<u32> {
        let price = self.best(side)?;
        self.level_at(price).map(|level| level.head)
    }

    /// The next occupied price of `side` strictly worse than `price`.
    #[inline]
    pub fn next_worse(&self, side: Side, price: PriceTicks) -> Option<PriceTicks> {
        let offset = self.offset(price);
        let found = match side {
            Side::Buy => offset
                .checked_sub(1)
                .and_then(|o| self.occupied[0].prev_at_or_before(o)),
            Side::Sell => self.occupied[1].next_at_or_after(offset + 1),
        };
        found.map(|o| PriceTicks(self.min_price.0 + o as i64))
    }

    /// True when a new level could be created.
    #[inline]
    pub fn has_free_level(&self) -> bool {
        self.free_level != NIL
    }

    /// Appends the order in `slot` to the back of the queue at its price and side.
    ///
    /// # Errors
    /// `BookFull` when the price has no level and no free level is left; nothing changes.
    #[inline(always)]
    pub fn push_back(&mut self, pool: &mut OrderPool, slot: u32) -> Result<(), BookFull> {
        let (price, side, qty) = {
            let order = pool.get(slot);
            (order.price, order.side, order.open)
        };
        let offset = self.offset(price);
        let level_index = match self.level_of_price[offset] {
            0 => self.create_level(price, side, offset)?,
            n => n - 1,
        };
        let level = &mut self.levels[level_index as usize];
        let tail = level.tail;
        {
            let order = pool.get_mut(slot);
            order.prev = tail;
            order.next = NIL;
        }
        if tail == NIL {
            level.head = slot;
        } else {
            pool.get_mut(tail).next = slot;
        }
        level.tail = slot;
        level.qty += qty;
        level.count += 1;
        Ok(())
    }

    #[inline]
    fn create_level(
        &mut self,
        price: PriceTicks,
        side: Side,
        offset: usize,
    ) -> Result<u32, BookFull> {
        let index = self.free_level;
        if index == NIL {
            return Err(BookFull);
        }
        let level = &mut self.levels[index as usize];
        self.free_level = level.next_free;
        *level = Level {
            price,
            ..Level::EMPTY
        };
        self.level_of_price[offset] = index + 1;
        self.occupied[side.index()].set(offset);
        let best = &mut self.best[side.index()];
        let better = match (side, *best) {
            (_, None) => true,
            (Side::Buy, Some(b)) => price > b,
            (Side::Sell, Some(b)) => price < b,
        };
        if better {
            *best = Some(price);
        }
        Ok(index)
    }

    /// Moves the resting order in `slot` to the back of the queue at `price` with `open` lots,
    /// on the same side; as `remove`, setting the order's price and open quantity, then
    /// `push_back`.
    ///
    /// Most moves take an order that is alone at its level to a price without one: the level
    /// is then re-keyed to the new price instead of being freed and taken again.
    ///
    /// # Errors
    /// `BookFull` when the new price needs a level and none is free; the order is then out of
    /// the book, as after `remove`.
    #[inline(always)]
    pub fn move_to(
        &mut self,
        pool: &mut OrderPool,
        slot: u32,
        price: PriceTicks,
        open: QtyLots,
    ) -> Result<(), BookFull> {
        let order = pool.get(slot);
        let (old_price, side) = (order.price, order.side);
        let alone = order.prev == NIL && order.next == NIL;
        let new_offset = self.offset(price);
        if !alone || price == old_price || self.level_of_price[new_offset] != 0 {
            self.remove(pool, slot);
            let order = pool.get_mut(slot);
            order.price = price;
            order.open = open;
            return self.push_back(pool, slot);
        }
        let old_offset = self.offset(old_price);
        let index = self.level_of_price[old_offset];
        debug_assert!(index != 0, "moving an order that is not in the book");
        let level = &mut self.levels[index as usize - 1];
        level.price = price;
        level.qty = open;
        self.level_of_price[old_offset] = 0;
        self.level_of_price[new_offset] = index;
        let occupied = &mut self.occupied[side.index()];
        occupied.clear(old_offset);
        occupied.set(new_offset);
        let best = self.best[side.index()].expect("the order's side has a level");
        let better = match side {
            Side::Buy => price > best,
            Side::Sell => price < best,
        };
        if better {
            self.best[side.index()] = Some(price);
        } else if best == old_price {
            // The bitmap already holds the new price, so the search can find it.
            self.best[side.index()] = self.next_worse(side, old_price);
        }
        let order = pool.get_mut(slot);
        order.price = price;
        order.open = open;
        Ok(())
    }

    /// Unlinks the order in `slot` from its level, freeing the level when it empties.
    /// The order's open quantity is taken off the level.
    #[inline(always)]
    pub fn remove(&mut self, pool: &mut OrderPool, slot: u32) {
        let (price, side, qty, prev, next) = {
            let order = pool.get(slot);
            (order.price, order.side, order.open, order.prev, order.next)
        };
        let offset = self.offset(price);
        let level_index = self.level_of_price[offset];
        debug_assert!(
            level_index != 0,
            "removing an order that is not in the book"
        );
        let level = &mut self.levels[level_index as usize - 1];
        if prev == NIL {
            level.head = next;
        } else {
            pool.get_mut(prev).next = next;
        }
        if next == NIL {
            level.tail = prev;
        } else {
            pool.get_mut(next).prev = prev;
        }
        level.qty -= qty;
        level.count -= 1;
        if level.count == 0 {
            self.free_level_at(level_index - 1, side, offset, price);
        }
    }

    #[inline]
    fn free_level_at(&mut self, index: u32, side: Side, offset: usize, price: PriceTicks) {
        debug_assert!(self.levels[index as usize].qty == QtyLots::ZERO);
        self.levels[index as usize] = Level {
            next_free: self.free_level,
            ..Level::EMPTY
        };
        self.free_level = index;
        self.level_of_price[offset] = 0;
        self.occupied[side.index()].clear(offset);
        if self.best[side.index()] == Some(price) {
            self.best[side.index()] = self.next_worse(side, price);
        }
    }

    /// Takes `qty` off the level at `price` after a partial fill or an amend down; the order's
    /// own open quantity is updated by the caller.
    #[inline]
    pub fn reduce(&mut self, price: PriceTicks, qty: QtyLots) {
        let index = self.level_of_price[self.offset(price)];
        debug_assert!(index != 0);
        let level = &mut self.levels[index as usize - 1];
        level.qty -= qty;
        debug_assert!(level.qty > QtyLots::ZERO);
    }

    /// Visits each level of `side` from the best price outward.
    pub fn for_each_level(&self, side: Side, mut visit: impl FnMut(&Level)) {
        let mut price = self.best(side);
        while let Some(p) = price {
            if let Some(level) = self.level_at(p) {
                visit(level);
            }
            price = self.next_worse(side, p);
        }
    }
}

//! The publisher's L2 view of one book: per side, price → (size, order count), bounded.
//!
//! Each side is a vector sorted so the best price is last: activity clusters near the top of
//! the book, so inserts and removals there shift few entries, and a snapshot walks the vector
//! backwards. Capacity is reserved once; a full side refuses a new level (never grows).

use crate::engine::Side;

/// One price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Level {
    pub price_ticks: i64,
    pub qty_lots: i64,
    pub count: u32,
}

/// What a change did to a level (FIX MDUpdateAction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelAction {
    New,
    Change,
    Delete,
}

/// The side already holds its maximum number of levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SideFull;

/// One side of the view.
pub struct SideLevels {
    side: Side,
    /// Sorted worst to best: bids ascending, offers descending.
    levels: Vec<Level>,
    max: usize,
}

impl SideLevels {
    fn new(side: Side, max: usize) -> SideLevels {
        SideLevels {
            side,
            levels: Vec::with_capacity(max),
            max,
        }
    }

    /// Position of `price` (Ok) or where it would go (Err), searching from the best end.
    #[inline]
    fn find(&self, price: i64) -> Result<usize, usize> {
        // Most changes hit the best few levels: check them before bisecting.
        let n = self.levels.len();
        for back in 0..n.min(4) {
            let i = n - 1 - back;
            let at = self.levels[i].price_ticks;
            if at == price {
                return Ok(i);
            }
            if self.worse(at, price) {
                return Err(i + 1);
            }
        }
        let side = self.side;
        self.levels[..n.saturating_sub(4)].binary_search_by(|l| match side {
            Side::Buy => l.price_ticks.cmp(&price),
            Side::Sell => price.cmp(&l.price_ticks),
        })
    }

    /// Whether `a` is a worse price than `b` on this side.
    #[inline]
    fn worse(&self, a: i64, b: i64) -> bool {
        match self.side {
            Side::Buy => a < b,
            Side::Sell => a > b,
        }
    }

    /// Adds `qty_lots` and one order at `price`.
    ///
    /// # Errors
    /// [`SideFull`] when the level is new and the side is full; nothing changes.
    #[inline]
    pub fn add(&mut self, price: i64, qty_lots: i64) -> Result<(LevelAction, Level), SideFull> {
        match self.find(price) {
            Ok(i) => {
                let level = &mut self.levels[i];
                level.qty_lots += qty_lots;
                level.count += 1;
                Ok((LevelAction::Change, *level))
            }
            Err(i) => {
                if self.levels.len() == self.max {
                    return Err(SideFull);
                }
                let level = Level {
                    price_ticks: price,
                    qty_lots,
                    count: 1,
                };
                self.levels.insert(i, level);
                Ok((LevelAction::New, level))
            }
        }
    }

    /// Inserts a whole level (start-up, from the engine's book).
    ///
    /// # Errors
    /// [`SideFull`] when the side is full.
    pub fn seed(&mut self, price: i64, qty_lots: i64, count: u32) -> Result<(), SideFull> {
        let level = Level {
            price_ticks: price,
            qty_lots,
            count,
        };
        match self.find(price) {
            Ok(i) => self.levels[i] = level,
            Err(_) if self.levels.len() == self.max => return Err(SideFull),
            Err(i) => self.levels.insert(i, level),
        }
        Ok(())
    }

    /// Takes `qty_lots` off `price`, and one order if `order_left`; `None` if the view has no
    /// such level (it refused it when full).
    #[inline]
    pub fn reduce(
        &mut self,
        price: i64,
        qty_lots: i64,
        order_left: bool,
    ) -> Option<(LevelAction, Level)> {
        let i = self.find(price).ok()?;
        let level = &mut self.levels[i];
        level.qty_lots -= qty_lots;
        level.count -= u32::from(order_left);
        debug_assert!(level.qty_lots >= 0, "level quantity went negative");
        if level.count == 0 {
            debug_assert_eq!(level.qty_lots, 0, "an empty level holds quantity");
            let gone = self.levels.remove(i);
            return Some((LevelAction::Delete, gone));
        }
        Some((LevelAction::Change, *level))
    }

    /// Levels, best first.
    pub fn best_first(&self) -> impl Iterator<Item = &Level> {
        self.levels.iter().rev()
    }

    /// The best level.
    pub fn best(&self) -> Option<&Level> {
        self.levels.last()
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }
}

/// Both sides of one instrument.
pub struct L2View {
    sides: [SideLevels; 2],
}

impl L2View {
    /// A view with room for `levels_per_side_max` levels on each side.
    pub fn new(levels_per_side_max: usize) -> L2View {
        L2View {
            sides: [
                SideLevels::new(Side::Buy, levels_per_side_max),
                SideLevels::new(Side::Sell, levels_per_side_max),
            ],
        }
    }

    pub fn side(&self, side: Side) -> &SideLevels {
        &self.sides[side.index()]
    }

    pub fn side_mut(&mut self, side: Side) -> &mut SideLevels {
        &mut self.sides[side.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_appear_change_and_disappear_in_price_order() {
        let mut view = L2View::new(8);
        let bids = view.side_mut(Side::Buy);
        assert_eq!(bids.add(100, 5).unwrap().0, LevelAction::New);
        assert_eq!(bids.add(102, 1).unwrap().0, LevelAction::New);
        assert_eq!(bids.add(101, 1).unwrap().0, LevelAction::New);
        assert_eq!(
            bids.add(100, 2).unwrap(),
            (
                LevelAction::Change,
                Level {
                    price_ticks: 100,
                    qty_lots: 7,
                    count: 2
                }
            )
        );
        let prices: Vec<i64> = bids.best_first().map(|l| l.price_ticks).collect();
        assert_eq!(prices, vec![102, 101, 100]);
        assert_eq!(bids.reduce(100, 5, true).unwrap().0, LevelAction::Change);
        assert_eq!(bids.reduce(100, 2, true).unwrap().0, LevelAction::Delete);
        assert_eq!(bids.reduce(100, 2, true), None);
        let asks = view.side_mut(Side::Sell);
        for price in [110, 105, 120, 107] {
            asks.add(price, 1).unwrap();
        }
        let prices: Vec<i64> = asks.best_first().map(|l| l.price_ticks).collect();
        assert_eq!(prices, vec![105, 107, 110, 120]);
    }

    #[test]
    fn a_full_side_refuses_a_new_level_but_not_a_known_one() {
        let mut view = L2View::new(2);
        let asks = view.side_mut(Side::Sell);
        asks.add(10, 1).unwrap();
        asks.add(11, 1).unwrap();
        assert_eq!(asks.add(12, 1), Err(SideFull));
        assert!(asks.add(11, 1).is_ok());
    }
}

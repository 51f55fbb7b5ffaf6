//! The floor of the peer comparison: a bare price-time book with none of an exchange's checks,
//! to show in the same run what matching alone costs on this machine.
//!
//! Prices are offsets into a fixed array of levels covering the stream's whole price range
//! (`mid ± depth_ticks`), one array per side, each indexed so that a lower index is a better
//! price, plus one empty sentinel level past the worst price of each side. Each level is a FIFO
//! of resting orders kept as an intrusive singly linked list over a preallocated order arena,
//! whose free slots form a second list; the stream has no cancels, so no order ever leaves
//! from the middle of a FIFO and no id needs looking up. Each side tracks its best level as an
//! index. A market order walks the other side's levels from the best one and consumes the
//! FIFO heads. There are no accounts, funds, fees, bands or events: a trade is counted and
//! folded into a checksum. Nothing is allocated in `run`.

use std::hint::black_box;

use super::BookAdapter;
use crate::shared_stream::{StreamConfig, StreamOp};

/// The end of a list (no order), in the arena's index space.
const NIL: u32 = u32::MAX;

/// One resting order: its id (its position in the stream), the lots still open and the next
/// order of its level's FIFO (or the next free slot while the slot is free).
#[derive(Clone, Copy, Debug)]
struct Node {
    id: u32,
    next: u32,
    qty_lots: i64,
}

/// The FIFO of one price level: its oldest order (`head`) and its newest (`tail`, meaningful
/// only while `head` is not `NIL`).
#[derive(Clone, Copy, Debug)]
struct Level {
    head: u32,
    tail: u32,
}

const EMPTY_LEVEL: Level = Level {
    head: NIL,
    tail: NIL,
};

/// Every order slot, allocated once; slots of filled orders return to the free list and the
/// next resting order takes the most recently freed one, which is still in the cache.
struct Arena {
    nodes: Box<[Node]>,
    free: u32,
}

impl Arena {
    /// An arena of `capacity` free slots, chained in index order.
    fn new(capacity: usize) -> Arena {
        assert!(
            capacity < NIL as usize,
            "{capacity} orders do not fit in u32 slot indices"
        );
        let nodes = (0..capacity)
            .map(|slot| Node {
                id: 0,
                next: if slot + 1 < capacity {
                    slot as u32 + 1
                } else {
                    NIL
                },
                qty_lots: 0,
            })
            .collect();
        let free = if capacity > 0 { 0 } else { NIL };
        Arena { nodes, free }
    }

    /// Takes a free slot for order `id`. The arena holds one slot per limit order of the stream,
    /// so it cannot run out; if it did, indexing with `NIL` would panic.
    #[inline]
    fn alloc(&mut self, id: u32, qty_lots: i64) -> u32 {
        let slot = self.free;
        let node = &mut self.nodes[slot as usize];
        self.free = node.next;
        *node = Node {
            id,
            next: NIL,
            qty_lots,
        };
        slot
    }

    /// Returns `slot` to the free list, as the next slot to be taken.
    #[inline]
    fn free(&mut self, slot: u32) {
        self.nodes[slot as usize].next = self.free;
        self.free = slot;
    }
}

/// Trades seen so far: counted, and each folded into a checksum so the optimiser must compute
/// every fill's maker and quantity.
#[derive(Clone, Copy, Debug, Default)]
struct Fills {
    trades: u64,
    checksum: u64,
}

/// One side of the book. Index 0 is the best possible price of the side (the highest bid, the
/// lowest ask); the last index is an empty sentinel level one past the worst price, where
/// `best` rests while the side is empty, so the walk needs no separate emptiness check.
struct Side {
    levels: Box<[Level]>,
    best: usize,
}

impl Side {
    fn new(price_levels: usize) -> Side {
        Side {
            levels: vec![EMPTY_LEVEL; price_levels + 1].into_boxed_slice(),
            best: price_levels,
        }
    }

    fn sentinel(&self) -> usize {
        self.levels.len() - 1
    }

    /// Appends order `id` to the FIFO of `level`.
    #[inline]
    fn rest(&mut self, arena: &mut Arena, id: u32, level: usize, qty_lots: i64) {
        let slot = arena.alloc(id, qty_lots);
        let fifo = &mut self.levels[level];
        if fifo.head == NIL {
            fifo.head = slot;
        } else {
            arena.nodes[fifo.tail as usize].next = slot;
        }
        fifo.tail = slot;
        self.best = self.best.min(level);
    }

    /// Fills up to `qty_lots` against this side's orders at levels `0..=limit`, best level
    /// first and oldest order first within a level; returns the lots left unfilled.
    #[inline]
    fn take(&mut self, arena: &mut Arena, fills: &mut Fills, limit: usize, qty_lots: i64) -> i64 {
        let mut left_lots = qty_lots;
        while left_lots > 0 && self.best <= limit {
            let fifo = &mut self.levels[self.best];
            let head = fifo.head;
            let maker = &mut arena.nodes[head as usize];
            let traded_lots = maker.qty_lots.min(left_lots);
            maker.qty_lots -= traded_lots;
            left_lots -= traded_lots;
            fills.trades += 1;
            fills.checksum =
                fills.checksum.rotate_left(5) ^ (u64::from(maker.id) + traded_lots as u64);
            if maker.qty_lots == 0 {
                fifo.head = maker.next;
                arena.free(head);
                if fifo.head == NIL {
                    self.advance_best();
                }
            }
        }
        left_lots
    }

    /// Moves `best` from an emptied level to the next non-empty one, or to the sentinel.
    fn advance_best(&mut self) {
        let sentinel = self.sentinel();
        while self.best < sentinel && self.levels[self.best].head == NIL {
            self.best += 1;
        }
    }
}

/// One stream operation in the book's terms: level indices instead of prices.
#[derive(Clone, Copy, Debug)]
struct BareOp {
    id: u32,
    buy: bool,
    /// The last level of the other side this order may fill at: its price for a limit order,
    /// the worst price level for a market order.
    take_limit: usize,
    /// The level of its own side where a limit order rests; `None` for a market order.
    rest_level: Option<usize>,
    qty_lots: i64,
}

/// The book: both sides and the order arena they share.
struct BareBook {
    bids: Side,
    asks: Side,
    arena: Arena,
    fills: Fills,
}

impl BareBook {
    /// An empty book of `price_levels` levels per side with room for `max_orders` resting orders.
    fn new(price_levels: usize, max_orders: usize) -> BareBook {
        BareBook {
            bids: Side::new(price_levels),
            asks: Side::new(price_levels),
            arena: Arena::new(max_orders),
            fills: Fills::default(),
        }
    }

    /// Matches `op` against the other side, then rests what is left of a limit order.
    #[inline]
    fn apply(&mut self, op: &BareOp) {
        let (own, other) = if op.buy {
            (&mut self.bids, &mut self.asks)
        } else {
            (&mut self.asks, &mut self.bids)
        };
        let left_lots = other.take(&mut self.arena, &mut self.fills, op.take_limit, op.qty_lots);
        match op.rest_level {
            Some(level) if left_lots > 0 => own.rest(&mut self.arena, op.id, level, left_lots),
            _ => {}
        }
        debug_assert!(self.is_uncrossed());
    }

    /// Whether the best bid is below the best ask. Both sides span the same prices in opposite
    /// directions, so bid index `b` and ask index `a` are uncrossed when `b + a` reaches the
    /// number of price levels; an empty side's best is its sentinel, which always does.
    fn is_uncrossed(&self) -> bool {
        self.bids.best + self.asks.best >= self.bids.sentinel()
    }
}

/// The bare book with the stream as level indices (ids are stream positions).
pub struct BareBookAdapter {
    book: BareBook,
    ops: Vec<BareOp>,
}

impl BookAdapter for BareBookAdapter {
    const NAME: &'static str = "bare";

    /// Sizes the arena for every limit order of the stream: with no cancels, no more orders
    /// than that can ever rest.
    fn prepare(config: &StreamConfig, stream: &[StreamOp]) -> BareBookAdapter {
        let range = PriceRange::of(config);
        let ops: Vec<BareOp> = stream
            .iter()
            .enumerate()
            .map(|(position, op)| range.op_at(position, op))
            .collect();
        let limit_orders = ops.iter().filter(|op| op.rest_level.is_some()).count();
        BareBookAdapter {
            book: BareBook::new(range.levels(), limit_orders),
            ops,
        }
    }

    fn run(&mut self) -> u64 {
        for op in &self.ops {
            self.book.apply(op);
        }
        black_box(self.book.fills.checksum);
        self.book.fills.trades
    }
}

/// The prices the book covers, `[low_ticks, high_ticks]`: the stream's `mid ± depth_ticks`.
#[derive(Clone, Copy, Debug)]
struct PriceRange {
    low_ticks: i64,
    high_ticks: i64,
}

impl PriceRange {
    fn of(config: &StreamConfig) -> PriceRange {
        PriceRange {
            low_ticks: config.mid_ticks - config.depth_ticks,
            high_ticks: config.mid_ticks + config.depth_ticks,
        }
    }

    /// Price levels per side, the sentinel not included.
    fn levels(&self) -> usize {
        (self.high_ticks - self.low_ticks + 1) as usize
    }

    /// Index of `price_ticks` on the bid side (highest price first).
    fn bid_level(&self, price_ticks: i64) -> usize {
        (self.high_ticks - price_ticks) as usize
    }

    /// Index of `price_ticks` on the ask side (lowest price first).
    fn ask_level(&self, price_ticks: i64) -> usize {
        (price_ticks - self.low_ticks) as usize
    }

    /// The stream operation at `position` in level indices. The stream keeps limit prices within
    /// `mid ± depth_ticks` (its generator's contract), so a price outside the range is a bug in
    /// the stream and panics here, before anything is timed.
    fn op_at(&self, position: usize, op: &StreamOp) -> BareOp {
        let id = u32::try_from(position).expect("the stream has fewer than 2^32 operations");
        match *op {
            StreamOp::Limit {
                buy,
                price_ticks,
                qty_lots,
                ..
            } => {
                assert!(
                    (self.low_ticks..=self.high_ticks).contains(&price_ticks),
                    "limit price {price_ticks} outside [{}, {}]",
                    self.low_ticks,
                    self.high_ticks
                );
                let (take_limit, rest_level) = if buy {
                    (self.ask_level(price_ticks), self.bid_level(price_ticks))
                } else {
                    (self.bid_level(price_ticks), self.ask_level(price_ticks))
                };
                BareOp {
                    id,
                    buy,
                    take_limit,
                    rest_level: Some(rest_level),
                    qty_lots,
                }
            }
            StreamOp::Market { buy, qty_lots } => BareOp {
                id,
                buy,
                take_limit: self.levels() - 1,
                rest_level: None,
                qty_lots,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> StreamConfig {
        StreamConfig {
            mid_ticks: 1_000,
            depth_ticks: 5,
            ..StreamConfig::standard(0)
        }
    }

    fn limit(buy: bool, price_ticks: i64, qty_lots: i64) -> StreamOp {
        StreamOp::Limit {
            maker: 0,
            buy,
            price_ticks,
            qty_lots,
        }
    }

    /// A market buy takes the lowest ask first and, within it, the oldest order first; the
    /// order it leaves partly filled keeps its place for the next taker.
    #[test]
    fn market_order_fills_best_price_then_oldest_first() {
        let stream = [
            limit(false, 1_002, 10),
            limit(false, 1_001, 5),
            limit(false, 1_001, 7),
            StreamOp::Market {
                buy: true,
                qty_lots: 14,
            },
        ];
        let mut book = BareBookAdapter::prepare(&config(), &stream);
        assert_eq!(book.run(), 3);
        let best = book.book.asks.levels[book.book.asks.best];
        assert_eq!(
            book.book.asks.best, 7,
            "the 1,002 level is now the best ask"
        );
        assert_eq!(book.book.arena.nodes[best.head as usize].id, 0);
        assert_eq!(book.book.arena.nodes[best.head as usize].qty_lots, 8);
    }

    /// A market order larger than the whole side empties it, and the rest of the order is
    /// dropped rather than rested.
    #[test]
    fn market_order_beyond_the_book_empties_the_side_and_does_not_rest() {
        let stream = [
            limit(true, 999, 3),
            limit(true, 995, 4),
            StreamOp::Market {
                buy: false,
                qty_lots: 100,
            },
        ];
        let mut book = BareBookAdapter::prepare(&config(), &stream);
        assert_eq!(book.run(), 2);
        assert_eq!(book.book.bids.best, book.book.bids.sentinel());
        assert_eq!(book.book.asks.best, book.book.asks.sentinel());
    }

    /// The shared stream never sends a crossing limit, but the book still matches one before
    /// resting its remainder, as a price-time book must.
    #[test]
    fn crossing_limit_order_fills_then_rests_its_remainder() {
        let stream = [limit(false, 1_001, 4), limit(true, 1_002, 10)];
        let mut book = BareBookAdapter::prepare(&config(), &stream);
        assert_eq!(book.run(), 1);
        assert_eq!(book.book.asks.best, book.book.asks.sentinel());
        let best_bid = book.book.bids.levels[book.book.bids.best];
        assert_eq!(book.book.bids.best, 3, "the bid rests at 1,002");
        assert_eq!(book.book.arena.nodes[best_bid.head as usize].qty_lots, 6);
    }

    /// Limit orders of the shared stream never cross, and market orders leave the best bid
    /// below the best ask, after every operation.
    #[test]
    fn book_is_never_crossed_after_any_operation_of_the_shared_stream() {
        let config = StreamConfig::standard(20_000);
        let stream = crate::shared_stream::generate(&config);
        let BareBookAdapter { mut book, ops } = BareBookAdapter::prepare(&config, &stream);
        for op in &ops {
            book.apply(op);
            assert!(book.is_uncrossed(), "crossed after operation {}", op.id);
        }
        assert!(book.fills.trades > 0);
    }

    /// Filled orders' slots are reused, so the arena never needs more slots than there are
    /// limit orders in the stream.
    #[test]
    fn filled_orders_return_their_slots_to_the_arena() {
        let stream = [
            limit(true, 999, 3),
            StreamOp::Market {
                buy: false,
                qty_lots: 3,
            },
            limit(true, 998, 2),
        ];
        let mut book = BareBookAdapter::prepare(&config(), &stream);
        book.run();
        assert_eq!(
            book.book.bids.levels[book.book.bids.best].head, 0,
            "slot 0 is reused"
        );
        assert_eq!(book.book.arena.free, 1);
    }
}

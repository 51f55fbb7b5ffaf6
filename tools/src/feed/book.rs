//! Books the feed rebuilds: L2 by price level and L3 by order, per instrument, in wire units
//! (decimal mantissas, exponent -8), and a perpetual's index, mark and funding rate.

use std::collections::{BTreeMap, HashMap};

use exchange::marketdata::codec::{MDEntryTypeBook, MDUpdateAction};

/// One level: total size and order count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelQty {
    pub size: i64,
    pub orders: i32,
}

/// A price (mantissa) and its level.
pub type PricedLevel = (i64, LevelQty);

/// Both sides by price.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct L2Book {
    pub bids: BTreeMap<i64, LevelQty>,
    pub offers: BTreeMap<i64, LevelQty>,
}

impl L2Book {
    fn side_mut(&mut self, side: MDEntryTypeBook) -> &mut BTreeMap<i64, LevelQty> {
        match side {
            MDEntryTypeBook::Bid => &mut self.bids,
            MDEntryTypeBook::Offer => &mut self.offers,
        }
    }

    /// Applies one level update (sizes are absolute).
    pub fn apply(&mut self, side: MDEntryTypeBook, action: MDUpdateAction, px: i64, qty: LevelQty) {
        let levels = self.side_mut(side);
        match action {
            MDUpdateAction::New | MDUpdateAction::Change => {
                levels.insert(px, qty);
            }
            MDUpdateAction::Delete => {
                levels.remove(&px);
            }
        }
    }

    /// Best bid (highest) and best offer (lowest).
    pub fn top(&self) -> (Option<PricedLevel>, Option<PricedLevel>) {
        let bid = self.bids.iter().next_back().map(|(p, q)| (*p, *q));
        let offer = self.offers.iter().next().map(|(p, q)| (*p, *q));
        (bid, offer)
    }
}

/// One resting order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookOrder {
    pub side: MDEntryTypeBook,
    pub px: i64,
    pub qty: i64,
}

/// Orders by exchange order id. After a sync from a snapshot (L2 only) the orders resting
/// before it are unknown: `complete` is then false and updates of unknown orders are ignored.
#[derive(Clone, Debug, Default)]
pub struct L3Book {
    pub orders: HashMap<u64, BookOrder>,
    pub complete: bool,
}

impl L3Book {
    pub fn apply(&mut self, id: u64, order: BookOrder, action: MDUpdateAction) {
        match action {
            MDUpdateAction::New => {
                self.orders.insert(id, order);
            }
            MDUpdateAction::Change => {
                if let Some(known) = self.orders.get_mut(&id) {
                    known.qty = order.qty;
                }
            }
            MDUpdateAction::Delete => {
                self.orders.remove(&id);
            }
        }
    }

    /// The L2 book the orders add up to.
    pub fn to_l2(&self) -> L2Book {
        let mut book = L2Book::default();
        for order in self.orders.values() {
            let level = book
                .side_mut(order.side)
                .entry(order.px)
                .or_insert(LevelQty { size: 0, orders: 0 });
            level.size += order.qty;
            level.orders += 1;
        }
        book
    }
}

/// The last trade seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LastTrade {
    pub px: i64,
    pub size: i64,
    pub aggressor_buy: bool,
}

/// A funding rate from the feed: the running estimate of the interval, or a settled rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FundingQuote {
    /// Rate mantissa, exponent -9 (parts per billion); positive: longs pay shorts.
    pub rate_ppb: i64,
    pub next_funding_ns: u64,
    /// When the rate was settled; 0 for a running estimate.
    pub settled_ns: u64,
}

/// A perpetual's prices as the incremental channel last reported them. Snapshots do not carry
/// them: after a sync they are unknown until the next message of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerpPrices {
    /// Last valid index and the number of constituents it used.
    pub index: Option<(i64, u16)>,
    pub mark_px: Option<i64>,
    pub funding: Option<FundingQuote>,
    /// Liquidation steps seen since the feed joined.
    pub liquidations: u64,
}

impl PerpPrices {
    /// Whether the feed has seen any perpetual price for the instrument.
    pub fn is_known(&self) -> bool {
        self.index.is_some() || self.mark_px.is_some() || self.funding.is_some()
    }
}

/// Everything the feed knows of one instrument.
#[derive(Clone, Debug, Default)]
pub struct InstrumentBook {
    pub security_id: i32,
    pub symbol: String,
    pub l2: L2Book,
    pub l3: L3Book,
    pub halted: bool,
    pub last_trade: Option<LastTrade>,
    pub trades: u64,
    /// Index, mark and funding of a perpetual (nothing for spot instruments).
    pub perp: PerpPrices,
    /// Incremental packets up to this one are already in the book (from its snapshot).
    pub synced_at: Option<u32>,
}

//! The `orderbook-rs` crate (0.15, lib `orderbook_rs`): a concurrent (lock-free levels,
//! `&self` API) order book. Used single-threaded here, with self-trade prevention off
//! (`add_limit_order` / `submit_market_order` pass a zero user id) and no listeners.

use std::hint::black_box;

use orderbook_rs::prelude::{Id, Side, TimeInForce};
use orderbook_rs::OrderBook;

use super::BookAdapter;
use crate::shared_stream::{StreamConfig, StreamOp};

/// The stream in orderbook-rs terms.
#[derive(Clone, Copy)]
enum NativeOp {
    Limit {
        id: Id,
        price: u128,
        qty: u64,
        side: Side,
    },
    Market {
        id: Id,
        qty: u64,
        side: Side,
    },
}

/// An orderbook-rs book with the stream as native operations (ids are stream positions + 1).
pub struct OrderbookRsAdapter {
    book: OrderBook<()>,
    ops: Vec<NativeOp>,
}

impl BookAdapter for OrderbookRsAdapter {
    const NAME: &'static str = "orderbook-rs";

    fn prepare(_config: &StreamConfig, stream: &[StreamOp]) -> OrderbookRsAdapter {
        let ops = stream
            .iter()
            .enumerate()
            .map(|(i, op)| to_native(Id::from_u64(i as u64 + 1), op))
            .collect();
        OrderbookRsAdapter {
            book: OrderBook::new("BTC-USD"),
            ops,
        }
    }

    fn run(&mut self) -> u64 {
        let mut trades = 0u64;
        for op in &self.ops {
            match *op {
                NativeOp::Limit {
                    id,
                    price,
                    qty,
                    side,
                } => {
                    let placed =
                        self.book
                            .add_limit_order(id, price, qty, side, TimeInForce::Gtc, None);
                    black_box(placed).ok();
                }
                NativeOp::Market { id, qty, side } => {
                    if let Ok(result) = self.book.submit_market_order(id, qty, side) {
                        trades += result.trades().len() as u64;
                        black_box(result);
                    }
                }
            }
        }
        trades
    }
}

fn to_native(id: Id, op: &StreamOp) -> NativeOp {
    let side = |buy| if buy { Side::Buy } else { Side::Sell };
    match *op {
        StreamOp::Limit {
            buy,
            price_ticks,
            qty_lots,
            ..
        } => NativeOp::Limit {
            id,
            price: price_ticks as u128,
            qty: qty_lots as u64,
            side: side(buy),
        },
        StreamOp::Market { buy, qty_lots } => NativeOp::Market {
            id,
            qty: qty_lots as u64,
            side: side(buy),
        },
    }
}

//! The `lobster` crate (0.7): a single-threaded limit order book with an order arena and
//! `BTreeMap` price levels. It has no accounts, funds or fees.

use std::hint::black_box;

use lobster::{OrderBook, OrderEvent, OrderType, Side};

use super::BookAdapter;
use crate::shared_stream::{StreamConfig, StreamOp};

/// A lobster book with the stream as lobster `OrderType`s (ids are stream positions).
pub struct LobsterAdapter {
    book: OrderBook,
    orders: Vec<OrderType>,
}

impl BookAdapter for LobsterAdapter {
    const NAME: &'static str = "lobster";

    fn prepare(_config: &StreamConfig, stream: &[StreamOp]) -> LobsterAdapter {
        // The arena is pre-allocated for every order of the stream, as our engine's pool is;
        // 10 is lobster's default queue capacity per price.
        let book = OrderBook::new(stream.len(), 10, false);
        let orders = stream
            .iter()
            .enumerate()
            .map(|(i, op)| to_order(i as u128, op))
            .collect();
        LobsterAdapter { book, orders }
    }

    fn run(&mut self) -> u64 {
        let mut trades = 0u64;
        for order in &self.orders {
            let event = self.book.execute(*order);
            trades += match &event {
                OrderEvent::Filled { fills, .. } | OrderEvent::PartiallyFilled { fills, .. } => {
                    fills.len() as u64
                }
                _ => 0,
            };
            black_box(event);
        }
        trades
    }
}

fn to_order(id: u128, op: &StreamOp) -> OrderType {
    let side = |buy| if buy { Side::Bid } else { Side::Ask };
    match *op {
        StreamOp::Limit {
            buy,
            price_ticks,
            qty_lots,
            ..
        } => OrderType::Limit {
            id,
            side: side(buy),
            qty: qty_lots as u64,
            price: price_ticks as u64,
        },
        StreamOp::Market { buy, qty_lots } => OrderType::Market {
            id,
            side: side(buy),
            qty: qty_lots as u64,
        },
    }
}

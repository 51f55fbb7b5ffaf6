//! Our engine on the shared stream: full production work per order (band and fund checks,
//! holds, fees, settlement, events), with BTC-USD of the default configuration.

use std::hint::black_box;

use exchange::engine::{
    AccountId, Command, Engine, NewOrder, OrdType, PriceTicks, QtyLots, Side, StpMode, TimeInForce,
};

use super::BookAdapter;
use crate::fixture::{self, Stamper, INSTRUMENT};
use crate::shared_stream::{StreamConfig, StreamOp};
use crate::sink::FoldSink;

/// Our engine with the stream as `Command`s; makers are accounts `0..makers`, the taker is
/// account `makers`.
pub struct OursAdapter {
    engine: Engine,
    stamper: Stamper,
    commands: Vec<Command>,
}

impl BookAdapter for OursAdapter {
    const NAME: &'static str = "ours";

    fn prepare(config: &StreamConfig, stream: &[StreamOp]) -> OursAdapter {
        let spec = fixture::btc_usd_spec();
        let limits = fixture::limits((stream.len() as u32).max(1_024), config.makers + 1);
        let setup = fixture::funding_commands(0, config.makers + 1);
        let (engine, stamper) = fixture::engine_with(&spec, limits, &setup);
        let taker = AccountId(config.makers);
        let commands = stream.iter().map(|op| to_command(op, taker)).collect();
        OursAdapter {
            engine,
            stamper,
            commands,
        }
    }

    fn run(&mut self) -> u64 {
        let mut sink = FoldSink::default();
        for command in &self.commands {
            self.stamper.apply(&mut self.engine, command, &mut sink);
        }
        black_box(sink.checksum);
        sink.fills
    }
}

fn side(buy: bool) -> Side {
    if buy {
        Side::Buy
    } else {
        Side::Sell
    }
}

/// A limit order is GTC at its price; a market order is IOC with the instrument's default
/// protection price (5% from the last trade, far beyond the stream's ±50 ticks).
fn to_command(op: &StreamOp, taker: AccountId) -> Command {
    let (account, buy, ord_type, tif, price, qty) = match *op {
        StreamOp::Limit {
            maker,
            buy,
            price_ticks,
            qty_lots,
        } => (
            AccountId(maker),
            buy,
            OrdType::Limit,
            TimeInForce::Gtc,
            price_ticks,
            qty_lots,
        ),
        StreamOp::Market { buy, qty_lots } => {
            (taker, buy, OrdType::Market, TimeInForce::Ioc, 0, qty_lots)
        }
    };
    Command::NewOrder(NewOrder {
        account,
        instrument: INSTRUMENT,
        cl_ord_id: 0,
        side: side(buy),
        ord_type,
        tif,
        price: PriceTicks(price),
        qty: QtyLots(qty),
        expire_ns: 0,
        flags: 0,
        stp: StpMode::CancelResting,
    })
}

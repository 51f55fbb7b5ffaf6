//! Market-making obligations (config `[account.mm_obligation]`): per market maker, instrument
//! and UTC day, the share of the day's journal time during which the account quoted both sides
//! with at least `min_qty` at its best bid and best ask and a spread of at most
//! `max_spread_bps` of the mid:
//!
//! `share = compliant_ns / (last record time − first record time of the day)`
//!
//! A day whose share is below `min_quote_share` raises one alert when the day (or the journal)
//! ends. The account's resting quantity per price is rebuilt from the engine events
//! (Accepted → Rested adds, fills of its resting orders and cancels remove, replaces move).

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use exchange::config::{Config, ConfigError};
use exchange::engine::{Event, InstrumentId, OrderId, Side};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::alert::{Alert, AlertKind};
use super::detector::{Context, Detector};
use super::quote_stuffing::NS_PER_DAY;
use crate::tape::Step;

/// Parts per million (the unit of quote shares).
const PPM: u64 = 1_000_000;

/// One account's obligation on one instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Obligation {
    pub account: u32,
    pub security_id: i32,
    pub instrument: InstrumentId,
    pub max_spread_bps: u64,
    pub min_qty_lots: i64,
    pub min_share_ppm: u64,
}

/// Reads the obligations of every account of `config`, in account then instrument order.
///
/// # Errors
/// An obligation names an unknown instrument, or its quantity or share is not exact.
pub fn obligations(config: &Config) -> Result<Vec<Obligation>, ConfigError> {
    let specs = config.instrument_specs()?;
    let mut out = Vec::new();
    for account in &config.accounts {
        let Some(ob) = &account.mm_obligation else {
            continue;
        };
        let bad = |what: String| ConfigError::Account {
            id: account.id,
            what,
        };
        for &security_id in &ob.security_ids {
            let spec = specs.iter().find(|s| s.security_id == security_id);
            let lot = config
                .instruments
                .iter()
                .find(|i| i.security_id == security_id);
            let (Some(spec), Some(lot)) = (spec, lot.map(|i| i.lot)) else {
                return Err(bad(format!(
                    "mm_obligation: unknown security id {security_id}"
                )));
            };
            let lots = ob.min_qty / lot;
            let Some(min_qty_lots) = lots.trunc().eq(&lots).then(|| lots.to_i64()).flatten() else {
                let what = format!(
                    "mm_obligation: min_qty {} is not a whole number of lots",
                    ob.min_qty
                );
                return Err(bad(what));
            };
            let share = ob.min_quote_share * Decimal::from(PPM);
            let Some(min_share_ppm) = share.trunc().to_u64().filter(|s| *s <= PPM) else {
                let what = format!(
                    "mm_obligation: min_quote_share {} not in [0, 1]",
                    ob.min_quote_share
                );
                return Err(bad(what));
            };
            out.push(Obligation {
                account: account.id,
                security_id,
                instrument: spec.id,
                max_spread_bps: u64::from(ob.max_spread_bps),
                min_qty_lots,
                min_share_ppm,
            });
        }
    }
    Ok(out)
}

/// The account's resting quantity per price on one instrument, and its compliance so far.
#[derive(Clone, Debug, Default)]
struct Quotes {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
    compliant: bool,
    compliant_ns: u64,
}

/// A resting order of an obligated account: which obligation, side, price, open lots.
#[derive(Clone, Copy, Debug)]
struct Resting {
    index: usize,
    side: Side,
    price: i64,
    open: i64,
}

/// The obligation detector.
#[derive(Debug, Default)]
pub struct MmObligation {
    obligations: Vec<Obligation>,
    quotes: Vec<Quotes>,
    by_account: HashMap<(u32, InstrumentId), usize>,
    orders: HashMap<OrderId, Resting>,
    day: u64,
    day_first_ns: u64,
    day_last_ns: u64,
    day_last_seq: u64,
}

impl MmObligation {
    /// A detector measuring `obligations`.
    #[must_use]
    pub fn new(obligations: Vec<Obligation>) -> MmObligation {
        let by_account = obligations
            .iter()
            .enumerate()
            .map(|(i, o)| ((o.account, o.instrument), i))
            .collect();
        MmObligation {
            quotes: vec![Quotes::default(); obligations.len()],
            obligations,
            by_account,
            ..MmObligation::default()
        }
    }

    fn apply(&mut self, event: &Event) -> Option<usize> {
        match *event {
            Event::Accepted {
                order,
                account,
                instrument,
                side,
                price,
                ..
            } => {
                let index = *self.by_account.get(&(account.0, instrument))?;
                let resting = Resting {
                    index,
                    side,
                    price: price.0,
                    open: 0,
                };
                self.orders.insert(order, resting);
                None
            }
            Event::Rested {
                order, price, open, ..
            } => {
                let resting = self.orders.get_mut(&order)?;
                resting.price = price.0;
                resting.open = open.0;
                let r = *resting;
                self.add(r, r.open);
                Some(r.index)
            }
            Event::Fill(fill) => {
                // A taker that filled completely never rests and gets no Canceled: forget it.
                if fill.taker_open.0 == 0 {
                    self.orders.remove(&fill.taker_order);
                }
                let resting = self.orders.get_mut(&fill.maker_order)?;
                resting.open -= fill.qty.0;
                let r = *resting;
                self.add(r, -fill.qty.0);
                if fill.maker_open.0 == 0 {
                    self.orders.remove(&fill.maker_order);
                }
                Some(r.index)
            }
            Event::Canceled { order, .. } => {
                let r = self.orders.remove(&order)?;
                self.add(r, -r.open);
                Some(r.index)
            }
            Event::Replaced {
                order, price, open, ..
            } => {
                let old = *self.orders.get(&order)?;
                self.add(old, -old.open);
                let new = Resting {
                    price: price.0,
                    open: open.0,
                    ..old
                };
                self.add(new, new.open);
                self.orders.insert(order, new);
                Some(old.index)
            }
            _ => None,
        }
    }

    /// Adds `lots` (negative: removes) at the order's price and side.
    fn add(&mut self, r: Resting, lots: i64) {
        let quotes = &mut self.quotes[r.index];
        let book = match r.side {
            Side::Buy => &mut quotes.bids,
            Side::Sell => &mut quotes.asks,
        };
        let level = book.entry(r.price).or_insert(0);
        *level += lots;
        if *level <= 0 {
            book.remove(&r.price);
        }
    }

    fn recompute(&mut self, index: usize) {
        let ob = &self.obligations[index];
        let quotes = &mut self.quotes[index];
        let best_bid = quotes.bids.iter().next_back();
        let best_ask = quotes.asks.iter().next();
        quotes.compliant = match (best_bid, best_ask) {
            (Some((&bid, &bid_lots)), Some((&ask, &ask_lots))) => {
                let spread = (ask - bid).max(0) as u128;
                let mid2 = (ask + bid).max(1) as u128;
                // spread / (mid2 / 2) * 10_000 <= max_spread_bps, in integers.
                let within = spread * 20_000 <= u128::from(ob.max_spread_bps) * mid2;
                within && bid_lots >= ob.min_qty_lots && ask_lots >= ob.min_qty_lots
            }
            _ => false,
        };
    }

    fn close_day(&mut self, alerts: &mut Vec<Alert>) {
        let span = self.day_last_ns.saturating_sub(self.day_first_ns);
        for (ob, quotes) in self.obligations.iter().zip(&mut self.quotes) {
            let compliant = std::mem::take(&mut quotes.compliant_ns);
            if span == 0 {
                continue;
            }
            let share_ppm = (u128::from(compliant) * u128::from(PPM) / u128::from(span)) as u64;
            if share_ppm >= ob.min_share_ppm {
                continue;
            }
            let mut alert = Alert::new(
                AlertKind::MmObligationBreach,
                ob.account,
                self.day_last_seq,
                self.day_last_ns,
            )
            .with("day", self.day)
            .with("quote_share_ppm", share_ppm)
            .with("min_quote_share_ppm", ob.min_share_ppm)
            .with("compliant_ns", compliant)
            .with("day_span_ns", span)
            .with("max_spread_bps", ob.max_spread_bps)
            .with("min_qty_lots", ob.min_qty_lots);
            alert.security_id = Some(ob.security_id);
            alerts.push(alert);
        }
    }
}

impl Detector for MmObligation {
    fn observe(&mut self, step: &Step<'_>, _context: &Context, alerts: &mut Vec<Alert>) {
        if self.obligations.is_empty() {
            return;
        }
        let now = step.header.time_ns;
        let day = now / NS_PER_DAY;
        if day != self.day || self.day_last_seq == 0 {
            if self.day_last_seq != 0 {
                self.close_day(alerts);
            }
            self.day = day;
            self.day_first_ns = now;
            self.day_last_ns = now;
        }
        let elapsed = now.saturating_sub(self.day_last_ns);
        for quotes in &mut self.quotes {
            if quotes.compliant {
                quotes.compliant_ns += elapsed;
            }
        }
        self.day_last_ns = now;
        self.day_last_seq = step.header.seq;
        for event in step.events {
            if let Some(index) = self.apply(event) {
                self.recompute(index);
            }
        }
    }

    fn finish(&mut self, _context: &Context, alerts: &mut Vec<Alert>) {
        if self.day_last_seq != 0 {
            self.close_day(alerts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_obliges_the_three_market_makers_on_btc_usd() {
        let obligations = obligations(&Config::default_config()).expect("valid");
        let accounts: Vec<u32> = obligations.iter().map(|o| o.account).collect();
        assert_eq!(accounts, [1, 2, 3]);
        for o in &obligations {
            assert_eq!(o.security_id, 1);
            assert_eq!(o.min_qty_lots, 1_000, "0.01 BTC in lots of 0.00001");
            assert_eq!(o.min_share_ppm, 900_000);
            assert_eq!(o.max_spread_bps, 20);
        }
    }

    #[test]
    fn obligation_off_the_lot_or_on_an_unknown_instrument_is_refused() {
        let text = exchange::config::DEFAULT_TOML.replacen(
            "min_qty = \"0.01\"\nmin_quote_share",
            "min_qty = \"0.000005\"\nmin_quote_share",
            1,
        );
        let config = Config::parse(&text).expect("the engine accepts it");
        let err = obligations(&config).expect_err("half a lot").to_string();
        assert!(err.contains("whole number of lots"), "{err}");
        let text =
            exchange::config::DEFAULT_TOML.replacen("security_ids = [1]", "security_ids = [9]", 1);
        let config = Config::parse(&text).expect("the engine accepts it");
        let err = obligations(&config).expect_err("unknown").to_string();
        assert!(err.contains("unknown security id 9"), "{err}");
    }

    #[test]
    fn two_sided_quotes_within_the_spread_and_size_are_compliant() {
        let ob = Obligation {
            account: 1,
            security_id: 1,
            instrument: InstrumentId(0),
            max_spread_bps: 20,
            min_qty_lots: 1_000,
            min_share_ppm: 900_000,
        };
        let mut detector = MmObligation::new(vec![ob]);
        let quote = |d: &mut MmObligation, side, price, open| {
            let r = Resting {
                index: 0,
                side,
                price,
                open,
            };
            d.add(r, open);
            d.recompute(0);
            d.quotes[0].compliant
        };
        // 100,000.0 and 100,010.0 in ticks of 0.1: 1 bp wide.
        assert!(
            !quote(&mut detector, Side::Buy, 1_000_000, 1_000),
            "one side only"
        );
        assert!(quote(&mut detector, Side::Sell, 1_000_100, 1_000));
        let mut wide = MmObligation::new(vec![ob]);
        quote(&mut wide, Side::Buy, 1_000_000, 1_000);
        assert!(
            !quote(&mut wide, Side::Sell, 1_003_000, 1_000),
            "30 bp is too wide"
        );
        let mut small = MmObligation::new(vec![ob]);
        quote(&mut small, Side::Buy, 1_000_000, 999);
        assert!(
            !quote(&mut small, Side::Sell, 1_000_100, 1_000),
            "bid below min size"
        );
    }
}

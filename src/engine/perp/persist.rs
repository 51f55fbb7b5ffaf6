//! The state of a perpetual market as a flat list of 64-bit words, for the engine digest and
//! snapshots. `encode` and `decode` list the fields in the same order; a round-trip test keeps
//! them in step.

use super::breaker::Slot;
use super::index::{Constituent, MAX_SOURCES};
use super::market::{MarkSeen, PerpMarket};
use super::position::Position;
use crate::engine::types::{PriceTicks, QtyLots, Units};

/// Why a snapshot's perpetual section was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("perpetual section truncated")]
    Truncated,
    #[error("perpetual section holds an invalid {0}")]
    Invalid(&'static str),
}

fn price_opt(p: Option<PriceTicks>) -> u64 {
    p.map_or(u64::MAX, |p| p.0 as u64)
}

fn opt_price(w: u64) -> Option<PriceTicks> {
    (w != u64::MAX).then_some(PriceTicks(w as i64))
}

impl PerpMarket {
    /// Every word of state, in a fixed order.
    pub fn encode(&self, out: &mut impl FnMut(u64)) {
        let i = |v: i64| v as u64;
        let idx = &self.index;
        out(idx.sources.len() as u64);
        for c in &idx.sources {
            out(c.source_id as u64);
            out(i(c.price));
            out(c.time_ns);
        }
        for w in [
            idx.published_ns,
            i(idx.price.0),
            idx.used as u64,
            idx.valid_until_ns,
        ] {
            out(w);
        }
        let m = &self.mark;
        for w in [
            i(m.price.0),
            i(m.ema_milli),
            m.has_ema as u64,
            i(m.basis_milli),
            m.has_basis as u64,
            m.updated_ns,
        ] {
            out(w);
        }
        let f = &self.funding;
        for w in [
            f.next_sample_ns,
            f.next_settle_ns,
            i(f.premium_sum_ppm),
            f.samples as u64,
            i(f.last_rate_ppm),
        ] {
            out(w);
        }
        out(self.breaker.halted_until_ns);
        for slot in &self.breaker.slots {
            out(slot.number);
            out(i(slot.low.0));
            out(i(slot.high.0));
        }
        out(self.positions.len() as u64);
        for p in &self.positions {
            for w in [
                i(p.qty),
                i(p.cost.0),
                i(p.realised.0),
                i(p.funding.0),
                i(p.buy_open.0),
                i(p.sell_open.0),
                i(p.buy_open_notional.0),
                i(p.sell_open_notional.0),
                p.holder_index as u64,
            ] {
                out(w);
            }
        }
        out(self.holders.len() as u64);
        for &h in &self.holders {
            out(h as u64);
        }
        out(i(self.open_interest.0));
        out(i(self.last_trade.0));
        match self.seen {
            None => out(0),
            Some(s) => {
                out(1);
                for w in [
                    price_opt(s.bid),
                    price_opt(s.ask),
                    i(s.last_trade.0),
                    i(s.index.0),
                    i(s.funding_rate_ppm),
                ] {
                    out(w);
                }
            }
        }
        out(self.index_was_valid as u64);
    }

    /// Reads what `encode` wrote. The position table must already hold the restored
    /// accounts; it is replaced.
    ///
    /// # Errors
    /// Too few words, or a length beyond its bound.
    pub fn decode(&mut self, next: &mut impl FnMut() -> Option<u64>) -> Result<(), DecodeError> {
        let mut w = || next().ok_or(DecodeError::Truncated);
        let sources = w()? as usize;
        if sources > MAX_SOURCES {
            return Err(DecodeError::Invalid("index source count"));
        }
        self.index.sources.clear();
        for _ in 0..sources {
            let source_id = w()? as u16;
            let price = w()? as i64;
            let time_ns = w()?;
            self.index.sources.push(Constituent {
                source_id,
                price,
                time_ns,
            });
        }
        self.index.published_ns = w()?;
        self.index.price = PriceTicks(w()? as i64);
        self.index.used = w()? as u8;
        self.index.valid_until_ns = w()?;
        let m = &mut self.mark;
        m.price = PriceTicks(w()? as i64);
        m.ema_milli = w()? as i64;
        m.has_ema = w()? != 0;
        m.basis_milli = w()? as i64;
        m.has_basis = w()? != 0;
        m.updated_ns = w()?;
        let f = &mut self.funding;
        f.next_sample_ns = w()?;
        f.next_settle_ns = w()?;
        f.premium_sum_ppm = w()? as i64;
        f.samples = w()? as u32;
        f.last_rate_ppm = w()? as i64;
        self.breaker.halted_until_ns = w()?;
        for slot in self.breaker.slots.iter_mut() {
            *slot = Slot {
                number: w()?,
                low: PriceTicks(w()? as i64),
                high: PriceTicks(w()? as i64),
            };
        }
        let positions = w()? as usize;
        if positions > self.positions.capacity().max(self.positions.len()) {
            return Err(DecodeError::Invalid("position count"));
        }
        self.positions.clear();
        for _ in 0..positions {
            self.positions.push(Position {
                qty: w()? as i64,
                cost: Units(w()? as i64),
                realised: Units(w()? as i64),
                funding: Units(w()? as i64),
                buy_open: QtyLots(w()? as i64),
                sell_open: QtyLots(w()? as i64),
                buy_open_notional: Units(w()? as i64),
                sell_open_notional: Units(w()? as i64),
                holder_index: w()? as u32,
            });
        }
        let holders = w()? as usize;
        if holders > positions {
            return Err(DecodeError::Invalid("holder count"));
        }
        self.holders.clear();
        for _ in 0..holders {
            self.holders.push(w()? as u32);
        }
        self.open_interest = QtyLots(w()? as i64);
        self.last_trade = PriceTicks(w()? as i64);
        self.seen = match w()? {
            0 => None,
            _ => Some(MarkSeen {
                bid: opt_price(w()?),
                ask: opt_price(w()?),
                last_trade: PriceTicks(w()? as i64),
                index: PriceTicks(w()? as i64),
                funding_rate_ppm: w()? as i64,
            }),
        };
        self.index_was_valid = w()? != 0;
        self.check_holders()
    }

    /// Every holder's position is non-zero and knows its place.
    fn check_holders(&self) -> Result<(), DecodeError> {
        for (at, &h) in self.holders.iter().enumerate() {
            let position = self
                .positions
                .get(h as usize)
                .ok_or(DecodeError::Invalid("holder account"))?;
            if position.qty == 0 || position.holder_index as usize != at {
                return Err(DecodeError::Invalid("holder list"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::perp::spec::tests::btc_perp;

    #[test]
    fn encode_decode_round_trips() {
        let mut market = PerpMarket::new(btc_perp(), 8);
        for account in 0..4 {
            market.ensure_account(account);
        }
        market.trade(1, 5, PriceTicks(1_000_000), 100);
        market.trade(2, -5, PriceTicks(1_000_000), 100);
        market.positions[3].buy_open = QtyLots(7);
        market.index.sources.push(Constituent {
            source_id: 9,
            price: 42,
            time_ns: 7,
        });
        market.breaker.slots[3] = Slot {
            number: 3,
            low: PriceTicks(11),
            high: PriceTicks(12),
        };
        market.seen = Some(MarkSeen {
            bid: None,
            ask: Some(PriceTicks(5)),
            ..MarkSeen::default()
        });
        let mut words = Vec::new();
        market.encode(&mut |w| words.push(w));
        let mut restored = PerpMarket::new(btc_perp(), 8);
        let mut it = words.iter().copied();
        restored.decode(&mut || it.next()).unwrap();
        let mut again = Vec::new();
        restored.encode(&mut |w| again.push(w));
        assert_eq!(words, again);
        let mut short = words[..words.len() - 1].iter().copied();
        let mut fresh = PerpMarket::new(btc_perp(), 8);
        assert_eq!(
            fresh.decode(&mut || short.next()),
            Err(DecodeError::Truncated)
        );
    }
}

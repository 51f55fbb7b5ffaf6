//! Money movements of perpetuals: trade settlement and funding payments.
//!
//! A perpetual fill moves no base asset. Each side's position changes (see `position`), the
//! realised PnL and the fee are booked to its USD balance, which may go negative: it is then
//! covered by the account's equity, and margin (see `risk`) keeps that equity positive.

use crate::engine::asset::Asset;
use crate::engine::event::{Event, EventSink};
use crate::engine::order::Side;
use crate::engine::perp::funding::payment;
use crate::engine::state::Engine;
use crate::engine::types::{InstrumentId, PriceTicks, QtyLots, TimeNs, Units};

impl Engine {
    /// Settles one perpetual fill; returns (maker fee, taker fee) in USD.
    ///
    /// Money: buyer and seller book realised PnL minus fee, the venue books both fees; by the
    /// identity in `position`, Σ (USD − cost) over accounts plus fees is unchanged.
    pub(crate) fn settle_perp(
        &mut self,
        maker_slot: u32,
        taker_slot: u32,
        price: PriceTicks,
        qty: QtyLots,
    ) -> (Units, Units) {
        let maker = *self.pool.get(maker_slot);
        let taker = *self.pool.get(taker_slot);
        self.perp_open_change(maker_slot, -qty.0, maker.price);
        self.perp_open_change(taker_slot, -qty.0, taker.price);
        let inst = &mut self.instruments[maker.instrument.0 as usize];
        let npt = inst.notional_per_tick_lot;
        let notional = Units(price.0 * qty.0 * npt);
        let maker_fee = notional.times_rate_ceil(inst.spec.maker_fee_ppm);
        let taker_fee = if taker.flags & crate::engine::order::flags::LIQUIDATION != 0 {
            Units::ZERO
        } else {
            notional.times_rate_ceil(inst.spec.taker_fee_ppm)
        };
        let (buyer, seller, buyer_fee, seller_fee) = match taker.side {
            Side::Buy => (taker.account, maker.account, taker_fee, maker_fee),
            Side::Sell => (maker.account, taker.account, maker_fee, taker_fee),
        };
        let perp = inst.perp.as_mut().expect("settle_perp on a perpetual");
        let buyer_pnl = perp.trade(buyer.0, qty.0, price, npt);
        let seller_pnl = perp.trade(seller.0, -qty.0, price, npt);
        perp.last_trade = price;
        let usd = Asset::Usd;
        self.accounts[buyer.0 as usize].balance_mut(usd).free += Units(buyer_pnl) - buyer_fee;
        self.accounts[seller.0 as usize].balance_mut(usd).free += Units(seller_pnl) - seller_fee;
        self.fees[usd.index()] += buyer_fee + seller_fee;
        self.mark_dirty(buyer);
        self.mark_dirty(seller);
        (maker_fee, taker_fee)
    }

    /// Reports both sides' positions after a perpetual fill.
    pub(crate) fn report_positions(
        &self,
        instrument: InstrumentId,
        accounts: [u32; 2],
        sink: &mut impl EventSink,
    ) {
        let perp = self.instruments[instrument.0 as usize]
            .perp
            .as_ref()
            .expect("a perpetual");
        for account in accounts {
            let p = perp.position(account);
            sink.event(&Event::PositionChanged {
                account: crate::engine::AccountId(account),
                instrument,
                qty: p.qty,
                cost: p.cost,
                realised: p.realised,
            });
        }
    }

    /// Settles the funding interval ending at `at` (see `funding` for the formulas): every
    /// holder pays or receives `payment(qty, mark, rate)`; the rounding remainder goes to the
    /// venue. Without a valid index at `at` the settlement is skipped: no payments, and the
    /// interval's samples are discarded.
    pub(crate) fn settle_funding(
        &mut self,
        instrument: InstrumentId,
        at: TimeNs,
        sink: &mut impl EventSink,
    ) {
        let Engine {
            instruments,
            accounts,
            fees,
            ..
        } = self;
        let inst = &mut instruments[instrument.0 as usize];
        let npt = inst.notional_per_tick_lot;
        let perp = inst.perp.as_mut().expect("a perpetual");
        let spec = &perp.spec;
        let rate = perp.funding_rate_so_far_ppm();
        perp.funding.premium_sum_ppm = 0;
        perp.funding.samples = 0;
        perp.funding.next_settle_ns = at + spec.funding_interval_ns;
        let settled = perp.index.is_valid(at) && perp.mark.price.0 > 0;
        if settled {
            // Only a settled rate feeds the mark's c1.
            perp.funding.last_rate_ppm = rate;
            perp.seen = None;
        }
        if settled {
            let mark = perp.mark.price;
            let mut total = Units::ZERO;
            for &holder in &perp.holders {
                let position = &mut perp.positions[holder as usize];
                let amount = payment(position.qty, mark, npt, rate);
                position.funding += amount;
                accounts[holder as usize].balance_mut(Asset::Usd).free += amount;
                total += amount;
                sink.event(&Event::FundingPayment {
                    account: crate::engine::AccountId(holder),
                    instrument,
                    qty: position.qty,
                    mark,
                    rate_ppm: rate,
                    amount,
                });
            }
            debug_assert!(total <= Units::ZERO, "funding never creates money");
            fees[Asset::Usd.index()] -= total;
        }
        sink.event(&Event::FundingRate {
            instrument,
            rate_ppm: rate,
            next_funding_ns: perp.funding.next_settle_ns,
            settled_ns: if settled { at } else { 0 },
        });
        if settled {
            let holders = perp.holders.len();
            for k in 0..holders {
                let perp = self.instruments[instrument.0 as usize]
                    .perp
                    .as_ref()
                    .expect("perp");
                let holder = perp.holders[k];
                self.mark_dirty(crate::engine::AccountId(holder));
            }
        }
    }
}

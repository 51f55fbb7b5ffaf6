//! The liquidation engine: who is liquidatable, and the sequence that resolves them.
//!
//! Triggers. Every account with a perpetual position is filed in its instrument's
//! `LiquidationIndex` under the mark at which its maintenance margin would exceed its equity
//! (`price`). It is re-filed whenever its balances or positions change (fills, funding,
//! deposits, withdrawals, liquidation steps) — the engine collects such accounts as "dirty"
//! during a command and re-files them at its end. Accounts whose equity depends on more than
//! one price (positions in two perpetuals, or BTC/ETH collateral next to a position) are
//! "cross" accounts and are re-filed whenever any mark moves. A mark move therefore costs
//! O(accounts it triggers + cross accounts), not a scan of all positions.
//!
//! Sequence, for each triggered account whose exact margin check fails (equity < maintenance),
//! in order of (trigger price, account id):
//! 1. Cancel all its open orders.
//! 2. For each perpetual position, while equity is below the liquidation end level
//!    (maintenance + `liquidation_end` × (initial − maintenance)): an IOC reduce-only order of
//!    one step (`liquidation_step` of the position, at least `liquidation_min_qty`) limited to
//!    the bankruptcy price; it pays no taker fee, so a fill at the bankruptcy price leaves the
//!    equity at zero. The liquidation fee (`liquidation_fee` × notional at mark, at most
//!    the equity left) goes to the instrument's insurance fund.
//! 3. If a step found no liquidity within the bankruptcy price, the insurance fund takes the
//!    rest of the position at the bankruptcy price, if its equity stays non-negative at mark.
//! 4. Otherwise auto-deleveraging closes the rest against opposite positions ranked by
//!    profit × effective leverage (`adl`), at the bankruptcy price.
//!
//! Closing at the bankruptcy price leaves the account with zero equity, never below: the loss
//! beyond its equity falls on the fund, then on the deleveraged positions.

use super::adl::rank_opposite;
use super::price::{bankruptcy_price, liquidation_trigger, Exposure, Trigger};
use crate::engine::asset::Asset;
use crate::engine::command::NewOrder;
use crate::engine::event::{CancelReason, Event, EventSink, LiquidationStage};
use crate::engine::order::{flags, OrdType, Side, StpMode, TimeInForce};
use crate::engine::perp::margin::{initial_margin, maintenance_margin};
use crate::engine::perp::position::lots_notional;
use crate::engine::risk::MaintenanceView;
use crate::engine::state::{Engine, InstrumentState};
use crate::engine::types::{div_ceil_i128, div_euclid_i128, UNITS_PER_WHOLE};
use crate::engine::types::{AccountId, InstrumentId, PriceTicks, QtyLots, Units, PPM};

/// An order the liquidation engine places for a liquidated account.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InternalOrder {
    pub account: AccountId,
    pub instrument: InstrumentId,
    pub side: Side,
    pub qty: i64,
    pub limit: PriceTicks,
    /// `order::flags` bits besides `LIQUIDATION` (reduce-only for perpetual steps).
    pub flags: u8,
}

/// Most liquidation passes in one command; candidates beyond it wait for the next command.
const MAX_PASSES: usize = 64;

impl Engine {
    /// Notes that `account`'s equity or positions changed in this command (and, for a margin
    /// account, its loan).
    #[inline]
    pub(crate) fn mark_dirty(&mut self, account: AccountId) {
        self.mark_loan_dirty(account);
        if !self.perps.is_empty() {
            self.dirty.insert(account.0);
        }
    }

    /// End of a command: re-file changed accounts (and cross accounts if a mark moved), then
    /// liquidate every account whose trigger the marks reached. A liquidation fill can hurt
    /// the resting orders it meets (a stale quote far from the mark), so passes repeat while
    /// the previous one liquidated someone, at most `MAX_PASSES` times per command.
    #[inline(never)]
    pub(crate) fn run_liquidations(&mut self, marks_moved: bool, sink: &mut impl EventSink) {
        if marks_moved {
            for k in 0..self.cross.members().len() {
                let account = self.cross.members()[k];
                self.mark_dirty(AccountId(account));
            }
        }
        self.adl_ranked = None;
        for _ in 0..MAX_PASSES {
            self.refile_dirty();
            if !self.liquidation_pass(sink) {
                break;
            }
        }
        self.refile_dirty();
    }

    /// Liquidates the triggered accounts that fail the exact check; returns whether any did.
    fn liquidation_pass(&mut self, sink: &mut impl EventSink) -> bool {
        self.liq_scratch.clear();
        for k in 0..self.perps.len() {
            let perp = self.instruments[self.perps[k].0 as usize]
                .perp
                .as_ref()
                .expect("perp");
            if !perp.index.is_valid(self.now) || perp.mark.price.0 == 0 {
                // No liquidation on an invalid index (SPEC §6).
                continue;
            }
            let scratch = &mut self.liq_scratch;
            self.liq_index[k].for_each_triggered(perp.mark.price, |account, trigger| {
                scratch.push((trigger, account));
            });
        }
        self.liq_scratch.sort_unstable();
        self.liq_scratch.dedup_by_key(|(_, account)| *account);
        let mut liquidated = false;
        for k in 0..self.liq_scratch.len() {
            let account = AccountId(self.liq_scratch[k].1);
            if let Some(view) = self.liquidatable(account) {
                self.liquidate(account, view, sink);
                liquidated = true;
            }
        }
        liquidated
    }

    pub(crate) fn refile_dirty(&mut self) {
        while let Some(account) = self.dirty.pop() {
            self.refile(account);
        }
    }

    /// The account's equity and maintenance margin if equity is below maintenance margin and
    /// the account is not an insurance fund.
    fn liquidatable(&self, account: AccountId) -> Option<MaintenanceView> {
        if self.is_insurance_fund(account) {
            return None;
        }
        let view = self
            .maintenance_view(account)
            .expect("indexed accounts exist");
        let below = view.maintenance_margin > Units::ZERO && view.equity < view.maintenance_margin;
        below.then_some(view)
    }

    pub(crate) fn is_insurance_fund(&self, account: AccountId) -> bool {
        self.perps.iter().any(|id| {
            let perp = self.instruments[id.0 as usize].perp.as_ref().expect("perp");
            perp.spec.insurance_fund_account == Some(account.0)
        })
    }

    /// Files `account` in every perpetual's index under its current trigger.
    fn refile(&mut self, account: u32) {
        let holds_any = self.perps.iter().any(|id| {
            let perp = self.instruments[id.0 as usize].perp.as_ref().expect("perp");
            perp.positions
                .get(account as usize)
                .is_some_and(|p| p.qty != 0)
        });
        if !holds_any {
            // Entries exist only with a position; the trade that closed it re-filed the
            // account already, so only the cross flag can be stale.
            for k in 0..self.perps.len() {
                self.liq_index[k].remove(account);
            }
            self.cross.set(account, false);
            return;
        }
        let Some(summary) = self.maintenance_view(AccountId(account)) else {
            return;
        };
        let mut positions = 0;
        let mut collateral = false;
        let fund = self.is_insurance_fund(AccountId(account));
        for k in 0..self.perps.len() {
            let inst = &self.instruments[self.perps[k].0 as usize];
            let perp = inst.perp.as_ref().expect("perp");
            let position = perp.position(account);
            if position.qty == 0 || fund {
                self.liq_index[k].remove(account);
                continue;
            }
            positions += 1;
            let npt = inst.notional_per_tick_lot;
            let notional = position.notional_at(perp.mark.price, npt);
            let own_margin = maintenance_margin(&perp.spec.tiers, notional).unwrap_or(Units::ZERO);
            let base = self.accounts[account as usize]
                .balance(inst.spec.base)
                .total();
            collateral |= base != Units::ZERO;
            let keep = (PPM - self.limits.risk.haircut_ppm[inst.spec.base.index()].0) as i128;
            let per_tick = base.0 as i128 * inst.spec.tick_units as i128 * keep
                / (UNITS_PER_WHOLE as i128 * PPM as i128);
            let exposure = Exposure {
                qty: position.qty,
                per_tick_lot: npt,
                collateral_per_tick: per_tick,
                equity: summary.equity.0 as i128,
                mark: perp.mark.price,
                other_margin: (summary.maintenance_margin - own_margin).0 as i128,
            };
            let trigger = liquidation_trigger(&exposure, &perp.spec.tiers);
            self.liq_index[k].set(account, trigger);
        }
        let cross = positions > 1 || (positions == 1 && collateral);
        self.cross.set(account, cross);
    }

    /// The sequence of the module comment for one account, whose equity and maintenance
    /// margin are `view`. Canceling its orders changes neither (perpetual orders hold nothing,
    /// spot holds only move between free and held), so the first step starts from `view`.
    fn liquidate(&mut self, account: AccountId, view: MaintenanceView, sink: &mut impl EventSink) {
        self.cancel_all_of(account, CancelReason::Liquidation, sink);
        let mut known = Some(view);
        for k in 0..self.perps.len() {
            let id = self.perps[k];
            // Valid for the first position only: liquidating one changes the account.
            self.liquidate_position(account, id, known.take(), sink);
        }
        self.mark_dirty(account);
    }

    /// Steps 2–4 for one position; `known` is the account's current view, if the caller has
    /// it (each view costs a pass over the account's positions).
    fn liquidate_position(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        mut known: Option<MaintenanceView>,
        sink: &mut impl EventSink,
    ) {
        loop {
            let view = match known.take() {
                Some(view) => view,
                None => self.maintenance_view(account).expect("account exists"),
            };
            let Some((qty, bp)) = self.liquidation_need(account, instrument, &view) else {
                return;
            };
            let inst = &self.instruments[instrument.0 as usize];
            let spec = &inst.perp.as_ref().expect("perp").spec;
            let step = div_ceil_i128(
                qty.unsigned_abs() as i128 * spec.liquidation_step_ppm.0 as i128,
                PPM as i128,
            ) as i64;
            let step = step.max(spec.liquidation_min_lots.0).min(qty.abs());
            let side = if qty > 0 { Side::Sell } else { Side::Buy };
            let order = InternalOrder {
                account,
                instrument,
                side,
                qty: step,
                limit: bp,
                flags: flags::REDUCE_ONLY,
            };
            let filled = self.internal_ioc(&order, sink);
            if filled.0 > 0 {
                self.charge_liquidation_fee(account, instrument, filled, sink);
                sink.event(&Event::Liquidation {
                    account,
                    instrument,
                    stage: LiquidationStage::PartialOrder,
                    side,
                    qty: filled,
                    price: bp,
                });
            }
            if filled.0 < step {
                // Nothing filled, no fee: the account is as `view` saw it.
                let unchanged = (filled.0 == 0).then_some(view);
                self.take_over_rest(account, instrument, unchanged, sink);
                return;
            }
        }
    }

    /// The position left to liquidate and its bankruptcy price, or `None` once the account is
    /// flat in `instrument` or back above its liquidation end level.
    fn liquidation_need(
        &self,
        account: AccountId,
        instrument: InstrumentId,
        summary: &MaintenanceView,
    ) -> Option<(i64, PriceTicks)> {
        let inst = &self.instruments[instrument.0 as usize];
        let perp = inst.perp.as_ref().expect("perp");
        let qty = perp.position(account.0).qty;
        if qty == 0 {
            return None;
        }
        let npt = inst.notional_per_tick_lot;
        let notional = lots_notional(qty.abs(), perp.mark.price, npt);
        let initial = initial_margin(&perp.spec.tiers, notional).unwrap_or(Units(i64::MAX / 4));
        let maint = maintenance_margin(&perp.spec.tiers, notional).unwrap_or(initial);
        let others = summary.maintenance_margin.0 as i128 - maint.0 as i128;
        let band = (initial.0 as i128 - maint.0 as i128) * perp.spec.liquidation_end_ppm.0 as i128;
        let end = others + maint.0 as i128 + div_euclid_i128(band, PPM as i128);
        if summary.equity.0 as i128 >= end {
            return None;
        }
        Some((
            qty,
            bounded_bankruptcy_price(inst, qty, summary.equity.0 as i128),
        ))
    }

    /// Enters and matches an internal IOC order of a liquidated account, flagged
    /// `LIQUIDATION` (no taker fee on perpetuals); returns what filled. Nothing fills when the
    /// order pool or the order ids are exhausted.
    ///
    /// When the book's best opposite price does not reach the limit the order could fill
    /// nothing, and it is not entered at all: the step is recorded by the events of what
    /// follows (the fund's takeover, ADL). In a storm most steps find an empty book within the
    /// bankruptcy price; entering and canceling each would cost a fifth of the update. The
    /// account's own orders were canceled before its first step, so self-trade prevention
    /// cannot change the answer.
    pub(crate) fn internal_ioc(
        &mut self,
        order: &InternalOrder,
        sink: &mut impl EventSink,
    ) -> QtyLots {
        if self.pool.live() == self.limits.max_orders || self.order_ids.exhausted() {
            return QtyLots::ZERO;
        }
        let book = &self.instruments[order.instrument.0 as usize].book;
        let reachable = book
            .best(order.side.opposite())
            .is_some_and(|best| crate::engine::spot::crosses(order.side, order.limit, best));
        if !reachable {
            return QtyLots::ZERO;
        }
        let cmd = NewOrder {
            account: order.account,
            instrument: order.instrument,
            cl_ord_id: 0,
            side: order.side,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Ioc,
            price: order.limit,
            qty: QtyLots(order.qty),
            expire_ns: 0,
            flags: order.flags,
            stp: StpMode::CancelResting,
        };
        let slot = self.enter_order(&cmd, order.limit);
        self.pool.get_mut(slot).flags |= flags::LIQUIDATION;
        sink.event(&Event::Accepted {
            order: self.pool.get(slot).id,
            cl_ord_id: 0,
            account: order.account,
            instrument: order.instrument,
            side: order.side,
            tif: TimeInForce::Ioc,
            market: false,
            price: order.limit,
            qty: QtyLots(order.qty),
        });
        let remainder = self.match_order(slot, sink);
        let filled = self.pool.get(slot).filled;
        self.finish_taker(slot, remainder, sink);
        filled
    }

    /// Fee = `liquidation_fee` × notional at mark of what filled, at most the equity left;
    /// from the account's USD to the instrument's insurance fund (kept by the venue when the
    /// instrument has no fund).
    fn charge_liquidation_fee(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        filled: QtyLots,
        sink: &mut impl EventSink,
    ) {
        let inst = &self.instruments[instrument.0 as usize];
        let perp = inst.perp.as_ref().expect("perp");
        let notional = lots_notional(filled.0, perp.mark.price, inst.notional_per_tick_lot);
        let fund = perp.spec.insurance_fund_account;
        let fee = notional.times_rate_ceil(perp.spec.liquidation_fee_ppm);
        let equity = self.maintenance_view(account).expect("account").equity;
        let fee = fee.min(equity).max(Units::ZERO);
        if fee == Units::ZERO {
            return;
        }
        self.accounts[account.0 as usize]
            .balance_mut(Asset::Usd)
            .free -= fee;
        match fund {
            Some(fund) => {
                self.accounts[fund as usize].balance_mut(Asset::Usd).free += fee;
                self.mark_dirty(AccountId(fund));
            }
            None => self.fees[Asset::Usd.index()] += fee,
        }
        sink.event(&Event::LiquidationFee {
            account,
            instrument,
            fee,
        });
    }

    /// Steps 3 and 4: the fund takes the rest at the bankruptcy price if it can, else ADL.
    fn take_over_rest(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        known: Option<MaintenanceView>,
        sink: &mut impl EventSink,
    ) {
        let inst = &self.instruments[instrument.0 as usize];
        let perp = inst.perp.as_ref().expect("perp");
        let qty = perp.position(account.0).qty;
        if qty == 0 {
            return;
        }
        let view = known.or_else(|| self.maintenance_view(account));
        let equity = view.expect("account").equity.0 as i128;
        let npt = inst.notional_per_tick_lot;
        let bp = bounded_bankruptcy_price(inst, qty, equity);
        if let Some(fund) = perp.spec.insurance_fund_account {
            // The fund's position after taking `qty` at bp, valued at mark.
            let gain = qty as i128 * (perp.mark.price.0 - bp.0) as i128 * npt as i128;
            let fund_equity = self
                .maintenance_view(AccountId(fund))
                .map_or(0, |s| s.equity.0 as i128);
            if fund_equity + gain >= 0 {
                self.transfer_position(instrument, account, AccountId(fund), qty, bp, sink);
                sink.event(&Event::Liquidation {
                    account,
                    instrument,
                    stage: LiquidationStage::InsuranceFund,
                    side: if qty > 0 { Side::Sell } else { Side::Buy },
                    qty: QtyLots(qty.abs()),
                    price: bp,
                });
                return;
            }
        }
        self.auto_deleverage(account, instrument, qty, bp, sink);
    }

    /// Step 4: closes `qty` of `account` against ranked opposite positions at `bp`.
    ///
    /// The ranking is computed once per command and instrument side and then consumed in
    /// order (a storm of liquidations must not re-rank all holders per account); entries whose
    /// position has meanwhile closed or flipped are skipped.
    fn auto_deleverage(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        qty: i64,
        bp: PriceTicks,
        sink: &mut impl EventSink,
    ) {
        let key = (instrument, -qty.signum());
        if self.adl_ranked != Some(key) {
            let mut ranked = std::mem::take(&mut self.adl_scratch);
            rank_opposite(self, instrument, account, qty, &mut ranked);
            self.adl_scratch = ranked;
            self.adl_ranked = Some(key);
            self.adl_cursor = 0;
        }
        let mut rest = qty;
        while rest != 0 && self.adl_cursor < self.adl_scratch.len() {
            let counterparty = self.adl_scratch[self.adl_cursor].1;
            let theirs = self.instruments[instrument.0 as usize]
                .perp
                .as_ref()
                .expect("perp")
                .position(counterparty)
                .qty;
            if theirs.signum() != -qty.signum() || counterparty == account.0 {
                self.adl_cursor += 1;
                continue;
            }
            let take = rest.abs().min(theirs.abs()) * rest.signum();
            self.transfer_position(instrument, account, AccountId(counterparty), take, bp, sink);
            let side = if take > 0 { Side::Sell } else { Side::Buy };
            sink.event(&Event::Liquidation {
                account,
                instrument,
                stage: LiquidationStage::AutoDeleverage,
                side,
                qty: QtyLots(take.abs()),
                price: bp,
            });
            sink.event(&Event::AutoDeleveraged {
                account: AccountId(counterparty),
                instrument,
                side: side.opposite(),
                qty: QtyLots(take.abs()),
                price: bp,
            });
            rest -= take;
        }
    }

    /// Moves `qty` lots of position (signed, from `from`'s side) from `from` to `to` at
    /// `price`, as a trade without fees: `from` closes, `to` takes it on.
    fn transfer_position(
        &mut self,
        instrument: InstrumentId,
        from: AccountId,
        to: AccountId,
        qty: i64,
        price: PriceTicks,
        sink: &mut impl EventSink,
    ) {
        let inst = &mut self.instruments[instrument.0 as usize];
        let npt = inst.notional_per_tick_lot;
        let perp = inst.perp.as_mut().expect("perp");
        let from_pnl = perp.trade(from.0, -qty, price, npt);
        let to_pnl = perp.trade(to.0, qty, price, npt);
        self.accounts[from.0 as usize].balance_mut(Asset::Usd).free += Units(from_pnl);
        self.accounts[to.0 as usize].balance_mut(Asset::Usd).free += Units(to_pnl);
        self.mark_dirty(from);
        self.mark_dirty(to);
        self.report_positions(instrument, [from.0, to.0], sink);
    }

    /// The trigger `account` is filed under for `instrument` (tests, tools).
    pub fn liquidation_trigger_of(&self, instrument: InstrumentId, account: AccountId) -> Trigger {
        match self.perps.iter().position(|id| *id == instrument) {
            Some(k) => self.liq_index[k].trigger(account.0),
            None => Trigger::Never,
        }
    }
}

/// The bankruptcy price of `qty` lots of `inst` with `equity`, within the book's price domain.
fn bounded_bankruptcy_price(inst: &InstrumentState, qty: i64, equity: i128) -> PriceTicks {
    let perp = inst.perp.as_ref().expect("perp");
    bankruptcy_price(qty, inst.notional_per_tick_lot, equity, perp.mark.price)
        .clamp(inst.spec.min_price_ticks, inst.spec.max_price_ticks)
}

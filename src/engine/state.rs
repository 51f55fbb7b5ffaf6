//! The engine's state and its single entry point, `apply`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::account::{Account, NIL};
use super::account_set::AccountSet;
use super::asset::Asset;
use super::book::{OrderBook, OrderPool};
use super::cl_ord_ids::ClOrdIds;
use super::command::Command;
use super::event::EventSink;
use super::instrument::{InstrumentSpec, SpecError};
use super::liquidation::LiquidationIndex;
use super::margin::trigger::{LoanTriggers, VA};
use super::margin::MarginRules;
use super::mmp::MmpTable;
use super::order::Side;
use super::order_ids::OrderIds;
use super::perp::PerpMarket;
use super::risk::RiskRules;
use super::types::{AccountId, InstrumentId, PriceTicks, QtyLots, RatePpm, TimeNs, Units};

/// Capacities fixed at start-up. Every table is allocated once; a full table is a reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineLimits {
    pub max_accounts: u32,
    /// Live orders across all instruments.
    pub max_orders: u32,
    pub max_levels_per_book: u32,
    pub max_open_orders_per_account: u32,
    /// Retired ClOrdIDs remembered to reject duplicates (0: only live orders are checked).
    pub retired_cl_ord_ids: u32,
    /// Market maker protection configurations (account × underlying) the venue holds; a
    /// configuration beyond it is rejected (`MmpTableFull`).
    pub mmp_configs_max: u32,
    /// Entries one MassQuote may carry, at most `quote::QUOTE_ENTRIES_CAPACITY`; a larger
    /// message is rejected whole (`TooManyQuoteEntries`).
    pub quote_entries_max: u32,
    /// Venue-wide risk rules (perpetual gating, collateral haircuts).
    pub risk: RiskRules,
    /// Margin-financing rules.
    pub margin: MarginRules,
}

impl Default for EngineLimits {
    fn default() -> EngineLimits {
        EngineLimits {
            max_accounts: 10_000,
            max_orders: 1_000_000,
            max_levels_per_book: 100_000,
            max_open_orders_per_account: 100_000,
            retired_cl_ord_ids: 100_000,
            mmp_configs_max: 1_024,
            quote_entries_max: 16,
            risk: RiskRules::default(),
            margin: MarginRules::default(),
        }
    }
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("instrument {index}: {source}")]
    Spec { index: usize, source: SpecError },
    #[error("instrument {symbol} has id {id}, expected {expected} (ids are dense, in order)")]
    InstrumentId {
        symbol: String,
        id: u16,
        expected: usize,
    },
    #[error("limit {what} must be positive")]
    Limit { what: &'static str },
    #[error(transparent)]
    Margin(#[from] super::margin::rules::RulesError),
    #[error("limit {what} is {value}, at most {max}")]
    LimitTooLarge {
        what: &'static str,
        value: u32,
        max: usize,
    },
}

/// Live state of one instrument.
pub struct InstrumentState {
    pub spec: InstrumentSpec,
    pub book: OrderBook,
    pub halted: bool,
    /// Last trade price, or the configured reference before the first trade.
    pub reference: PriceTicks,
    pub band_low: PriceTicks,
    pub band_high: PriceTicks,
    /// The highest fee an order may pay, held at entry for buy orders.
    pub hold_fee_ppm: RatePpm,
    /// `spec.notional_per_tick_lot()`, computed once: the spec's form divides in i128.
    pub notional_per_tick_lot: i64,
    /// The perpetual market of a perpetual instrument (boxed: spot books stay small).
    pub perp: Option<Box<PerpMarket>>,
}

impl InstrumentState {
    fn new(spec: InstrumentSpec, limits: &EngineLimits) -> InstrumentState {
        let book = OrderBook::new(
            spec.min_price_ticks,
            spec.max_price_ticks,
            limits.max_levels_per_book,
        );
        let perp = spec
            .perp
            .clone()
            .map(|p| Box::new(PerpMarket::new(p, limits.max_accounts)));
        let hold_fee_ppm = RatePpm(spec.maker_fee_ppm.0.max(spec.taker_fee_ppm.0).max(0));
        let notional_per_tick_lot = spec.notional_per_tick_lot();
        let mut state = InstrumentState {
            reference: spec.reference_price_ticks,
            band_low: spec.min_price_ticks,
            band_high: spec.max_price_ticks,
            spec,
            book,
            halted: false,
            hold_fee_ppm,
            notional_per_tick_lot,
            perp,
        };
        state.set_reference(state.reference);
        state
    }

    /// Notional = price × quantity × notional per tick-lot, exact, in i64.
    ///
    /// Every price the engine handles lies in `[min_price, max_price]` and every quantity in
    /// `[0, max_qty]` (both checked at entry), and `InstrumentSpec::validate` proved that
    /// `max_price × max_qty × notional_per_tick_lot` fits in half an i64: no overflow.
    #[inline]
    pub fn notional(&self, price: PriceTicks, qty: QtyLots) -> Units {
        debug_assert!(price >= self.spec.min_price_ticks && price <= self.spec.max_price_ticks);
        debug_assert!(qty >= QtyLots::ZERO && qty <= self.spec.max_qty_lots);
        Units(price.0 * qty.0 * self.notional_per_tick_lot)
    }

    /// Funds an order on `side` at `price` holds per open lot (see `spot`'s holding rule):
    /// for a buy the notional of one lot plus the highest fee, in quote units; for a sell one
    /// lot, in base units. Perpetual orders hold nothing: margin is checked, not held.
    #[inline(always)]
    pub fn hold_per_lot(&self, side: Side, price: PriceTicks) -> Units {
        if self.perp.is_some() {
            return Units::ZERO;
        }
        match side {
            Side::Buy => {
                let per_lot = self.notional(price, QtyLots(1));
                per_lot + per_lot.times_rate_ceil(self.hold_fee_ppm)
            }
            Side::Sell => Units(self.spec.lot_units),
        }
    }

    /// The asset an order on `side` holds: quote for a buy, base for a sell.
    #[inline]
    pub fn hold_asset(&self, side: Side) -> Asset {
        match side {
            Side::Buy => self.spec.quote,
            Side::Sell => self.spec.base,
        }
    }

    /// Band = reference × (1 ± band_ppm / 1e6), rounded inward to whole ticks and clipped to
    /// the price domain.
    #[inline]
    pub fn set_reference(&mut self, price: PriceTicks) {
        self.reference = price;
        let width = price.times_rate_trunc(self.spec.price_band_ppm);
        self.band_low = PriceTicks((price.0 - width).max(self.spec.min_price_ticks.0));
        self.band_high = PriceTicks((price.0 + width).min(self.spec.max_price_ticks.0));
    }
}

/// The exchange state machine. State is a pure function of the commands applied.
pub struct Engine {
    pub(crate) limits: EngineLimits,
    pub(crate) instruments: Vec<InstrumentState>,
    pub(crate) accounts: Vec<Account>,
    /// Whether account ids below `accounts.len()` exist (ids are dense but created by command).
    pub(crate) account_exists: Vec<bool>,
    pub(crate) pool: OrderPool,
    /// Issues order ids, which name their pool slot: no map from id to slot is needed.
    pub(crate) order_ids: OrderIds,
    /// (account, ClOrdID) of live orders (→ pool slot) and of finished ones in a window.
    pub(crate) cl_ids: ClOrdIds,
    /// GTD expiries (time, order id); entries of finished orders are skipped when popped.
    pub(crate) expiries: BinaryHeap<Reverse<(TimeNs, u64)>>,
    pub(crate) next_trade_id: u64,
    /// Fees collected by the venue, per asset.
    pub(crate) fees: [Units; Asset::COUNT],
    pub(crate) now: TimeNs,
    pub(crate) last_seq: u64,
    /// The perpetual instruments, in id order.
    pub(crate) perps: Vec<InstrumentId>,
    /// Per asset, the perpetual whose index prices it as collateral.
    pub(crate) va_perp: [Option<u16>; Asset::COUNT],
    /// Liquidation candidates of each perpetual (same order as `perps`).
    pub(crate) liq_index: Vec<LiquidationIndex>,
    /// Accounts whose equity changed in this command, to re-file at its end.
    pub(crate) dirty: AccountSet,
    /// Accounts whose trigger depends on more than one price (see `liquidation`).
    pub(crate) cross: AccountSet,
    /// A mark or index changed in this command.
    pub(crate) prices_moved: bool,
    /// No perpetual timer is due before this time (derived, not state: 0 means "look"). Set
    /// by `perp_timers` from the deadlines it leaves; an index update or a breaker trip, which
    /// set new deadlines, reset it to 0.
    pub(crate) perp_timers_due_ns: TimeNs,
    pub(crate) liq_scratch: Vec<(PriceTicks, u32)>,
    /// The ADL ranking of this command: (instrument, sign of the positions ranked) and the
    /// first entry not yet used up. Ranked once per command (the mark is fixed within it).
    pub(crate) adl_scratch: Vec<(i128, u32)>,
    pub(crate) adl_ranked: Option<(InstrumentId, i64)>,
    pub(crate) adl_cursor: usize,
    /// Per asset, the spot instrument that sells it in a loan close-out.
    pub(crate) va_spot: [Option<u16>; Asset::COUNT],
    /// Accounts eligible for margin financing, by id (`margin_flag` marks them).
    pub(crate) margin_accounts: Vec<u32>,
    pub(crate) margin_flag: Vec<bool>,
    /// Margin accounts whose balances changed in this command, to re-evaluate at its end.
    pub(crate) loan_dirty: AccountSet,
    /// Interest charged on margin loans, USD units (the lender's income).
    pub(crate) interest_income: Units,
    /// Loan triggers per virtual asset (BTC, ETH), where the asset has an index.
    pub(crate) loan_triggers: [Option<LoanTriggers>; 2],
    /// Borrowers re-evaluated on every index move (see `margin::trigger`).
    pub(crate) loan_cross: AccountSet,
    pub(crate) loan_scratch: Vec<u32>,
    /// Market maker protection of every configured account and underlying.
    pub(crate) mmp: MmpTable,
}

impl Engine {
    /// Builds an empty engine (no accounts) for `instruments`, whose ids must be 0, 1, 2...
    ///
    /// # Errors
    /// An invalid instrument specification or limit.
    pub fn new(
        instruments: Vec<InstrumentSpec>,
        limits: EngineLimits,
    ) -> Result<Engine, EngineError> {
        let positive = [
            ("max_accounts", limits.max_accounts),
            ("max_orders", limits.max_orders),
            ("max_levels_per_book", limits.max_levels_per_book),
            (
                "max_open_orders_per_account",
                limits.max_open_orders_per_account,
            ),
            ("quote_entries_max", limits.quote_entries_max),
        ];
        if let Some((what, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(EngineError::Limit { what });
        }
        limits.margin.validate()?;
        let max = super::quote::QUOTE_ENTRIES_CAPACITY;
        if limits.quote_entries_max as usize > max {
            return Err(EngineError::LimitTooLarge {
                what: "quote_entries_max",
                value: limits.quote_entries_max,
                max,
            });
        }
        let mut states = Vec::with_capacity(instruments.len());
        for (index, spec) in instruments.into_iter().enumerate() {
            spec.validate()
                .map_err(|source| EngineError::Spec { index, source })?;
            if spec.id.0 as usize != index {
                return Err(EngineError::InstrumentId {
                    symbol: spec.symbol.clone(),
                    id: spec.id.0,
                    expected: index,
                });
            }
            states.push(InstrumentState::new(spec, &limits));
        }
        let perps: Vec<InstrumentId> = states
            .iter()
            .filter(|s| s.perp.is_some())
            .map(|s| s.spec.id)
            .collect();
        let mut va_perp = [None; Asset::COUNT];
        for id in &perps {
            let base = states[id.0 as usize].spec.base.index();
            va_perp[base] = va_perp[base].or(Some(id.0));
        }
        let mut va_spot = [None; Asset::COUNT];
        for state in states.iter().filter(|s| s.perp.is_none()) {
            let base = state.spec.base.index();
            va_spot[base] = va_spot[base].or(Some(state.spec.id.0));
        }
        let max_orders = limits.max_orders as usize;
        let max_accounts = limits.max_accounts as usize;
        let liq_index = perps
            .iter()
            .map(|id| {
                let spec = &states[id.0 as usize].spec;
                LiquidationIndex::new(
                    spec.min_price_ticks,
                    spec.max_price_ticks,
                    limits.max_accounts,
                )
            })
            .collect();
        let with_perps = |n: usize| if perps.is_empty() { 0 } else { n };
        let loan_triggers = VA.map(|asset| {
            let perp = va_perp[asset.index()]?;
            let spec = &states[perp as usize].spec;
            let (min, max) = (spec.min_price_ticks, spec.max_price_ticks);
            Some(LoanTriggers::new(perp, min, max, limits.max_accounts))
        });
        Ok(Engine {
            limits,
            instruments: states,
            accounts: Vec::with_capacity(limits.max_accounts as usize),
            account_exists: Vec::with_capacity(limits.max_accounts as usize),
            pool: OrderPool::new(limits.max_orders),
            order_ids: OrderIds::new(limits.max_orders),
            cl_ids: ClOrdIds::new(max_orders, limits.retired_cl_ord_ids as usize, max_accounts),
            expiries: BinaryHeap::with_capacity(max_orders),
            next_trade_id: 1,
            fees: [Units::ZERO; Asset::COUNT],
            now: 0,
            last_seq: 0,
            liq_index,
            dirty: AccountSet::new(with_perps(max_accounts)),
            cross: AccountSet::new(with_perps(max_accounts)),
            prices_moved: false,
            perp_timers_due_ns: 0,
            liq_scratch: Vec::with_capacity(with_perps(max_accounts)),
            adl_scratch: Vec::with_capacity(with_perps(max_accounts)),
            adl_ranked: None,
            adl_cursor: 0,
            mmp: MmpTable::new(limits.max_accounts, limits.mmp_configs_max),
            perps,
            va_perp,
            va_spot,
            margin_accounts: Vec::with_capacity(max_accounts),
            margin_flag: vec![false; max_accounts],
            loan_dirty: AccountSet::new(max_accounts),
            interest_income: Units::ZERO,
            loan_triggers,
            loan_cross: AccountSet::new(max_accounts),
            loan_scratch: Vec::with_capacity(max_accounts),
        })
    }

    /// Applies one command stamped with `seq` and `time_ns` by the sequencer, writing its
    /// events into `sink`. Timers due at `time_ns` fire first.
    pub fn apply(
        &mut self,
        seq: u64,
        time_ns: TimeNs,
        command: &Command,
        sink: &mut impl EventSink,
    ) {
        self.begin(seq, time_ns, sink);
        match command {
            Command::NewOrder(new) => self.new_order(new, sink),
            Command::Cancel(cancel) => self.cancel(cancel, sink),
            Command::Amend(amend) => self.amend(amend, sink),
            Command::MassCancel(mass) => self.mass_cancel(mass, sink),
            Command::Admin(admin) => self.admin(admin, sink),
            Command::QuoteCancel(cancel) => self.quote_cancel(cancel, sink),
            Command::MmpConfig(config) => self.mmp_config(config, sink),
            Command::MmpReset(reset) => self.mmp_reset(reset, sink),
            Command::Tick => {}
        }
        self.end(sink);
    }

    /// Before a command: take its stamp and fire the timers due by then.
    #[inline]
    pub(crate) fn begin(&mut self, seq: u64, time_ns: TimeNs, sink: &mut impl EventSink) {
        debug_assert!(seq > self.last_seq, "sequence numbers must increase");
        self.last_seq = seq;
        let before = self.now;
        if time_ns > self.now {
            self.now = time_ns;
        }
        self.expire_due(sink);
        if !self.margin_accounts.is_empty() {
            self.interest_timer(before);
        }
        if !self.perps.is_empty() && self.now >= self.perp_timers_due_ns {
            self.perp_timers(sink);
        }
    }

    /// After a command: perpetual marks follow the books, trades and index.
    #[inline]
    pub(crate) fn end(&mut self, sink: &mut impl EventSink) {
        let mut moved = false;
        if !self.perps.is_empty() {
            self.refresh_marks(sink);
            moved = std::mem::take(&mut self.prices_moved);
            self.run_liquidations(moved, sink);
        }
        if !self.margin_accounts.is_empty() {
            self.margin_end(moved, sink);
        }
    }

    /// Whether `account` used `cl_ord_id` on a live order or, within the retired window, on a
    /// finished one: a new order or a replace with it is a duplicate.
    #[inline]
    pub(crate) fn cl_ord_id_used(&self, account: AccountId, cl_ord_id: u64) -> bool {
        self.cl_ids.used((account.0, cl_ord_id))
    }

    /// The earliest time at which a timer (GTD expiry) is due, if any. The sequencer journals a
    /// timer record when its clock passes it, so expiry does not wait for the next message.
    pub fn next_timer_ns(&self) -> Option<TimeNs> {
        let expiry = self.expiries.peek().map(|Reverse((time_ns, _))| *time_ns);
        [self.next_perp_timer_ns(), self.next_interest_ns()]
            .into_iter()
            .fold(expiry, |next, timer| match (next, timer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            })
    }

    /// The perpetual market of `instrument`, if it is a perpetual.
    pub fn perp(&self, instrument: InstrumentId) -> Option<&PerpMarket> {
        self.instruments.get(instrument.0 as usize)?.perp.as_deref()
    }

    /// The perpetual instruments.
    pub fn perp_instruments(&self) -> &[InstrumentId] {
        &self.perps
    }

    /// The engine's time: the latest sequencer stamp applied.
    pub fn now(&self) -> TimeNs {
        self.now
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The MMP state of `account` on `underlying`, if configured.
    pub fn mmp_state(
        &self,
        account: AccountId,
        underlying: Asset,
    ) -> Option<&super::mmp::MmpState> {
        self.mmp
            .get(account, super::mmp::underlying_index(underlying)?)
    }

    pub fn limits(&self) -> &EngineLimits {
        &self.limits
    }

    pub fn instrument_count(&self) -> usize {
        self.instruments.len()
    }

    pub fn instrument(&self, id: InstrumentId) -> Option<&InstrumentState> {
        self.instruments.get(id.0 as usize)
    }

    /// The instrument with this FIX SecurityID.
    pub fn instrument_by_security_id(&self, security_id: i32) -> Option<&InstrumentState> {
        self.instruments
            .iter()
            .find(|i| i.spec.security_id == security_id)
    }

    pub fn account(&self, id: AccountId) -> Option<&Account> {
        match self.account_exists.get(id.0 as usize) {
            Some(true) => self.accounts.get(id.0 as usize),
            _ => None,
        }
    }

    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts
            .iter()
            .filter(|a| self.account_exists[a.id.0 as usize])
    }

    /// Fees the venue has collected in `asset`.
    pub fn fees(&self, asset: Asset) -> Units {
        self.fees[asset.index()]
    }

    /// Live orders in the pool.
    pub fn live_orders(&self) -> u32 {
        self.pool.live()
    }

    /// A live order by its exchange id.
    pub fn order(&self, id: super::types::OrderId) -> Option<&super::order::Order> {
        let slot = self.order_ids.live_slot(&self.pool, id)?;
        Some(self.pool.get(slot))
    }

    /// Everything the venue holds of `asset`: every account's free and held balance plus fees
    /// (and interest income), and for USD minus the entry cost of all perpetual positions.
    /// Trading and funding never change it; only deposits and withdrawals do.
    ///
    /// Why the cost: a perpetual trade of `dq` lots at `p` moves `p × dq` between the two
    /// sides' `USD − cost` (see `perp::position`), and the positions sum to zero, so
    /// `Σ USD − Σ cost` is what the perpetual books conserve.
    pub fn total_holdings(&self, asset: Asset) -> i128 {
        let accounts: i128 = self
            .accounts()
            .map(|a| a.balance(asset).total().0 as i128)
            .sum();
        let mut cost: i128 = 0;
        if asset == Asset::Usd {
            for id in &self.perps {
                let perp = self.instruments[id.0 as usize].perp.as_ref().expect("perp");
                cost += perp
                    .holders
                    .iter()
                    .map(|&h| perp.position(h).cost.0 as i128)
                    .sum::<i128>();
            }
        }
        let interest = match asset {
            Asset::Usd => self.interest_income.0 as i128,
            _ => 0,
        };
        accounts + self.fees(asset).0 as i128 + interest - cost
    }

    /// Interest charged on margin loans so far (USD units).
    pub fn interest_income(&self) -> Units {
        self.interest_income
    }

    /// Links `slot` at the head of its account's order list.
    pub(crate) fn link_account_order(&mut self, slot: u32) {
        let account = self.pool.get(slot).account.0 as usize;
        let head = self.accounts[account].orders_head;
        {
            let order = self.pool.get_mut(slot);
            order.acc_prev = NIL;
            order.acc_next = head;
        }
        if head != NIL {
            self.pool.get_mut(head).acc_prev = slot;
        }
        let account = &mut self.accounts[account];
        account.orders_head = slot;
        account.open_orders += 1;
    }

    /// Unlinks `slot` from its account's order list.
    pub(crate) fn unlink_account_order(&mut self, slot: u32) {
        let (account, prev, next) = {
            let order = self.pool.get(slot);
            (order.account.0 as usize, order.acc_prev, order.acc_next)
        };
        if prev == NIL {
            self.accounts[account].orders_head = next;
        } else {
            self.pool.get_mut(prev).acc_next = next;
        }
        if next != NIL {
            self.pool.get_mut(next).acc_prev = prev;
        }
        self.accounts[account].open_orders -= 1;
    }
}

//! Engine snapshots: the complete state as bytes, and the engine rebuilt from them.
//!
//! Layout (little-endian): magic, format version, a fingerprint of the instrument
//! specifications and limits, counters, instruments (status, reference), accounts (attributes,
//! balances, margin state, open order ids in account-list order), fees, interest income, then every resting order in book
//! order (instrument, side, best price first, queue order), then each perpetual market as
//! `perp::persist` encodes it. Restoring re-inserts the orders in
//! that order, each into the pool slot its id names (`order_ids`), which rebuilds the queues,
//! the ClOrdID index, the account lists and the expiry queue; `digest()` of the restored engine
//! equals the original's. The pool hands out the lowest free slot, so the restored engine also
//! gives the next orders the same slots, hence the same ids, as the original.

use super::account::{AccountAttrs, Balance, ClientClass, NIL};
use super::asset::Asset;
use super::digest::Digest;
use super::event::VecSink;
use super::instrument::InstrumentSpec;
use super::margin::MarginAccount;
use super::order::{flags, Order, Side, StpMode, TimeInForce};
use super::state::{Engine, EngineError, EngineLimits};
use super::types::{AccountId, InstrumentId, OrderId, PriceTicks, QtyLots, Units};

const MAGIC: u64 = 0x5853_4E50_454E_4731; // "1GNEPNSX"
/// Version 2: order ids encode their pool slot (version 1 ids were plain serials).
/// Version 4: perpetual markets follow the orders.
/// Version 5: margin-financing state in each account, the venue's interest income.
/// Version 6: market maker protection follows the perpetual markets.
const VERSION: u32 = 6;

/// Why a snapshot could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("snapshot truncated at byte {offset}")]
    Truncated { offset: usize },
    #[error("not an engine snapshot (magic {found:#x})")]
    Magic { found: u64 },
    #[error("snapshot format version {found}, this build reads {VERSION}")]
    Version { found: u32 },
    #[error(
        "snapshot was taken with other instruments or limits \
         (fingerprint {found:#x}, configured {expected:#x})"
    )]
    Fingerprint { found: u64, expected: u64 },
    #[error("snapshot holds an invalid {what} ({value})")]
    Invalid { what: &'static str, value: u64 },
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// A fingerprint of what a snapshot assumes about configuration.
pub fn fingerprint(specs: &[InstrumentSpec], limits: &EngineLimits) -> u64 {
    let mut d = Digest::default();
    for spec in specs {
        for byte in spec.symbol.bytes() {
            d.word(byte as u64);
        }
        d.signed(spec.security_id as i64);
        d.signed(spec.tick_units);
        d.signed(spec.lot_units);
        d.signed(spec.min_price_ticks.0);
        d.signed(spec.max_price_ticks.0);
        if let Some(perp) = &spec.perp {
            for tier in &perp.tiers {
                d.signed(tier.notional_max.0);
                d.signed(tier.maintenance_ppm.0);
                d.signed(tier.initial_ppm.0);
            }
            d.word(perp.funding_interval_ns);
            d.word(perp.premium_sample_ns);
        }
    }
    d.word(limits.risk.risk_disclosure_version as u64);
    for haircut in limits.risk.haircut_ppm {
        d.signed(haircut.0);
    }
    let margin = &limits.margin;
    for rate in [
        margin.interest_rate_ppm,
        margin.va_share_cap_ppm,
        margin.single_asset_cap_ppm,
        margin.call_ratio_ppm,
        margin.close_out_ratio_ppm,
        margin.close_out_end_ratio_ppm,
        margin.close_out_step_ppm,
        margin.close_out_slippage_ppm,
        margin.close_out_fee_ppm,
    ] {
        d.signed(rate.0);
    }
    d.word(margin.interest_interval_ns);
    d.word(margin.loan_fund_account.map_or(u64::MAX, u64::from));
    d.word(limits.max_accounts as u64);
    d.word(limits.max_orders as u64);
    d.word(limits.max_levels_per_book as u64);
    d.word(limits.retired_cl_ord_ids as u64);
    // `mmp_configs_max` is left out so that journals written before MMP still open; a replay
    // with a smaller table that refuses a configuration the original accepted shows up as a
    // digest mismatch.
    d.finish()
}

struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl Reader<'_> {
    /// Runs `decode` over the words that follow. Running out of words is the reader's error
    /// (the snapshot is truncated); `decode`'s own result is returned as it is.
    fn decode_words<T, E>(
        &mut self,
        decode: impl FnOnce(&mut dyn FnMut() -> Option<u64>) -> Result<T, E>,
    ) -> Result<Result<T, E>, SnapshotError> {
        let mut failed = None;
        let result = decode(&mut || match self.u64() {
            Ok(v) => Some(v),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(result),
        }
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let end = self.offset + 8;
        let chunk = self
            .bytes
            .get(self.offset..end)
            .ok_or(SnapshotError::Truncated {
                offset: self.offset,
            })?;
        self.offset = end;
        Ok(u64::from_le_bytes(
            chunk.try_into().expect("slice of 8 bytes"),
        ))
    }
    fn i64(&mut self) -> Result<i64, SnapshotError> {
        self.u64().map(|v| v as i64)
    }
}

impl Engine {
    /// Appends the snapshot of the whole state to `out`.
    pub fn snapshot(&self, out: &mut Vec<u8>) {
        let specs: Vec<_> = self.instruments.iter().map(|i| i.spec.clone()).collect();
        let mut w = Writer(out);
        w.u64(MAGIC);
        w.u64(VERSION as u64);
        w.u64(fingerprint(&specs, &self.limits));
        for v in [
            self.order_ids.next_serial(),
            self.next_trade_id,
            self.now,
            self.last_seq,
        ] {
            w.u64(v);
        }
        for inst in &self.instruments {
            w.u64(inst.halted as u64);
            w.i64(inst.reference.0);
        }
        w.u64(self.accounts().count() as u64);
        for account in self.accounts() {
            self.write_account(&mut w, account);
        }
        for asset in Asset::ALL {
            w.i64(self.fees(asset).0);
        }
        w.i64(self.interest_income.0);
        w.u64(self.cl_ids.retired_len() as u64);
        for (account, cl_ord_id) in self.cl_ids.retired() {
            w.u64(*account as u64);
            w.u64(*cl_ord_id);
        }
        w.u64(self.pool.live() as u64);
        for inst in &self.instruments {
            for side in [Side::Buy, Side::Sell] {
                inst.book.for_each_level(side, |level| {
                    let mut slot = level.head;
                    while slot != NIL {
                        let order = self.pool.get(slot);
                        write_order(&mut w, order);
                        slot = order.next;
                    }
                });
            }
        }
        for id in &self.perps {
            let perp = self.instruments[id.0 as usize].perp.as_ref().expect("perp");
            perp.encode(&mut |v| w.u64(v));
        }
        self.mmp.encode(&mut |v| w.u64(v));
    }

    fn write_account(&self, w: &mut Writer, account: &super::account::Account) {
        let a = &account.attrs;
        w.u64(account.id.0 as u64);
        w.u64(a.client_class as u64);
        w.u64(a.derivatives_knowledge as u64);
        w.u64(a.risk_disclosure_version_acked as u64);
        w.u64(a.securities_margin_client as u64);
        w.i64(a.credit_limit_usd.0);
        w.u64(a.affiliate_mm as u64);
        w.u64(a.owner_group as u64);
        w.u64(a.blocked as u64);
        for balance in &account.balances {
            w.i64(balance.free.0);
            w.i64(balance.held.0);
        }
        account.margin.encode(&mut |v| w.u64(v));
        w.u64(account.open_orders as u64);
        let mut slot = account.orders_head;
        while slot != NIL {
            let order = self.pool.get(slot);
            w.u64(order.id.0);
            slot = order.acc_next;
        }
    }

    /// Rebuilds an engine from a snapshot taken with the same instruments and limits.
    ///
    /// # Errors
    /// A truncated or foreign snapshot, another format version, a configuration mismatch, or
    /// invalid contents.
    pub fn restore(
        specs: Vec<InstrumentSpec>,
        limits: EngineLimits,
        bytes: &[u8],
    ) -> Result<Engine, SnapshotError> {
        let expected = fingerprint(&specs, &limits);
        let mut engine = Engine::new(specs, limits)?;
        let mut r = Reader { bytes, offset: 0 };
        let magic = r.u64()?;
        if magic != MAGIC {
            return Err(SnapshotError::Magic { found: magic });
        }
        let version = r.u64()? as u32;
        if version != VERSION {
            return Err(SnapshotError::Version { found: version });
        }
        let found = r.u64()?;
        if found != expected {
            return Err(SnapshotError::Fingerprint { found, expected });
        }
        engine.order_ids.set_next_serial(r.u64()?);
        engine.next_trade_id = r.u64()?;
        engine.now = r.u64()?;
        engine.last_seq = r.u64()?;
        for inst in engine.instruments.iter_mut() {
            inst.halted = r.u64()? != 0;
            inst.set_reference(PriceTicks(r.i64()?));
        }
        let accounts = r.u64()?;
        let mut lists = Vec::with_capacity(accounts as usize);
        for _ in 0..accounts {
            lists.push(engine.read_account(&mut r)?);
        }
        for asset in Asset::ALL {
            engine.fees[asset.index()] = Units(r.i64()?);
        }
        engine.interest_income = Units(r.i64()?);
        let retired = r.u64()?;
        if retired > engine.limits.retired_cl_ord_ids as u64 {
            return Err(SnapshotError::Invalid {
                what: "retired ClOrdID count",
                value: retired,
            });
        }
        for _ in 0..retired {
            let key = (r.u64()? as u32, r.u64()?);
            if key.0 >= engine.limits.max_accounts {
                return Err(SnapshotError::Invalid {
                    what: "retired ClOrdID account",
                    value: key.0 as u64,
                });
            }
            engine.cl_ids.restore_retired(key);
        }
        let orders = r.u64()?;
        for _ in 0..orders {
            let order = read_order(&mut r)?;
            engine.restore_order(order)?;
        }
        engine.relink_accounts(&lists)?;
        for k in 0..engine.perps.len() {
            let id = engine.perps[k];
            let perp = engine.instruments[id.0 as usize]
                .perp
                .as_mut()
                .expect("perp");
            let result = r.decode_words(|mut next| perp.decode(&mut next))?;
            result.map_err(|e| SnapshotError::Invalid {
                what: match e {
                    super::perp::persist::DecodeError::Invalid(what) => what,
                    super::perp::persist::DecodeError::Truncated => "perpetual section",
                },
                value: id.0 as u64,
            })?;
        }
        let mut failed = None;
        let result = engine.mmp.decode(&mut || match r.u64() {
            Ok(v) => Some(v),
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        result.map_err(|e| SnapshotError::Invalid {
            what: "market maker protection section",
            value: match e {
                super::mmp::MmpDecodeError::Invalid { value, .. } => value,
                super::mmp::MmpDecodeError::Truncated => 0,
            },
        })?;
        // The liquidation index is derived state: rebuild it from positions and balances.
        for k in 0..engine.perps.len() {
            let id = engine.perps[k];
            let holders = engine.instruments[id.0 as usize]
                .perp
                .as_ref()
                .expect("perp")
                .holders
                .len();
            for h in 0..holders {
                let perp = engine.instruments[id.0 as usize]
                    .perp
                    .as_ref()
                    .expect("perp");
                let holder = perp.holders[h];
                engine.mark_dirty(AccountId(holder));
            }
        }
        engine.refile_dirty();
        // So are the loan triggers, filed at the prices the engine last saw.
        for k in 0..engine.margin_accounts.len() {
            let account = AccountId(engine.margin_accounts[k]);
            engine.refile_loan(account);
        }
        for k in 0..engine.loan_triggers.len() {
            let Some(slot) = engine.loan_triggers[k].as_ref() else {
                continue;
            };
            let price = engine.instruments[slot.perp as usize]
                .perp
                .as_ref()
                .expect("perp")
                .index
                .price;
            engine.loan_triggers[k].as_mut().expect("present").seen = price;
        }
        Ok(engine)
    }

    /// Reads one account; returns its id and its open order ids in list order.
    fn read_account(&mut self, r: &mut Reader) -> Result<(AccountId, Vec<u64>), SnapshotError> {
        let id = AccountId(r.u64()? as u32);
        let class = match r.u64()? {
            0 => ClientClass::Retail,
            1 => ClientClass::Professional,
            v => {
                return Err(SnapshotError::Invalid {
                    what: "client class",
                    value: v,
                })
            }
        };
        let attrs = AccountAttrs {
            client_class: class,
            derivatives_knowledge: r.u64()? != 0,
            risk_disclosure_version_acked: r.u64()? as u32,
            securities_margin_client: r.u64()? != 0,
            credit_limit_usd: Units(r.i64()?),
            affiliate_mm: r.u64()? != 0,
            owner_group: r.u64()? as u32,
            blocked: r.u64()? != 0,
        };
        self.create_account(id, attrs, &mut VecSink::default())
            .map_err(|_| SnapshotError::Invalid {
                what: "account id",
                value: id.0 as u64,
            })?;
        let account = &mut self.accounts[id.0 as usize];
        for balance in account.balances.iter_mut() {
            *balance = Balance {
                free: Units(r.i64()?),
                held: Units(r.i64()?),
            };
        }
        let margin = r.decode_words(|mut next| MarginAccount::decode(&mut next))?;
        account.margin = margin.map_err(|what| SnapshotError::Invalid {
            what,
            value: id.0 as u64,
        })?;
        let open = r.u64()?;
        let mut ids = Vec::with_capacity(open as usize);
        for _ in 0..open {
            ids.push(r.u64()?);
        }
        Ok((id, ids))
    }

    fn restore_order(&mut self, order: Order) -> Result<(), SnapshotError> {
        let invalid = |what| SnapshotError::Invalid {
            what,
            value: order.id.0,
        };
        let index = order.instrument.0 as usize;
        let inst = self
            .instruments
            .get(index)
            .ok_or(invalid("order instrument"))?;
        let in_domain =
            order.price >= inst.spec.min_price_ticks && order.price <= inst.spec.max_price_ticks;
        if !in_domain || self.account(order.account).is_none() {
            return Err(invalid("order price or account"));
        }
        if !self.order_ids.was_issued(order.id) {
            return Err(invalid("order id"));
        }
        let slot = self.order_ids.slot_of(order.id);
        if !self.pool.allocate_at(slot) {
            return Err(invalid("order slot"));
        }
        let slot = slot as u32;
        *self.pool.get_mut(slot) = order;
        let inst = &mut self.instruments[index];
        inst.book
            .push_back(&mut self.pool, slot)
            .map_err(|_| invalid("level count"))?;
        if order.cl_ord_id != 0 {
            let key = (order.account.0, order.cl_ord_id);
            self.cl_ids
                .insert_live(key, slot)
                .map_err(|_| invalid("ClOrdID"))?;
        }
        if order.tif == TimeInForce::Gtd {
            self.schedule_expiry(order.expire_ns, order.id);
        }
        Ok(())
    }

    /// Links each account's orders so that its list has the snapshot's order.
    fn relink_accounts(&mut self, lists: &[(AccountId, Vec<u64>)]) -> Result<(), SnapshotError> {
        for (account, ids) in lists {
            if self.account(*account).is_none() {
                return Err(SnapshotError::Invalid {
                    what: "account",
                    value: account.0 as u64,
                });
            }
            for id in ids.iter().rev() {
                let live = self.order_ids.live_slot(&self.pool, OrderId(*id));
                let slot = live.ok_or(SnapshotError::Invalid {
                    what: "order",
                    value: *id,
                })?;
                if self.pool.get(slot).account != *account {
                    return Err(SnapshotError::Invalid {
                        what: "order owner",
                        value: *id,
                    });
                }
                self.link_account_order(slot);
            }
        }
        Ok(())
    }
}

fn write_order(w: &mut Writer, order: &Order) {
    w.u64(order.id.0);
    w.u64(order.cl_ord_id);
    w.u64(order.account.0 as u64);
    w.u64(order.instrument.0 as u64);
    w.u64(order.side as u64);
    w.u64(order.tif as u64);
    w.u64(order.flags as u64);
    w.u64(order.stp as u64);
    w.u64(order.owner_group as u64);
    w.i64(order.price.0);
    w.i64(order.open.0);
    w.i64(order.filled.0);
    w.i64(order.hold_per_lot.0);
    w.u64(order.expire_ns);
}

fn read_order(r: &mut Reader) -> Result<Order, SnapshotError> {
    let id = OrderId(r.u64()?);
    let invalid = |what, value| SnapshotError::Invalid { what, value };
    let cl_ord_id = r.u64()?;
    let account = AccountId(r.u64()? as u32);
    let instrument = InstrumentId(r.u64()? as u16);
    let side = match r.u64()? as u8 {
        b'1' => Side::Buy,
        b'2' => Side::Sell,
        v => return Err(invalid("side", v as u64)),
    };
    let tif = match r.u64()? as u8 {
        b'0' => TimeInForce::Day,
        b'1' => TimeInForce::Gtc,
        b'6' => TimeInForce::Gtd,
        v => return Err(invalid("resting time in force", v as u64)),
    };
    let order_flags = r.u64()? as u8;
    let stp = match r.u64()? {
        1 => StpMode::CancelResting,
        2 => StpMode::CancelAggressor,
        3 => StpMode::CancelBoth,
        v => return Err(invalid("STP mode", v)),
    };
    let order = Order {
        id,
        cl_ord_id,
        account,
        instrument,
        side,
        tif,
        flags: order_flags & (flags::CLIENT_MASK | flags::EXPIRY_SCHEDULED | flags::MARKET),
        stp,
        owner_group: r.u64()? as u32,
        price: PriceTicks(r.i64()?),
        open: QtyLots(r.i64()?),
        filled: QtyLots(r.i64()?),
        hold_per_lot: Units(r.i64()?),
        expire_ns: r.u64()?,
        ..Order::EMPTY
    };
    if order.open.0 <= 0 {
        return Err(invalid("open quantity", id.0));
    }
    Ok(order)
}

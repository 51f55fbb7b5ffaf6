//! Market maker protection (MMP): per account and underlying (BTC, ETH), a rolling window over
//! the fills of the account's MMP-flagged resting orders and quotes, with a quantity limit
//! (gross traded size) and a delta limit (net signed size, buys positive).
//!
//! Algorithm, on each fill of a resting MMP-flagged order (inside the command that filled it):
//! 1. Drop the window's entries stamped at or before `now − window_ns` (journaled time only).
//! 2. Add the fill: gross += size, net += signed size (base units, 1e-8 BTC/ETH, so spot and
//!    perpetual sizes add up).
//! 3. If gross ≥ qty limit or |net| ≥ delta limit, trigger: cancel every MMP-flagged order and
//!    quote of the account on instruments of that underlying, emit `MmpTriggered`, clear the
//!    window and freeze until `now + frozen_ns` (`frozen_ns == 0`: until a reset). While frozen,
//!    new MMP-flagged orders and quote sides are rejected (`MmpFrozen`).
//!
//! Bounded memory: the table holds at most `EngineLimits::mmp_configs_max` configurations, and
//! each window at most `WINDOW_FILLS_MAX` entries. When a fill arrives at a full window, the
//! two oldest entries are merged into one stamped with the younger time: the window can then
//! only over-count, so MMP triggers no later than it would with unbounded memory.

use super::account::NIL;
use super::asset::Asset;
use super::command::{MmpConfig, MmpReset};
use super::event::{CancelReason, Event, EventSink};
use super::order::{flags, Side};
use super::reject::RejectReason;
use super::state::Engine;
use super::types::{AccountId, TimeNs, Units};

/// Entries one window holds before the oldest are merged (see the module doc).
pub const WINDOW_FILLS_MAX: usize = 64;

/// `frozen_until` of a state frozen until reset.
pub const FROZEN_UNTIL_RESET: TimeNs = u64::MAX;

/// The underlyings MMP covers; the index is `underlying_index`.
pub const UNDERLYINGS: [Asset; 2] = [Asset::Btc, Asset::Eth];

/// The MMP slot of an underlying, or `None` for an asset MMP does not cover (USD).
#[inline]
pub fn underlying_index(asset: Asset) -> Option<usize> {
    match asset {
        Asset::Btc => Some(0),
        Asset::Eth => Some(1),
        Asset::Usd => None,
    }
}

/// An account's MMP parameters for one underlying. Limits are in base units of the underlying.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmpLimits {
    pub window_ns: u64,
    /// Trigger when the gross traded size in the window reaches this.
    pub qty_limit: Units,
    /// Trigger when the absolute net signed size in the window reaches this.
    pub delta_limit: Units,
    /// Frozen this long after a trigger; 0 = until reset.
    pub frozen_ns: u64,
}

impl MmpLimits {
    /// Checks that every limit is positive (the frozen period may be 0).
    ///
    /// # Errors
    /// `MmpInvalidConfig` for a zero or negative window, quantity or delta limit.
    pub fn validate(&self) -> Result<(), RejectReason> {
        if self.window_ns == 0 || self.qty_limit.0 <= 0 || self.delta_limit.0 <= 0 {
            return Err(RejectReason::MmpInvalidConfig);
        }
        Ok(())
    }
}

/// Which limit a trigger breached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MmpBreach {
    Quantity = 1,
    Delta = 2,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct WindowFill {
    time_ns: TimeNs,
    gross: i64,
    net: i64,
}

/// One account's protection on one underlying.
#[derive(Clone, Copy, Debug)]
pub struct MmpState {
    pub account: AccountId,
    pub underlying: Asset,
    pub limits: MmpLimits,
    /// 0 when not frozen; `FROZEN_UNTIL_RESET`, or the time the freeze ends.
    pub frozen_until: TimeNs,
    /// Σ gross and Σ net of the window's entries.
    pub gross: i64,
    pub net: i64,
    fills: [WindowFill; WINDOW_FILLS_MAX],
    /// Ring: the oldest entry is at `head`, `len` entries follow.
    head: usize,
    len: usize,
}

impl MmpState {
    fn new(account: AccountId, underlying: Asset, limits: MmpLimits) -> MmpState {
        MmpState {
            account,
            underlying,
            limits,
            frozen_until: 0,
            gross: 0,
            net: 0,
            fills: [WindowFill::default(); WINDOW_FILLS_MAX],
            head: 0,
            len: 0,
        }
    }

    /// Whether new MMP-flagged orders are refused at `now`.
    #[inline]
    pub fn frozen(&self, now: TimeNs) -> bool {
        self.frozen_until != 0 && now < self.frozen_until
    }

    /// Entries currently in the window.
    pub fn window_len(&self) -> usize {
        self.len
    }

    fn clear_window(&mut self) {
        self.head = 0;
        self.len = 0;
        self.gross = 0;
        self.net = 0;
    }

    fn at(&self, k: usize) -> usize {
        (self.head + k) % WINDOW_FILLS_MAX
    }

    /// Step 1: drops the entries stamped at or before `now − window_ns`.
    fn expire(&mut self, now: TimeNs) {
        while self.len > 0 {
            let oldest = self.fills[self.head];
            if oldest.time_ns.saturating_add(self.limits.window_ns) > now {
                break;
            }
            self.gross -= oldest.gross;
            self.net -= oldest.net;
            self.head = self.at(1);
            self.len -= 1;
        }
    }

    /// Step 2: adds a fill of `signed` base units; returns the breached limit, if any.
    fn add(&mut self, now: TimeNs, signed: i64) -> Option<MmpBreach> {
        self.expire(now);
        if self.len == WINDOW_FILLS_MAX {
            // Merge the two oldest into the younger: the totals do not change.
            let oldest = self.fills[self.head];
            let next = self.at(1);
            self.fills[next].gross += oldest.gross;
            self.fills[next].net += oldest.net;
            self.head = next;
            self.len -= 1;
        }
        let slot = self.at(self.len);
        self.fills[slot] = WindowFill {
            time_ns: now,
            gross: signed.abs(),
            net: signed,
        };
        self.len += 1;
        self.gross += signed.abs();
        self.net += signed;
        if self.gross >= self.limits.qty_limit.0 {
            Some(MmpBreach::Quantity)
        } else if self.net.abs() >= self.limits.delta_limit.0 {
            Some(MmpBreach::Delta)
        } else {
            None
        }
    }

    /// Every word of state, in a fixed order (digest and snapshot).
    fn encode(&self, out: &mut impl FnMut(u64)) {
        out(self.account.0 as u64);
        out(self.underlying as u64);
        out(self.limits.window_ns);
        out(self.limits.qty_limit.0 as u64);
        out(self.limits.delta_limit.0 as u64);
        out(self.limits.frozen_ns);
        out(self.frozen_until);
        out(self.len as u64);
        for k in 0..self.len {
            let fill = self.fills[self.at(k)];
            out(fill.time_ns);
            out(fill.gross as u64);
            out(fill.net as u64);
        }
    }
}

/// Why a snapshot's MMP section was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MmpDecodeError {
    #[error("MMP section truncated")]
    Truncated,
    #[error("MMP section holds an invalid {what} ({value})")]
    Invalid { what: &'static str, value: u64 },
}

/// Every MMP configuration of the venue: a bounded table plus an index by account and
/// underlying. Both are allocated at start-up.
pub struct MmpTable {
    states: Vec<MmpState>,
    /// `account × 2 + underlying index` → index into `states`, or `NIL`.
    by_account: Vec<u32>,
    capacity: usize,
}

impl MmpTable {
    pub fn new(max_accounts: u32, capacity: u32) -> MmpTable {
        MmpTable {
            states: Vec::with_capacity(capacity as usize),
            by_account: vec![NIL; max_accounts as usize * UNDERLYINGS.len()],
            capacity: capacity as usize,
        }
    }

    fn key(account: AccountId, underlying: usize) -> usize {
        account.0 as usize * UNDERLYINGS.len() + underlying
    }

    /// The state of `account` on the underlying with index `underlying`, if configured.
    #[inline]
    pub fn get(&self, account: AccountId, underlying: usize) -> Option<&MmpState> {
        let index = *self.by_account.get(Self::key(account, underlying))?;
        (index != NIL).then(|| &self.states[index as usize])
    }

    #[inline]
    fn get_mut(&mut self, account: AccountId, underlying: usize) -> Option<&mut MmpState> {
        let index = *self.by_account.get(Self::key(account, underlying))?;
        (index != NIL).then(|| &mut self.states[index as usize])
    }

    /// Every configured state, in configuration order.
    pub fn states(&self) -> &[MmpState] {
        &self.states
    }

    /// Sets (or replaces) a configuration; the window starts empty, a freeze stays.
    fn configure(
        &mut self,
        account: AccountId,
        underlying: Asset,
        limits: MmpLimits,
    ) -> Result<(), RejectReason> {
        let u = underlying_index(underlying).ok_or(RejectReason::MmpUnderlying)?;
        let key = Self::key(account, u);
        if key >= self.by_account.len() {
            return Err(RejectReason::UnknownAccount);
        }
        if let Some(state) = self.get_mut(account, u) {
            state.limits = limits;
            state.clear_window();
            return Ok(());
        }
        if self.states.len() == self.capacity {
            return Err(RejectReason::MmpTableFull);
        }
        self.by_account[key] = self.states.len() as u32;
        self.states.push(MmpState::new(account, underlying, limits));
        Ok(())
    }

    /// Every word of state, in a fixed order (digest and snapshot).
    pub fn encode(&self, out: &mut impl FnMut(u64)) {
        out(self.states.len() as u64);
        for state in &self.states {
            state.encode(out);
        }
    }

    /// Restores what `encode` wrote into an empty table.
    ///
    /// # Errors
    /// A truncated section or a value no `encode` writes.
    pub fn decode(&mut self, next: &mut impl FnMut() -> Option<u64>) -> Result<(), MmpDecodeError> {
        let mut word = || next().ok_or(MmpDecodeError::Truncated);
        let invalid = |what, value| MmpDecodeError::Invalid { what, value };
        let count = word()?;
        if count > self.capacity as u64 {
            return Err(invalid("MMP configuration count", count));
        }
        for _ in 0..count {
            let account = AccountId(word()? as u32);
            let asset = word()?;
            let underlying = Asset::from_index(asset as u8)
                .filter(|a| underlying_index(*a).is_some())
                .ok_or(invalid("MMP underlying", asset))?;
            let limits = MmpLimits {
                window_ns: word()?,
                qty_limit: Units(word()? as i64),
                delta_limit: Units(word()? as i64),
                frozen_ns: word()?,
            };
            self.configure(account, underlying, limits)
                .map_err(|_| invalid("MMP account", account.0 as u64))?;
            let u = underlying_index(underlying).expect("filtered above");
            let state = self.get_mut(account, u).expect("configured above");
            state.frozen_until = word()?;
            let len = word()?;
            if len > WINDOW_FILLS_MAX as u64 {
                return Err(invalid("MMP window length", len));
            }
            for k in 0..len as usize {
                let fill = WindowFill {
                    time_ns: word()?,
                    gross: word()? as i64,
                    net: word()? as i64,
                };
                state.fills[k] = fill;
                state.gross += fill.gross;
                state.net += fill.net;
            }
            state.len = len as usize;
        }
        Ok(())
    }
}

impl Engine {
    /// The MMP check of a new MMP-flagged order or quote side of `account` on an instrument
    /// of `underlying` with `qty_lots` against the instrument's `max_quote_qty_lots`.
    ///
    /// # Errors
    /// `MmpNotConfigured`, `MmpFrozen`, or `MmpQtyTooLarge`.
    pub(crate) fn check_mmp_entry(
        &self,
        account: AccountId,
        underlying: Asset,
        qty_too_large: bool,
    ) -> Result<(), RejectReason> {
        let u = underlying_index(underlying).ok_or(RejectReason::MmpUnderlying)?;
        let state = self
            .mmp
            .get(account, u)
            .ok_or(RejectReason::MmpNotConfigured)?;
        if state.frozen(self.now) {
            return Err(RejectReason::MmpFrozen);
        }
        if qty_too_large {
            return Err(RejectReason::MmpQtyTooLarge);
        }
        Ok(())
    }

    /// Counts a fill of the resting MMP-flagged order of `account` on an instrument of
    /// `underlying` and triggers protection if it reaches a limit (module doc, steps 1–3).
    pub(crate) fn mmp_on_maker_fill(
        &mut self,
        account: AccountId,
        underlying: Asset,
        side: Side,
        base_units: Units,
        sink: &mut impl EventSink,
    ) {
        let Some(u) = underlying_index(underlying) else {
            return;
        };
        let now = self.now;
        let Some(state) = self.mmp.get_mut(account, u) else {
            return;
        };
        let signed = match side {
            Side::Buy => base_units.0,
            Side::Sell => -base_units.0,
        };
        let Some(breach) = state.add(now, signed) else {
            return;
        };
        let (gross, net) = (state.gross, state.net);
        state.clear_window();
        state.frozen_until = match state.limits.frozen_ns {
            0 => FROZEN_UNTIL_RESET,
            ns => now.saturating_add(ns),
        };
        let frozen_until = state.frozen_until;
        let canceled = self.cancel_mmp_orders(account, underlying, sink);
        sink.event(&Event::MmpTriggered {
            account,
            underlying,
            breach,
            gross: Units(gross),
            net: Units(net),
            frozen_until,
            canceled,
        });
    }

    /// Cancels every resting MMP-flagged order and quote of `account` on instruments of
    /// `underlying`; returns how many.
    fn cancel_mmp_orders(
        &mut self,
        account: AccountId,
        underlying: Asset,
        sink: &mut impl EventSink,
    ) -> u32 {
        let mut slot = self.accounts[account.0 as usize].orders_head;
        let mut canceled = 0;
        while slot != NIL {
            let order = *self.pool.get(slot);
            let base = self.instruments[order.instrument.0 as usize].spec.base;
            if order.flags & flags::MMP != 0 && base == underlying {
                self.cancel_order(slot, CancelReason::Mmp, true, sink);
                canceled += 1;
            }
            slot = order.acc_next;
        }
        canceled
    }

    /// MmpConfig: sets an account's protection on one underlying.
    pub(crate) fn mmp_config(&mut self, cmd: &MmpConfig, sink: &mut impl EventSink) {
        let result = self
            .account(cmd.account)
            .ok_or(RejectReason::UnknownAccount)
            .and_then(|_| cmd.limits.validate())
            .and_then(|()| self.mmp.configure(cmd.account, cmd.underlying, cmd.limits));
        sink.event(&Event::MmpConfigured {
            account: cmd.account,
            request_id: cmd.request_id,
            underlying: cmd.underlying,
            limits: cmd.limits,
            rejected: result.err(),
        });
    }

    /// MmpReset: ends a freeze and empties the window.
    pub(crate) fn mmp_reset(&mut self, cmd: &MmpReset, sink: &mut impl EventSink) {
        let state = underlying_index(cmd.underlying)
            .ok_or(RejectReason::MmpUnderlying)
            .and_then(|u| {
                self.mmp
                    .get_mut(cmd.account, u)
                    .ok_or(RejectReason::MmpNotConfigured)
            });
        let rejected = match state {
            Ok(state) => {
                state.frozen_until = 0;
                state.clear_window();
                None
            }
            Err(reason) => Some(reason),
        };
        sink.event(&Event::MmpReset {
            account: cmd.account,
            request_id: cmd.request_id,
            underlying: cmd.underlying,
            rejected,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(window_ns: u64, qty: i64, delta: i64) -> MmpState {
        let limits = MmpLimits {
            window_ns,
            qty_limit: Units(qty),
            delta_limit: Units(delta),
            frozen_ns: 0,
        };
        MmpState::new(AccountId(1), Asset::Btc, limits)
    }

    #[test]
    fn fills_older_than_the_window_stop_counting() {
        let mut s = state(100, 1_000, 1_000);
        assert_eq!(s.add(0, 400), None);
        assert_eq!(s.add(99, 400), None);
        // At 100 the fill at 0 has left the window: 400 + 400, not 1200.
        assert_eq!(s.add(100, 400), None);
        assert_eq!(s.gross, 800);
        assert_eq!(s.add(150, 200), Some(MmpBreach::Quantity));
    }

    #[test]
    fn delta_counts_signed_size() {
        let mut s = state(1_000, 10_000, 500);
        assert_eq!(s.add(1, 400), None);
        assert_eq!(s.add(2, -400), None);
        assert_eq!(s.net, 0);
        assert_eq!(s.add(3, -499), None);
        assert_eq!(s.add(4, -1), Some(MmpBreach::Delta));
    }

    #[test]
    fn a_full_window_merges_its_oldest_entries_and_keeps_the_totals() {
        let mut s = state(1_000_000, i64::MAX, i64::MAX);
        for t in 0..(WINDOW_FILLS_MAX as u64 + 10) {
            s.add(t, 1);
        }
        assert_eq!(s.window_len(), WINDOW_FILLS_MAX);
        assert_eq!(s.gross, WINDOW_FILLS_MAX as i64 + 10);
    }

    #[test]
    fn encode_and_decode_round_trip() {
        let mut table = MmpTable::new(4, 4);
        let limits = MmpLimits {
            window_ns: 10,
            qty_limit: Units(5),
            delta_limit: Units(3),
            frozen_ns: 7,
        };
        table.configure(AccountId(2), Asset::Eth, limits).unwrap();
        table.get_mut(AccountId(2), 1).unwrap().add(3, -2);
        let mut words = Vec::new();
        table.encode(&mut |w| words.push(w));
        let mut copy = MmpTable::new(4, 4);
        let mut it = words.iter().copied();
        copy.decode(&mut || it.next()).unwrap();
        let mut again = Vec::new();
        copy.encode(&mut |w| again.push(w));
        assert_eq!(words, again);
    }
}

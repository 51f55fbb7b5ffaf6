//! Unified account risk (SPEC §6): equity and margin across spot balances and perpetual
//! positions, and the pre-trade initial-margin check.
//!
//! ```text
//! equity (maintenance) = USD + Σ_VA balance × index × (1 − haircut) + securities after haircut
//!                        + Σ unrealised PnL at mark
//! equity (initial)     = free USD + Σ_VA free balance × valid index × (1 − haircut)
//!                        + securities after haircut + Σ min(unrealised PnL, 0)
//! maintenance margin   = Σ_perp tiered MM(|position| × mark)
//! initial margin       = Σ_perp tiered IM(worst case × mark) + open loss
//! worst case           = max(|position + open buys|, |position − open sells|)
//! open loss            = max(0, Σ buy limit notional − open buys × mark)
//!                        + max(0, open sells × mark − Σ sell limit notional)
//! ```
//!
//! A margin loan is the account's negative USD balance, so it is already in both equities
//! (interest is charged into it as it accrues); securities collateral is posted by the
//! operator (`margin`).
//!
//! Unrealised profit counts only for maintenance: anything that adds exposure or withdraws
//! must be backed by realised value (the 2022 lesson in SPEC §6). Balances held for spot orders
//! count for maintenance but not for new exposure. A virtual asset counts towards initial
//! equity only while its index is valid; maintenance uses the last index. Haircut values round
//! down, margins round up.

use super::account::Account;
use super::asset::Asset;
use super::perp::margin::initial_margin;
use super::perp::margin::maintenance_margin;
use super::perp::position::{lots_notional, Position};
use super::reject::RejectReason;
use super::state::{Engine, InstrumentState};
use super::types::{AccountId, InstrumentId, RatePpm, Units, PPM, UNITS_PER_WHOLE};

/// The smallest haircut a virtual asset may have as collateral (SFC: at least 60%).
pub const VA_HAIRCUT_FLOOR_PPM: i64 = 600_000;

/// Venue-wide risk rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskRules {
    /// The risk disclosure version a client must have acknowledged to trade perpetuals.
    pub risk_disclosure_version: u32,
    /// Collateral haircut per asset (USD's is 0; BTC and ETH at least the floor).
    pub haircut_ppm: [RatePpm; Asset::COUNT],
}

impl Default for RiskRules {
    fn default() -> RiskRules {
        RiskRules {
            risk_disclosure_version: 1,
            haircut_ppm: [
                RatePpm(0),
                RatePpm(VA_HAIRCUT_FLOOR_PPM),
                RatePpm(VA_HAIRCUT_FLOOR_PPM),
            ],
        }
    }
}

/// An account's equity and margin (see the module comment).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarginSummary {
    pub equity: Units,
    pub equity_initial: Units,
    pub initial_margin: Units,
    pub maintenance_margin: Units,
    /// Σ unrealised PnL at mark.
    pub unrealised: Units,
}

/// Equity and maintenance margin (see `Engine::maintenance_view`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MaintenanceView {
    pub equity: Units,
    pub maintenance_margin: Units,
}

/// Money leaving the account's free balances with the action being checked.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Outflow {
    pub asset: Option<Asset>,
    pub amount: Units,
}

impl Engine {
    /// USD units per whole unit of `asset` from its perpetual's index; `valid_only` refuses a
    /// stale index.
    pub(crate) fn va_price_units(&self, asset: Asset, valid_only: bool) -> Option<i64> {
        let inst = &self.instruments[self.va_perp[asset.index()]? as usize];
        let perp = inst.perp.as_ref()?;
        if perp.index.price.0 <= 0 || (valid_only && !perp.index.is_valid(self.now)) {
            return None;
        }
        Some(perp.index.price.0 * inst.spec.tick_units)
    }

    /// `units` of `asset` in USD after haircut, rounded down (0 without a price).
    pub(crate) fn collateral_value(&self, asset: Asset, units: Units, valid_only: bool) -> i128 {
        if asset == Asset::Usd || units == Units::ZERO {
            // No price needed (and no 128-bit division, which shows in liquidation storms).
            return units.0 as i128;
        }
        let Some(price) = self.va_price_units(asset, valid_only) else {
            return 0;
        };
        let keep = (PPM - self.limits.risk.haircut_ppm[asset.index()].0) as i128;
        let value = units.0 as i128 * price as i128 / UNITS_PER_WHOLE as i128;
        (value * keep).div_euclid(PPM as i128)
    }

    /// Initial margin of one perpetual position with its open orders, or `None` when the
    /// worst case lies beyond the last margin tier.
    pub(crate) fn perp_initial_margin(
        inst: &InstrumentState,
        position: &Position,
    ) -> Option<Units> {
        let perp = inst.perp.as_ref().expect("a perpetual");
        let npt = inst.notional_per_tick_lot;
        let mark = perp.mark.price;
        let worst = lots_notional(position.worst_case_lots(), mark, npt);
        let tiered = initial_margin(&perp.spec.tiers, worst)?;
        let buys_at_mark = lots_notional(position.buy_open.0, mark, npt);
        let sells_at_mark = lots_notional(position.sell_open.0, mark, npt);
        let open_loss = (position.buy_open_notional - buys_at_mark).0.max(0)
            + (sells_at_mark - position.sell_open_notional).0.max(0);
        Some(tiered + Units(open_loss))
    }

    /// Equity and margins of `account`.
    pub fn margin_summary(&self, account: AccountId) -> Option<MarginSummary> {
        let acc = self.account(account)?;
        let securities = acc.margin.securities_value.0 as i128;
        let mut equity: i128 = securities;
        let mut equity_initial: i128 = securities;
        for asset in Asset::ALL {
            let balance = acc.balance(asset);
            equity += self.collateral_value(asset, balance.total(), false);
            equity_initial += self.collateral_value(asset, balance.free, true);
        }
        let (mut im, mut mm, mut unrealised) = (0i128, 0i128, 0i128);
        for &id in &self.perps {
            let inst = &self.instruments[id.0 as usize];
            let perp = inst.perp.as_ref().expect("listed as a perpetual");
            let position = perp.position(account.0);
            if !position.is_active() {
                continue;
            }
            let npt = inst.notional_per_tick_lot;
            let upnl = position.unrealised(perp.mark.price, npt).0 as i128;
            unrealised += upnl;
            equity_initial += upnl.min(0);
            let notional = position.notional_at(perp.mark.price, npt);
            // Beyond the last tier margin is unbounded; report it saturated.
            mm += maintenance_margin(&perp.spec.tiers, notional)
                .map_or(i64::MAX as i128, |m| m.0 as i128);
            im +=
                Self::perp_initial_margin(inst, position).map_or(i64::MAX as i128, |m| m.0 as i128);
        }
        let clip = |v: i128| Units(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
        Some(MarginSummary {
            equity: clip(equity + unrealised),
            equity_initial: clip(equity_initial),
            initial_margin: clip(im),
            maintenance_margin: clip(mm),
            unrealised: clip(unrealised),
        })
    }

    /// Maintenance equity and maintenance margin only: what the liquidation engine asks of
    /// every candidate, several times per account in a storm, without the initial-margin
    /// terms `margin_summary` adds. Same values as `margin_summary`'s fields.
    pub(crate) fn maintenance_view(&self, account: AccountId) -> Option<MaintenanceView> {
        let acc = self.account(account)?;
        let mut equity: i128 = acc.margin.securities_value.0 as i128;
        for asset in Asset::ALL {
            equity += self.collateral_value(asset, acc.balance(asset).total(), false);
        }
        let mut mm: i128 = 0;
        for &id in &self.perps {
            let inst = &self.instruments[id.0 as usize];
            let perp = inst.perp.as_ref().expect("listed as a perpetual");
            let position = perp.position(account.0);
            if position.qty == 0 {
                continue;
            }
            let npt = inst.notional_per_tick_lot;
            equity += position.unrealised(perp.mark.price, npt).0 as i128;
            let notional = position.notional_at(perp.mark.price, npt);
            mm += maintenance_margin(&perp.spec.tiers, notional)
                .map_or(i64::MAX as i128, |m| m.0 as i128);
        }
        let clip = |v: i128| Units(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64);
        Some(MaintenanceView {
            equity: clip(equity),
            maintenance_margin: clip(mm),
        })
    }

    /// Whether the account has any perpetual position or open perpetual order.
    pub(crate) fn has_perp_exposure(&self, account: AccountId) -> bool {
        self.perps.iter().any(|id| {
            let perp = self.instruments[id.0 as usize].perp.as_ref();
            perp.is_some_and(|p| p.position(account.0).is_active())
        })
    }

    /// Pre-trade initial-margin check: with `change` (the instrument and its position after
    /// the action) and `outflow` applied, initial equity must cover initial margin, unless the
    /// action does not raise the requirement (reducing risk is always allowed).
    ///
    /// # Errors
    /// `MarginTierExceeded` beyond the last tier, `InsufficientMargin` otherwise.
    pub(crate) fn check_initial_margin(
        &self,
        account: &Account,
        change: Option<(InstrumentId, &Position)>,
        outflow: Outflow,
    ) -> Result<(), RejectReason> {
        let mut raises = outflow.amount > Units::ZERO;
        let mut required: i128 = 0;
        let mut equity: i128 = 0;
        for &id in &self.perps {
            let inst = &self.instruments[id.0 as usize];
            let perp = inst.perp.as_ref().expect("listed as a perpetual");
            let current = perp.position(account.id.0);
            let position = match change {
                Some((changed, after)) if changed == id => {
                    let before = Self::perp_initial_margin(inst, current);
                    let after_im = Self::perp_initial_margin(inst, after)
                        .ok_or(RejectReason::MarginTierExceeded)?;
                    raises |= before.is_none_or(|b| after_im > b);
                    after
                }
                _ => current,
            };
            if !position.is_active() {
                continue;
            }
            let im =
                Self::perp_initial_margin(inst, position).map_or(i64::MAX as i128, |m| m.0 as i128);
            required += im;
            let upnl = current.unrealised(perp.mark.price, inst.notional_per_tick_lot);
            equity += upnl.0.min(0) as i128;
        }
        if !raises {
            return Ok(());
        }
        equity += account.margin.securities_value.0 as i128;
        for asset in Asset::ALL {
            let mut free = account.balance(asset).free;
            if outflow.asset == Some(asset) {
                free -= outflow.amount;
            }
            equity += self.collateral_value(asset, free, true);
        }
        if equity < required {
            return Err(RejectReason::InsufficientMargin);
        }
        Ok(())
    }
}

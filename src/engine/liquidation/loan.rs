//! Close-out of margin loans: the loan side of the unified liquidation engine.
//!
//! Sequence for an account whose coverage fell below `close_out` (see `margin::status`), while
//! its coverage is below `close_out_end` and it still holds BTC or ETH:
//! 1. Cancel all its open orders.
//! 2. Sell the virtual asset with the larger haircut value (BTC on a tie) on its spot book: an
//!    IOC order of `close_out_step` of the holding (at least the instrument's minimum
//!    quantity), limited to the floor price `index × (1 − close_out_slippage)` (rounded up to
//!    a tick, and raised to the band's low end if below it). Only an
//!    asset with a valid index is sold (no liquidation on an invalid price). The sale pays the
//!    usual taker fee, and `close_out_fee` of its net proceeds goes to the margin-loan fund.
//! 3. If a step found too little liquidity, the margin-loan fund buys the rest of that asset at
//!    the floor price, if it has the USD.
//! 4. Once the account holds no virtual assets, the fund writes off the part of the loan its
//!    securities do not cover (`loan − securities after haircut`), as far as the fund's USD
//!    goes. Securities are sold by the broker outside the venue; the loan they cover stays.
//!
//! Proceeds repay the loan at once (the loan is the negative USD balance). The account never
//! pays more than it owns: fees come out of proceeds, and what the collateral cannot repay is
//! the fund's loss.

use super::run::InternalOrder;
use crate::engine::asset::Asset;
use crate::engine::event::{CancelReason, Event, EventSink, LiquidationStage};
use crate::engine::margin::MarginStatus;
use crate::engine::order::Side;
use crate::engine::state::Engine;
use crate::engine::types::{div_ceil_i128, UNITS_PER_WHOLE};
use crate::engine::types::{AccountId, InstrumentId, PriceTicks, QtyLots, Units, PPM};

/// Most sale steps of one close-out in one command; the rest waits for the next command.
const MAX_STEPS: usize = 64;

/// What a close-out step sells, where, and at which prices.
#[derive(Clone, Copy, Debug)]
struct CloseOutTarget {
    asset: Asset,
    /// The asset's spot instrument.
    instrument: InstrumentId,
    /// The sale's limit: the floor, raised into the band.
    limit: PriceTicks,
    /// `index × (1 − close_out_slippage)`: the fund's takeover price.
    floor: PriceTicks,
}

impl Engine {
    /// Runs the close-out of `account`; returns its status afterwards.
    pub(crate) fn close_out_loan(
        &mut self,
        account: AccountId,
        sink: &mut impl EventSink,
    ) -> MarginStatus {
        self.cancel_all_of(account, CancelReason::Liquidation, sink);
        let end = self.limits.margin.close_out_end_ratio_ppm.0;
        for _ in 0..MAX_STEPS {
            let view = self.loan_view(account).expect("the account exists");
            if view.loan == Units::ZERO || view.coverage_ppm >= end {
                break;
            }
            let Some(target) = self.close_out_target(account) else {
                break;
            };
            if !self.close_out_step(account, &target, sink) {
                break;
            }
        }
        self.write_off_uncovered(account, sink);
        let view = self.loan_view(account).expect("the account exists");
        let status = self.status_for(view.coverage_ppm, MarginStatus::CloseOut);
        let sellable = self.close_out_target(account).is_some();
        if status == MarginStatus::CloseOut && !sellable {
            // Nothing left to sell at a valid price: the account leaves the close-out and
            // stays called until prices, the operator or a deposit change its coverage.
            return MarginStatus::Call;
        }
        status
    }

    /// The asset to sell next, its spot instrument and prices.
    fn close_out_target(&self, account: AccountId) -> Option<CloseOutTarget> {
        let acc = &self.accounts[account.0 as usize];
        let mut best: Option<(i128, CloseOutTarget)> = None;
        for asset in [Asset::Btc, Asset::Eth] {
            let units = acc.balance(asset).total();
            let Some(spot) = self.va_spot[asset.index()] else {
                continue;
            };
            let Some(index_units) = self.va_price_units(asset, true) else {
                continue;
            };
            if units <= Units::ZERO {
                continue;
            }
            let value = self.collateral_value(asset, units, true);
            let inst = &self.instruments[spot as usize];
            let keep = (PPM - self.limits.margin.close_out_slippage_ppm.0) as i128;
            let floor = div_ceil_i128(index_units as i128 * keep, PPM as i128);
            let ticks = div_ceil_i128(floor, inst.spec.tick_units as i128) as i64;
            let spec = &inst.spec;
            let floor = PriceTicks(ticks).clamp(spec.min_price_ticks, spec.max_price_ticks);
            let target = CloseOutTarget {
                asset,
                instrument: spec.id,
                limit: floor.clamp(inst.band_low, inst.band_high).max(floor),
                floor,
            };
            if best.is_none_or(|(v, _)| value > v) {
                best = Some((value, target));
            }
        }
        best.map(|(_, target)| target)
    }

    /// Steps 2 and 3 for one asset; returns whether the account's holding shrank.
    fn close_out_step(
        &mut self,
        account: AccountId,
        target: &CloseOutTarget,
        sink: &mut impl EventSink,
    ) -> bool {
        let CloseOutTarget {
            asset,
            instrument,
            limit,
            floor,
        } = *target;
        let spec = &self.instruments[instrument.0 as usize].spec;
        let holding = self.accounts[account.0 as usize].balance(asset).free;
        let lots = holding.0 / spec.lot_units;
        let step = div_ceil_i128(
            lots as i128 * self.limits.margin.close_out_step_ppm.0 as i128,
            PPM as i128,
        ) as i64;
        let step = step
            .max(spec.min_qty_lots.0)
            .min(lots)
            .min(spec.max_qty_lots.0);
        let usd_before = self.accounts[account.0 as usize]
            .balance(Asset::Usd)
            .total();
        let filled = if step > 0 {
            let order = InternalOrder {
                account,
                instrument,
                side: Side::Sell,
                qty: step,
                limit,
                flags: 0,
            };
            self.internal_ioc(&order, sink)
        } else {
            QtyLots::ZERO
        };
        if filled.0 > 0 {
            let proceeds = self.accounts[account.0 as usize]
                .balance(Asset::Usd)
                .total()
                - usd_before;
            self.charge_close_out_fee(account, instrument, proceeds, sink);
            sink.event(&Event::Liquidation {
                account,
                instrument,
                stage: LiquidationStage::PartialOrder,
                side: Side::Sell,
                qty: filled,
                price: limit,
            });
        }
        if filled.0 < step || step == 0 {
            return self.fund_takes_collateral(account, asset, instrument, floor, sink);
        }
        true
    }

    /// `close_out_fee` × the sale's proceeds (after the taker fee), rounded up, into the
    /// margin-loan fund (the venue's fees without a fund). The fee is a fraction of what the
    /// sale brought in, so it never takes more than the sale gave.
    fn charge_close_out_fee(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        proceeds: Units,
        sink: &mut impl EventSink,
    ) {
        let fee = proceeds
            .max(Units::ZERO)
            .times_rate_ceil(self.limits.margin.close_out_fee_ppm);
        if fee == Units::ZERO {
            return;
        }
        self.accounts[account.0 as usize]
            .balance_mut(Asset::Usd)
            .free -= fee;
        self.pay_to_loan_fund(fee);
        sink.event(&Event::LiquidationFee {
            account,
            instrument,
            fee,
        });
    }

    fn pay_to_loan_fund(&mut self, amount: Units) {
        match self.limits.margin.loan_fund_account {
            Some(fund) if self.account(AccountId(fund)).is_some() => {
                self.accounts[fund as usize].balance_mut(Asset::Usd).free += amount;
                self.mark_dirty(AccountId(fund));
            }
            _ => self.fees[Asset::Usd.index()] += amount,
        }
    }

    /// Step 3: the fund buys all of `asset` the account holds at `price`; returns whether it
    /// did.
    fn fund_takes_collateral(
        &mut self,
        account: AccountId,
        asset: Asset,
        instrument: InstrumentId,
        price: PriceTicks,
        sink: &mut impl EventSink,
    ) -> bool {
        let Some(fund) = self.loan_fund() else {
            return false;
        };
        let inst = &self.instruments[instrument.0 as usize];
        let units = self.accounts[account.0 as usize].balance(asset).free;
        let price_units = inst.spec.ticks_to_price(price) as i128;
        // Rounded down: the fund never pays more than the collateral is worth at the price.
        let cost = Units((units.0 as i128 * price_units / UNITS_PER_WHOLE as i128) as i64);
        let lots = QtyLots(units.0 / inst.spec.lot_units);
        if units <= Units::ZERO || self.accounts[fund.0 as usize].balance(Asset::Usd).free < cost {
            return false;
        }
        let from = &mut self.accounts[account.0 as usize];
        from.balance_mut(asset).free -= units;
        from.balance_mut(Asset::Usd).free += cost;
        let to = &mut self.accounts[fund.0 as usize];
        to.balance_mut(asset).free += units;
        to.balance_mut(Asset::Usd).free -= cost;
        self.mark_dirty(account);
        self.mark_dirty(fund);
        sink.event(&Event::Liquidation {
            account,
            instrument,
            stage: LiquidationStage::InsuranceFund,
            side: Side::Sell,
            qty: lots,
            price,
        });
        true
    }

    /// Step 4: once no virtual asset is left, the fund covers the loan beyond the securities.
    fn write_off_uncovered(&mut self, account: AccountId, sink: &mut impl EventSink) {
        let acc = &self.accounts[account.0 as usize];
        let holds_va = Self::va_holdings(acc).iter().any(|u| *u > Units::ZERO);
        let uncovered = Self::loan_of(acc) - acc.margin.securities_value;
        if holds_va || uncovered <= Units::ZERO {
            return;
        }
        let Some(fund) = self.loan_fund() else {
            return;
        };
        let available = self.accounts[fund.0 as usize]
            .balance(Asset::Usd)
            .free
            .max(Units::ZERO);
        let amount = uncovered.min(available);
        if amount == Units::ZERO {
            return;
        }
        self.accounts[fund.0 as usize].balance_mut(Asset::Usd).free -= amount;
        self.accounts[account.0 as usize]
            .balance_mut(Asset::Usd)
            .free += amount;
        self.mark_dirty(account);
        self.mark_dirty(fund);
        sink.event(&Event::LoanWrittenOff { account, amount });
    }

    fn loan_fund(&self) -> Option<AccountId> {
        let fund = AccountId(self.limits.margin.loan_fund_account?);
        self.account(fund).map(|_| fund)
    }
}

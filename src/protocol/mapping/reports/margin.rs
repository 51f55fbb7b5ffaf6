//! MarginCallReport and LiquidationReport: what the liquidation engine did to an account, on
//! that account's sessions (the public feed carries the same steps anonymised).

use crate::engine::event::LiquidationStage;
use crate::engine::margin::MarginStatus;
use crate::engine::order::Side;
use crate::engine::types::{AccountId, InstrumentId, PriceTicks, QtyLots, Units};
use crate::engine::Engine;
use crate::protocol::codec as wire;

/// A margin account's new status.
#[derive(Clone, Copy, Debug)]
pub struct MarginChange {
    pub account: AccountId,
    pub status: MarginStatus,
    pub loan: Units,
    pub loanable: Units,
    /// `i64::MAX` without a loan (sent as null).
    pub coverage_ppm: i64,
}

pub fn margin_call_report(
    change: &MarginChange,
    report_id: u64,
    time_ns: u64,
) -> wire::MarginCallReport {
    wire::MarginCallReport {
        margin_rpt_id: report_id,
        account: u64::from(change.account.0),
        transact_time: time_ns,
        loan_amount: change.loan.0,
        loanable_value: change.loanable.0,
        coverage_ratio: (change.coverage_ppm != i64::MAX).then_some(change.coverage_ppm),
        margin_status: match change.status {
            MarginStatus::Normal => wire::MarginStatus::Normal,
            MarginStatus::Call => wire::MarginStatus::Call,
            MarginStatus::CloseOut => wire::MarginStatus::CloseOut,
        },
    }
}

/// One liquidation step of (or ADL against) an account.
#[derive(Clone, Copy, Debug)]
pub struct LiquidationStep {
    pub account: AccountId,
    pub instrument: InstrumentId,
    /// `None` for the counterparty of auto-deleveraging.
    pub stage: Option<LiquidationStage>,
    pub side: Side,
    pub qty: QtyLots,
    pub price: PriceTicks,
}

pub fn liquidation_report(
    engine: &Engine,
    step: &LiquidationStep,
    report_id: u64,
    time_ns: u64,
) -> wire::LiquidationReport {
    let spec = engine.instrument(step.instrument).map(|i| &i.spec);
    wire::LiquidationReport {
        liquidation_rpt_id: report_id,
        account: u64::from(step.account.0),
        transact_time: time_ns,
        security_id: spec.map_or(0, |s| s.security_id),
        last_qty: spec.map_or(0, |s| s.lots_to_qty(step.qty)),
        last_px: spec.map_or(0, |s| s.ticks_to_price(step.price)),
        side: match step.side {
            Side::Buy => wire::Side::Buy,
            Side::Sell => wire::Side::Sell,
        },
        liquidation_stage: match step.stage {
            Some(LiquidationStage::PartialOrder) => wire::LiquidationStage::PartialOrder,
            Some(LiquidationStage::InsuranceFund) => wire::LiquidationStage::InsuranceFund,
            Some(LiquidationStage::AutoDeleverage) => wire::LiquidationStage::AutoDeleverage,
            None => wire::LiquidationStage::Deleveraged,
        },
    }
}

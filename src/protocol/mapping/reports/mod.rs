//! Perpetual and account reports built from engine state: PositionReport, FundingPaymentReport,
//! CollateralReport, MarginCallReport and LiquidationReport. The unsolicited reports that follow engine events (`outbound`) and the
//! answers to RequestForPositions and CollateralInquiry (`sequencer::runtime`) share these
//! builders, so a position or a balance reads the same whichever way it reaches the client.
//! `quote` holds the market-maker toolkit's acks.

pub mod collateral;
pub mod funding;
pub mod margin;
pub mod position;
pub mod quote;

#[cfg(test)]
pub(crate) mod fixture;

pub use collateral::collateral_report;
pub use funding::{funding_payment_report, settlement_time, Payment};
pub use margin::{liquidation_report, margin_call_report, LiquidationStep, MarginChange};
pub use position::{current_position, entry_price_units, position_report, ReportIds};

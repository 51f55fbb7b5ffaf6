//! Engine events → SBE replies for the sessions of the accounts concerned.
//!
//! A fill yields two execution reports (maker and taker) and, on a perpetual, an unsolicited
//! PositionReport for each side; a funding settlement yields a FundingPaymentReport per
//! position; a margin status change a MarginCallReport; each liquidation step (perpetual or
//! loan close-out) a LiquidationReport to the liquidated account, and each ADL fill one to the
//! deleveraged account; `Rested`, index, mark and funding-rate events yield none (they are for
//! market data); quote sides report only what their quote's ack does not cover
//! (`reports::quote`). Prices and quantities go back to the wire's decimals (exponent −8). ExecIDs,
//! PosMaintRptIDs and FundingRptIDs are `seq << 20 | n` for the n-th report of the command
//! stamped `seq`: unique and reproducible on replay.

use crate::engine::command::OrderRef;
use crate::engine::event::{CancelReason, Event, Fill};
use crate::engine::mmp::{MmpBreach, FROZEN_UNTIL_RESET};
use crate::engine::order::{Side, TimeInForce};
use crate::engine::perp::Position;
use crate::engine::state::Engine;
use crate::engine::types::{AccountId, InstrumentId, OrderId, PriceTicks, QtyLots};
use crate::protocol::codec as wire;
use crate::protocol::mapping::reports::{self, quote, Payment, ReportIds};

/// One message for the sessions of one account (or, for admin replies, the requester).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Execution(wire::ExecutionReport),
    CancelReject(wire::OrderCancelReject),
    MassCancelReport(wire::OrderMassCancelReport),
    AdminAck(wire::AdminAck),
    AdminReject(wire::AdminReject),
    Position(wire::PositionReport),
    FundingPayment(wire::FundingPaymentReport),
    MarginCall(wire::MarginCallReport),
    Liquidation(wire::LiquidationReport),
    MassQuoteAck(wire::MassQuoteAck),
    QuoteCancelAck(wire::QuoteCancelAck),
    MmpAck(wire::MmpAck),
    MmpTriggered(wire::MmpTriggered),
}

/// What the translation of one command's events needs beyond the events.
#[derive(Clone, Copy, Debug)]
pub struct ReplyContext {
    /// Sequence number and time stamped on the command.
    pub seq: u64,
    pub time_ns: u64,
    /// The account whose session sent the command (admin replies go to it).
    pub requester: AccountId,
    /// AdminReqID and template id of an admin request, echoed in its ack or reject.
    pub admin_req_id: u64,
    pub admin_template_id: u16,
    /// Reports produced so far for this command (execution, position and funding reports).
    pub reports: u32,
    /// The admin request was acknowledged already: a command acks at most once, even when a
    /// timer firing before it also emitted an ack-worthy event (a reject is always sent).
    pub admin_acked: bool,
}

impl ReplyContext {
    pub fn new(seq: u64, time_ns: u64, requester: AccountId) -> ReplyContext {
        ReplyContext {
            seq,
            time_ns,
            requester,
            admin_req_id: 0,
            admin_template_id: 0,
            reports: 0,
            admin_acked: false,
        }
    }

    fn next_report_id(&mut self) -> u64 {
        self.reports += 1;
        (self.seq << 20) | (self.reports as u64 & 0xF_FFFF)
    }
}

/// Calls `deliver(account, reply)` for each reply the events of one command imply, in event
/// order.
pub fn command_replies(
    events: &[Event],
    engine: &Engine,
    ctx: &mut ReplyContext,
    mut deliver: impl FnMut(AccountId, Reply),
) {
    for (i, event) in events.iter().enumerate() {
        if let Event::MassQuoteDone { account, .. } = *event {
            // The one reply that gathers earlier events: its entries' statuses.
            if let Some(ack) = quote::mass_quote_ack(event, &events[..i], engine, ctx.time_ns) {
                deliver(account, Reply::MassQuoteAck(ack));
            }
            continue;
        }
        replies(event, &events[i + 1..], engine, ctx, &mut deliver);
    }
}

/// Calls `deliver(account, reply)` for each reply `event` implies; `later` are the events of
/// the same command after it (a funding payment's settlement time is reported after it).
pub fn replies(
    event: &Event,
    later: &[Event],
    engine: &Engine,
    ctx: &mut ReplyContext,
    mut deliver: impl FnMut(AccountId, Reply),
) {
    let security = |instrument: InstrumentId| {
        engine
            .instrument(instrument)
            .map_or(0, |i| i.spec.security_id)
    };
    if quote::quiet_quote_report(event) {
        return;
    }
    match *event {
        Event::Accepted {
            order,
            cl_ord_id,
            account,
            instrument,
            side,
            tif,
            market,
            price,
            qty,
        } => {
            let state = OrderState {
                order,
                cl_ord_id,
                instrument,
                side,
                tif,
                market,
                price,
                open: qty,
                filled: QtyLots::ZERO,
            };
            let report = state.report(engine, ctx, wire::ExecType::New, wire::OrdStatus::New);
            deliver(account, Reply::Execution(report));
        }
        Event::Fill(fill) => {
            let maker = fill_report(&fill, false, engine, ctx);
            deliver(fill.maker_account, Reply::Execution(maker));
            let taker = fill_report(&fill, true, engine, ctx);
            deliver(fill.taker_account, Reply::Execution(taker));
        }
        Event::Canceled {
            order,
            cl_ord_id,
            account,
            instrument,
            side,
            price,
            open,
            filled,
            reason,
            tif,
            market,
            ..
        } => {
            let state = OrderState {
                order,
                cl_ord_id,
                instrument,
                side,
                tif,
                market,
                price,
                open,
                filled,
            };
            let (exec_type, ord_status) = match reason {
                CancelReason::Expired => (wire::ExecType::Expired, wire::OrdStatus::Expired),
                _ => (wire::ExecType::Canceled, wire::OrdStatus::Canceled),
            };
            // Nothing stays open on a finished order.
            let report = wire::ExecutionReport {
                leaves_qty: 0,
                ..state.report(engine, ctx, exec_type, ord_status)
            };
            deliver(account, Reply::Execution(report));
        }
        Event::Replaced {
            order,
            cl_ord_id,
            orig_cl_ord_id,
            account,
            instrument,
            side,
            price,
            open,
            filled,
            tif,
            ..
        } => {
            let state = OrderState {
                order,
                cl_ord_id,
                instrument,
                side,
                tif,
                market: false,
                price,
                open,
                filled,
            };
            let status = if filled.0 > 0 {
                wire::OrdStatus::PartiallyFilled
            } else {
                wire::OrdStatus::New
            };
            let report = wire::ExecutionReport {
                orig_cl_ord_id: Some(orig_cl_ord_id),
                ..state.report(engine, ctx, wire::ExecType::Replaced, status)
            };
            deliver(account, Reply::Execution(report));
        }
        Event::Rejected {
            cl_ord_id,
            account,
            instrument,
            side,
            tif,
            market,
            price,
            qty,
            reason,
        } => {
            // The order as it was sent, as far as the engine understood it.
            let spec = engine.instrument(instrument).map(|i| &i.spec);
            let report = wire::ExecutionReport {
                cl_ord_id,
                exec_id: ctx.next_report_id(),
                price: price.and_then(|p| spec.map(|s| s.ticks_to_price(p))),
                order_qty: qty
                    .and_then(|q| spec.map(|s| s.lots_to_qty(q)))
                    .unwrap_or(0),
                transact_time: ctx.time_ns,
                security_id: security(instrument),
                side: wire_side(side),
                ord_type: ord_type(market),
                time_in_force: wire_tif(tif),
                ord_rej_reason: Some(reason.code()),
                exec_type: wire::ExecType::Rejected,
                ord_status: wire::OrdStatus::Rejected,
                ..Default::default()
            };
            deliver(account, Reply::Execution(report));
        }
        Event::CancelRejected {
            cl_ord_id,
            account,
            order,
            reason,
            is_amend,
        } => {
            let (order_id, orig_cl_ord_id) = match order {
                OrderRef::Id(id) => (Some(id.0), 0),
                OrderRef::ClOrdId(cl) => (None, cl),
            };
            let reject = wire::OrderCancelReject {
                order_id,
                cl_ord_id,
                orig_cl_ord_id,
                transact_time: ctx.time_ns,
                cxl_rej_reason: reason.code(),
                cxl_rej_response_to: if is_amend {
                    wire::CxlRejResponseTo::OrderCancelReplaceRequest
                } else {
                    wire::CxlRejResponseTo::OrderCancelRequest
                },
                ..Default::default()
            };
            deliver(account, Reply::CancelReject(reject));
        }
        Event::MassCancelDone {
            cl_ord_id,
            account,
            instrument,
            side,
            canceled,
            rejected,
        } => {
            let (request_type, response) = match instrument {
                Some(_) => (
                    wire::MassCancelRequestType::CancelOrdersForSecurity,
                    wire::MassCancelResponse::CancelOrdersForSecurity,
                ),
                None => (
                    wire::MassCancelRequestType::CancelAllOrders,
                    wire::MassCancelResponse::CancelAllOrders,
                ),
            };
            let report = wire::OrderMassCancelReport {
                cl_ord_id,
                transact_time: ctx.time_ns,
                total_affected_orders: canceled,
                security_id: instrument.map(security),
                mass_cancel_reject_reason: rejected.map(|r| r.code()),
                mass_cancel_request_type: request_type,
                mass_cancel_response: match rejected {
                    Some(_) => wire::MassCancelResponse::CancelRequestRejected,
                    None => response,
                },
                side: side.map(wire_side),
            };
            deliver(account, Reply::MassCancelReport(report));
        }
        Event::AccountUpdated { .. }
        | Event::BalanceChanged { .. }
        | Event::IndexPrice { .. }
        | Event::InstrumentStatus { .. } => {
            if ctx.admin_template_id != 0 && !ctx.admin_acked {
                ctx.admin_acked = true;
                let ack = wire::AdminAck {
                    admin_req_id: ctx.admin_req_id,
                    transact_time: ctx.time_ns,
                    ref_template_id: ctx.admin_template_id,
                };
                deliver(ctx.requester, Reply::AdminAck(ack));
            }
        }
        Event::AdminRejected { reason, .. } => {
            let reject = wire::AdminReject {
                admin_req_id: ctx.admin_req_id,
                transact_time: ctx.time_ns,
                ref_template_id: ctx.admin_template_id,
                admin_reject_reason: reason.code(),
                text: wire::VarData::from_text(reason.text()).unwrap_or_default(),
            };
            deliver(ctx.requester, Reply::AdminReject(reject));
        }
        Event::PositionChanged {
            account,
            instrument,
            qty,
            cost,
            realised,
        } => {
            let position = Position {
                qty,
                cost,
                realised,
                ..Position::default()
            };
            let ids = ReportIds {
                report_id: ctx.next_report_id(),
                request_id: None,
                total: 1,
            };
            let report =
                reports::position_report(engine, account, instrument, &position, ids, ctx.time_ns);
            deliver(account, Reply::Position(report));
        }
        Event::FundingPayment {
            account,
            instrument,
            qty,
            mark,
            rate_ppm,
            amount,
        } => {
            let payment = Payment {
                account,
                instrument,
                qty,
                mark,
                rate_ppm,
                amount,
            };
            deliver(account, funding_reply(&payment, later, engine, ctx));
        }
        Event::MarginCall {
            account,
            status,
            loan,
            loanable,
            coverage_ppm,
        } => {
            let change = reports::MarginChange {
                account,
                status,
                loan,
                loanable,
                coverage_ppm,
            };
            let report = reports::margin_call_report(&change, ctx.next_report_id(), ctx.time_ns);
            deliver(account, Reply::MarginCall(report));
        }
        Event::Liquidation {
            account,
            instrument,
            stage,
            side,
            qty,
            price,
        } => {
            let step = reports::LiquidationStep {
                account,
                instrument,
                stage: Some(stage),
                side,
                qty,
                price,
            };
            deliver(account, liquidation_reply(engine, &step, ctx));
        }
        Event::AutoDeleveraged {
            account,
            instrument,
            side,
            qty,
            price,
        } => {
            let step = reports::LiquidationStep {
                account,
                instrument,
                stage: None,
                side,
                qty,
                price,
            };
            deliver(account, liquidation_reply(engine, &step, ctx));
        }
        Event::Rested { .. }
        | Event::MarkPrice { .. }
        | Event::FundingRate { .. }
        | Event::LiquidationFee { .. }
        | Event::InterestCharged { .. }
        | Event::LoanWrittenOff { .. } => {}
        // Gathered into the MassQuoteAck by `command_replies`.
        Event::QuoteEntryStatus { .. } | Event::MassQuoteDone { .. } => {}
        Event::QuoteCancelDone {
            account,
            quote_req_id,
            canceled,
            rejected,
        } => {
            let ack = wire::QuoteCancelAck {
                quote_id: quote_req_id,
                transact_time: ctx.time_ns,
                total_affected_orders: canceled,
                quote_status: match rejected {
                    None => wire::QuoteStatus::Accepted,
                    Some(_) => wire::QuoteStatus::Rejected,
                },
                quote_reject_reason: rejected.map(|r| r.code()),
            };
            deliver(account, Reply::QuoteCancelAck(ack));
        }
        Event::MmpConfigured {
            account,
            request_id,
            underlying,
            rejected,
            ..
        } => {
            let ack = wire::MmpAck {
                mmp_req_id: request_id,
                mmp_ack_type: wire::MmpAckType::Config,
                underlying: quote::wire_asset(underlying),
                mmp_reject_reason: rejected.map(|r| r.code()),
            };
            deliver(account, Reply::MmpAck(ack));
        }
        Event::MmpReset {
            account,
            request_id,
            underlying,
            rejected,
        } => {
            let ack = wire::MmpAck {
                mmp_req_id: request_id,
                mmp_ack_type: wire::MmpAckType::Reset,
                underlying: quote::wire_asset(underlying),
                mmp_reject_reason: rejected.map(|r| r.code()),
            };
            deliver(account, Reply::MmpAck(ack));
        }
        Event::MmpTriggered {
            account,
            underlying,
            breach,
            gross,
            net,
            frozen_until,
            canceled,
        } => {
            let triggered = wire::MmpTriggered {
                transact_time: ctx.time_ns,
                mmp_frozen_until: (frozen_until != FROZEN_UNTIL_RESET).then_some(frozen_until),
                mmp_window_gross: gross.0,
                mmp_window_net: net.0,
                total_affected_orders: canceled,
                underlying: quote::wire_asset(underlying),
                mmp_breach: match breach {
                    MmpBreach::Quantity => wire::MmpBreach::Quantity,
                    MmpBreach::Delta => wire::MmpBreach::Delta,
                },
                account: account.0 as u64,
                mmp_trigger_seq: ctx.seq as u32,
            };
            deliver(account, Reply::MmpTriggered(triggered));
        }
    }
}

fn liquidation_reply(
    engine: &Engine,
    step: &reports::LiquidationStep,
    ctx: &mut ReplyContext,
) -> Reply {
    let report_id = ctx.next_report_id();
    Reply::Liquidation(reports::liquidation_report(
        engine,
        step,
        report_id,
        ctx.time_ns,
    ))
}

/// The FundingPaymentReport of one payment; its settlement time comes from the settled
/// `FundingRate` among the command's `later` events (the command's own time if, against the
/// engine's contract, there is none).
fn funding_reply(
    payment: &Payment,
    later: &[Event],
    engine: &Engine,
    ctx: &mut ReplyContext,
) -> Reply {
    let settled_ns = reports::settlement_time(later, payment.instrument);
    debug_assert!(
        settled_ns.is_some(),
        "a settled FundingRate follows every payment"
    );
    let report_id = ctx.next_report_id();
    let settled_ns = settled_ns.unwrap_or(ctx.time_ns);
    let report =
        reports::funding_payment_report(engine, payment, report_id, settled_ns, ctx.time_ns);
    Reply::FundingPayment(report)
}

/// An order's state after an event, as execution reports describe it.
struct OrderState {
    order: OrderId,
    cl_ord_id: u64,
    instrument: InstrumentId,
    side: Side,
    tif: TimeInForce,
    market: bool,
    price: PriceTicks,
    open: QtyLots,
    filled: QtyLots,
}

impl OrderState {
    /// The report fields every execution report of this order shares; the caller adds the
    /// event's own (fill price, fee, OrigClOrdID).
    fn report(
        &self,
        engine: &Engine,
        ctx: &mut ReplyContext,
        exec_type: wire::ExecType,
        ord_status: wire::OrdStatus,
    ) -> wire::ExecutionReport {
        let spec = engine.instrument(self.instrument).map(|i| &i.spec);
        let qty = |q: QtyLots| spec.map_or(0, |s| s.lots_to_qty(q));
        wire::ExecutionReport {
            order_id: self.order.0,
            cl_ord_id: self.cl_ord_id,
            exec_id: ctx.next_report_id(),
            price: (!self.market).then(|| spec.map_or(0, |s| s.ticks_to_price(self.price))),
            order_qty: qty(self.open + self.filled),
            leaves_qty: qty(self.open),
            cum_qty: qty(self.filled),
            transact_time: ctx.time_ns,
            security_id: spec.map_or(0, |s| s.security_id),
            exec_type,
            ord_status,
            side: wire_side(self.side),
            ord_type: ord_type(self.market),
            time_in_force: wire_tif(self.tif),
            ..Default::default()
        }
    }
}

/// The execution report of one side of a fill.
fn fill_report(
    fill: &Fill,
    taker: bool,
    engine: &Engine,
    ctx: &mut ReplyContext,
) -> wire::ExecutionReport {
    let (state, fee) = if taker {
        let state = OrderState {
            order: fill.taker_order,
            cl_ord_id: fill.taker_cl_ord_id,
            instrument: fill.instrument,
            side: fill.taker_side,
            tif: fill.taker_tif,
            market: fill.taker_market,
            price: fill.taker_price,
            open: fill.taker_open,
            filled: fill.taker_filled,
        };
        (state, fill.taker_fee)
    } else {
        let state = OrderState {
            order: fill.maker_order,
            cl_ord_id: fill.maker_cl_ord_id,
            instrument: fill.instrument,
            side: fill.taker_side.opposite(),
            tif: fill.maker_tif,
            market: false,
            price: fill.price,
            open: fill.maker_open,
            filled: fill.maker_filled,
        };
        (state, fill.maker_fee)
    };
    let status = if state.open.0 == 0 {
        wire::OrdStatus::Filled
    } else {
        wire::OrdStatus::PartiallyFilled
    };
    let spec = engine.instrument(fill.instrument).map(|i| &i.spec);
    let aggressor = if taker {
        wire::BooleanFlag::True
    } else {
        wire::BooleanFlag::False
    };
    wire::ExecutionReport {
        last_px: Some(spec.map_or(0, |s| s.ticks_to_price(fill.price))),
        last_qty: Some(spec.map_or(0, |s| s.lots_to_qty(fill.qty))),
        commission: fee.0,
        trd_match_id: Some(fill.trade_id),
        aggressor_indicator: Some(aggressor),
        ..state.report(engine, ctx, wire::ExecType::Trade, status)
    }
}

fn wire_side(side: Side) -> wire::Side {
    match side {
        Side::Buy => wire::Side::Buy,
        Side::Sell => wire::Side::Sell,
    }
}

fn ord_type(market: bool) -> wire::OrdType {
    if market {
        wire::OrdType::Market
    } else {
        wire::OrdType::Limit
    }
}

fn wire_tif(tif: TimeInForce) -> wire::TimeInForce {
    match tif {
        TimeInForce::Day => wire::TimeInForce::Day,
        TimeInForce::Gtc => wire::TimeInForce::GoodTillCancel,
        TimeInForce::Ioc => wire::TimeInForce::ImmediateOrCancel,
        TimeInForce::Fok => wire::TimeInForce::FillOrKill,
        TimeInForce::Gtd => wire::TimeInForce::GoodTillDate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::Event;
    use crate::engine::types::Units;
    use crate::protocol::mapping::reports::fixture::{Fixture, BTC_LOTS, BTC_PERP, MM1, MM2, USD};

    fn replies_of(events: &[Event], engine: &Engine) -> Vec<(AccountId, Reply)> {
        let mut ctx = ReplyContext::new(7, 1_000, AccountId(0));
        let mut out = Vec::new();
        command_replies(events, engine, &mut ctx, |account, reply| {
            out.push((account, reply));
        });
        out
    }

    #[test]
    fn a_perp_fill_gives_each_side_an_unsolicited_position_report() {
        let mut f = Fixture::new();
        f.index(BTC_PERP, [100_000 * USD; 3]);
        f.limit(MM2, BTC_PERP, Side::Sell, 1_000_000, BTC_LOTS);
        let events = f.limit(MM1, BTC_PERP, Side::Buy, 1_000_000, BTC_LOTS);
        let replies = replies_of(&events, &f.engine);
        let positions: Vec<(AccountId, wire::PositionReport)> = replies
            .iter()
            .filter_map(|(account, reply)| match reply {
                Reply::Position(report) => Some((*account, *report)),
                _ => None,
            })
            .collect();
        assert_eq!(positions.len(), 2, "{replies:?}");
        let long = positions.iter().find(|(a, _)| *a == MM1).expect("buyer").1;
        let short = positions.iter().find(|(a, _)| *a == MM2).expect("seller").1;
        assert_eq!((long.long_qty, short.short_qty), (USD, USD));
        assert_eq!((long.pos_req_id, long.tot_num_reports), (None, 1));
        assert_eq!(long.entry_px, Some(100_000 * USD));
        // Report ids continue the command's ExecID sequence: all distinct.
        let mut ids: Vec<u64> = replies
            .iter()
            .map(|(_, reply)| match reply {
                Reply::Execution(r) => r.exec_id,
                Reply::Position(r) => r.pos_maint_rpt_id,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), replies.len());
    }

    #[test]
    fn funding_payments_take_the_settlement_time_reported_after_them() {
        let f = Fixture::new();
        let payment = |account, qty, amount| Event::FundingPayment {
            account,
            instrument: BTC_PERP,
            qty,
            mark: PriceTicks(1_000_000),
            rate_ppm: 100,
            amount: Units(amount),
        };
        let settled = |settled_ns| Event::FundingRate {
            instrument: BTC_PERP,
            rate_ppm: 100,
            next_funding_ns: settled_ns + 10,
            settled_ns,
        };
        // Catch-up after downtime: two settlements in one command.
        let events = [
            payment(MM1, BTC_LOTS, -10 * USD),
            payment(MM2, -BTC_LOTS, 10 * USD),
            settled(100),
            payment(MM1, BTC_LOTS, -10 * USD),
            settled(110),
        ];
        let replies = replies_of(&events, &f.engine);
        let funding: Vec<(AccountId, u64, i64)> = replies
            .iter()
            .map(|(account, reply)| match reply {
                Reply::FundingPayment(r) => (*account, r.funding_time, r.funding_amount),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            funding,
            [
                (MM1, 100, -10 * USD),
                (MM2, 100, 10 * USD),
                (MM1, 110, -10 * USD)
            ]
        );
    }

    #[test]
    fn a_funding_settlement_reports_each_holder_its_payment() {
        let mut f = Fixture::one_btc_traded();
        let settle_ns = f.engine.perp(BTC_PERP).unwrap().funding.next_settle_ns;
        // An index fresh at the settlement, then the first command at it.
        f.time_ns = settle_ns - 5_000_000_000;
        f.index(BTC_PERP, [100_000 * USD; 3]);
        f.time_ns = settle_ns - 1_000_000;
        let events = f.apply(&crate::engine::Command::Tick);
        let replies = replies_of(&events, &f.engine);
        let reports: Vec<(AccountId, wire::FundingPaymentReport)> = replies
            .iter()
            .filter_map(|(account, reply)| match reply {
                Reply::FundingPayment(r) => Some((*account, *r)),
                _ => None,
            })
            .collect();
        assert_eq!(reports.len(), 2, "{events:?}");
        let long = reports
            .iter()
            .find(|(a, _)| *a == MM1)
            .expect("MM1 holds")
            .1;
        let short = reports
            .iter()
            .find(|(a, _)| *a == MM2)
            .expect("MM2 holds")
            .1;
        assert_eq!(
            (long.funding_time, short.funding_time),
            (settle_ns, settle_ns)
        );
        assert_eq!((long.position_qty, short.position_qty), (USD, -USD));
        // No book: zero premium, so the rate is the 0.01% interest; longs pay shorts.
        assert_eq!(long.funding_rate, 100_000);
        assert!(long.funding_amount < 0, "{long:?}");
        assert_eq!(short.funding_amount, -long.funding_amount);
        let mark = f.engine.perp(BTC_PERP).unwrap().mark.price;
        let mark_px = f
            .engine
            .instrument(BTC_PERP)
            .unwrap()
            .spec
            .ticks_to_price(mark);
        assert_eq!(long.mark_px, mark_px);
        assert_eq!(long.funding_amount, -mark_px / 10_000);
    }

    #[test]
    fn liquidation_steps_and_adl_fills_reach_the_accounts_concerned() {
        use crate::engine::event::LiquidationStage;
        use crate::engine::types::{PriceTicks, QtyLots};
        let f = Fixture::new();
        let step = |stage| Event::Liquidation {
            account: MM1,
            instrument: BTC_PERP,
            stage,
            side: Side::Sell,
            qty: QtyLots(BTC_LOTS),
            price: PriceTicks(985_000),
        };
        let events = [
            step(LiquidationStage::PartialOrder),
            step(LiquidationStage::AutoDeleverage),
            Event::AutoDeleveraged {
                account: MM2,
                instrument: BTC_PERP,
                side: Side::Buy,
                qty: QtyLots(BTC_LOTS),
                price: PriceTicks(985_000),
            },
        ];
        let reports: Vec<(AccountId, wire::LiquidationReport)> = replies_of(&events, &f.engine)
            .into_iter()
            .filter_map(|(account, reply)| match reply {
                Reply::Liquidation(report) => Some((account, report)),
                _ => None,
            })
            .collect();
        let stages: Vec<(AccountId, wire::LiquidationStage, wire::Side)> = reports
            .iter()
            .map(|(a, r)| (*a, r.liquidation_stage, r.side))
            .collect();
        assert_eq!(
            stages,
            [
                (MM1, wire::LiquidationStage::PartialOrder, wire::Side::Sell),
                (
                    MM1,
                    wire::LiquidationStage::AutoDeleverage,
                    wire::Side::Sell
                ),
                (MM2, wire::LiquidationStage::Deleveraged, wire::Side::Buy),
            ]
        );
        let (_, adl) = reports[2];
        assert_eq!(
            (adl.account, adl.last_qty, adl.last_px),
            (2, USD, 98_500 * USD)
        );
    }

    #[test]
    fn a_margin_status_change_is_reported_to_the_account() {
        use crate::engine::margin::MarginStatus;
        let f = Fixture::new();
        let call = |coverage_ppm| Event::MarginCall {
            account: MM1,
            status: MarginStatus::Call,
            loan: Units(100 * USD),
            loanable: Units(80 * USD),
            coverage_ppm,
        };
        let replies = replies_of(&[call(800_000), call(i64::MAX)], &f.engine);
        let reports: Vec<wire::MarginCallReport> = replies
            .iter()
            .filter_map(|(account, reply)| match reply {
                Reply::MarginCall(report) if *account == MM1 => Some(*report),
                _ => None,
            })
            .collect();
        assert_eq!(reports.len(), 2, "{replies:?}");
        assert_eq!(reports[0].margin_status, wire::MarginStatus::Call);
        assert_eq!(reports[0].coverage_ratio, Some(800_000));
        assert_eq!(reports[0].loan_amount, 100 * USD);
        // Without a loan the coverage is unbounded: null on the wire.
        assert_eq!(reports[1].coverage_ratio, None);
    }
}

//! Decoded application and admin messages → engine commands.

use crate::engine::account::{AccountAttrs, ClientClass};
use crate::engine::command::{AdminCommand, Amend, Cancel, Command, MassCancel, NewOrder};
use crate::engine::event::Event;
use crate::engine::instrument::InstrumentSpec;
use crate::engine::order::{flags, OrdType, Side, StpMode, TimeInForce};
use crate::engine::reject::RejectReason;
use crate::engine::state::Engine;
use crate::engine::{
    AccountId, Asset, InstrumentId, OrderId, OrderRef, PriceTicks, RatePpm, Units,
};
use crate::protocol::codec as wire;
use crate::protocol::codec::Inbound;
use crate::protocol::mapping::quote;

/// What an inbound application message becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Translated {
    /// A command for the engine.
    Command(Command),
    /// Refused before reaching the engine (off tick, unknown instrument...): the reject to
    /// report. Deterministic, so replay refuses it again.
    Refused(Event),
    /// A read-only request answered from the current state.
    Query(Query),
}

/// Read-only requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    Positions { request_id: u64, account: AccountId },
    Collateral { request_id: u64, account: AccountId },
}

/// Translates one decoded message from a session bound to `account` (a MassQuote enters the
/// engine by its own entry point: see `quote::mass_quote_entries`). `operator` sessions may
/// send admin messages. Returns `None` for session-layer (FIXP) messages and for messages only
/// the venue sends.
pub fn translate(
    account: AccountId,
    operator: bool,
    message: &Inbound<'_>,
    engine: &Engine,
) -> Option<Translated> {
    if let Some(order) = translate_order(account, message, engine) {
        return Some(order);
    }
    let translated = match message {
        Inbound::RequestForPositions(view) => {
            let request_id = view.to_plain().pos_req_id;
            Translated::Query(Query::Positions {
                request_id,
                account,
            })
        }
        Inbound::CollateralInquiry(view) => {
            let request_id = view.to_plain().coll_inquiry_id;
            Translated::Query(Query::Collateral {
                request_id,
                account,
            })
        }
        Inbound::QuoteCancel(view) => quote::quote_cancel(account, &view.to_plain(), engine),
        Inbound::MmpConfig(view) => quote::mmp_config(account, &view.to_plain()),
        Inbound::MmpReset(view) => quote::mmp_reset(account, &view.to_plain()),
        Inbound::AccountSetup(_)
        | Inbound::FundsTransfer(_)
        | Inbound::SecurityStatusUpdate(_)
        | Inbound::CollateralValueUpdate(_)
        | Inbound::IndexConstituents(_)
        | Inbound::RiskParameterUpdate(_)
        | Inbound::KillSwitch(_) => admin(account, operator, message, engine),
        _ => return None,
    };
    Some(translated)
}

/// Where translation finds an instrument's fixed spec: the engine, or a copy of the
/// configured specs (which never change at run time) on another thread.
pub trait SpecLookup {
    fn spec_by_security_id(&self, security_id: i32) -> Option<&InstrumentSpec>;
}

impl SpecLookup for Engine {
    fn spec_by_security_id(&self, security_id: i32) -> Option<&InstrumentSpec> {
        self.instrument_by_security_id(security_id).map(|i| &i.spec)
    }
}

impl SpecLookup for [InstrumentSpec] {
    fn spec_by_security_id(&self, security_id: i32) -> Option<&InstrumentSpec> {
        self.iter().find(|s| s.security_id == security_id)
    }
}

/// Translates the order messages (new order, cancel, amend, mass cancel): the bulk of the
/// traffic, and the messages whose translation reads nothing but instrument specs. `None`
/// for any other message.
pub fn translate_order<L: SpecLookup + ?Sized>(
    account: AccountId,
    message: &Inbound<'_>,
    specs: &L,
) -> Option<Translated> {
    let translated = match message {
        Inbound::NewOrderSingle(view) => new_order(account, &view.to_plain(), specs),
        Inbound::OrderCancelRequest(view) => {
            let m = view.to_plain();
            let order = order_ref(m.order_id, m.orig_cl_ord_id);
            Translated::Command(Command::Cancel(Cancel {
                account,
                order,
                cl_ord_id: m.cl_ord_id,
            }))
        }
        Inbound::OrderCancelReplaceRequest(view) => amend(account, &view.to_plain(), specs),
        Inbound::OrderMassCancelRequest(view) => mass_cancel(account, &view.to_plain(), specs),
        _ => return None,
    };
    Some(translated)
}

fn order_ref(order_id: Option<u64>, orig_cl_ord_id: u64) -> OrderRef {
    match order_id {
        Some(id) => OrderRef::Id(OrderId(id)),
        None => OrderRef::ClOrdId(orig_cl_ord_id),
    }
}

fn instrument_of<L: SpecLookup + ?Sized>(
    specs: &L,
    security_id: i32,
) -> Result<&InstrumentSpec, RejectReason> {
    specs
        .spec_by_security_id(security_id)
        .ok_or(RejectReason::UnknownInstrument)
}

fn new_order<L: SpecLookup + ?Sized>(
    account: AccountId,
    m: &wire::NewOrderSingle,
    specs: &L,
) -> Translated {
    let ord_type = match m.ord_type {
        wire::OrdType::Market => OrdType::Market,
        wire::OrdType::Limit => OrdType::Limit,
    };
    let market = ord_type == OrdType::Market;
    let tif = time_in_force(m.time_in_force);
    // The reject echoes the order as far as it converted.
    let refuse = |instrument, price, qty, reason| {
        Translated::Refused(Event::Rejected {
            cl_ord_id: m.cl_ord_id,
            account,
            instrument,
            side: side(m.side),
            tif,
            market,
            price,
            qty,
            reason,
        })
    };
    let spec = match instrument_of(specs, m.security_id) {
        Ok(spec) => spec,
        Err(reason) => return refuse(InstrumentId(u16::MAX), None, None, reason),
    };
    let id = spec.id;
    let lots = spec.qty_to_lots(m.order_qty);
    let price = match (ord_type, m.price) {
        (OrdType::Limit, None) => return refuse(id, None, lots.ok(), RejectReason::MissingPrice),
        (OrdType::Market, None) => PriceTicks(0),
        (_, Some(price)) => match spec.price_to_ticks(price) {
            Ok(ticks) => ticks,
            Err(reason) => return refuse(id, None, lots.ok(), reason),
        },
    };
    let echoed_price = (!market).then_some(price);
    let qty = match lots {
        Ok(lots) => lots,
        Err(reason) => return refuse(id, echoed_price, None, reason),
    };
    let expire_ns = match (tif, m.expire_time) {
        (TimeInForce::Gtd, None) => {
            return refuse(id, echoed_price, Some(qty), RejectReason::ExpireTimeInPast)
        }
        (_, expire) => expire.unwrap_or(0),
    };
    let mut order_flags = 0;
    if m.exec_inst.post_only() {
        order_flags |= flags::POST_ONLY;
    }
    if m.exec_inst.reduce_only() {
        order_flags |= flags::REDUCE_ONLY;
    }
    if m.exec_inst.mmp() {
        order_flags |= flags::MMP;
    }
    Translated::Command(Command::NewOrder(NewOrder {
        account,
        instrument: id,
        cl_ord_id: m.cl_ord_id,
        side: side(m.side),
        ord_type,
        tif,
        price,
        qty,
        expire_ns,
        flags: order_flags,
        stp: stp(m.self_match_prevention_instruction),
    }))
}

fn amend<L: SpecLookup + ?Sized>(
    account: AccountId,
    m: &wire::OrderCancelReplaceRequest,
    specs: &L,
) -> Translated {
    let refuse = |reason| {
        Translated::Refused(Event::CancelRejected {
            cl_ord_id: m.cl_ord_id,
            account,
            order: order_ref(m.order_id, m.orig_cl_ord_id),
            reason,
            is_amend: true,
        })
    };
    let spec = match instrument_of(specs, m.security_id) {
        Ok(spec) => spec,
        Err(reason) => return refuse(reason),
    };
    let price = match spec.price_to_ticks(m.price) {
        Ok(price) => price,
        Err(reason) => return refuse(reason),
    };
    // The new total quantity may be below the instrument minimum only if it is rejected by the
    // engine for being at or below the filled quantity; convert off-lot here.
    let qty = match spec.qty_to_lots(m.order_qty) {
        Ok(qty) => qty,
        Err(reason) => return refuse(reason),
    };
    Translated::Command(Command::Amend(Amend {
        account,
        order: order_ref(m.order_id, m.orig_cl_ord_id),
        cl_ord_id: m.cl_ord_id,
        qty,
        price,
    }))
}

fn mass_cancel<L: SpecLookup + ?Sized>(
    account: AccountId,
    m: &wire::OrderMassCancelRequest,
    specs: &L,
) -> Translated {
    let instrument = match (m.mass_cancel_request_type, m.security_id) {
        (wire::MassCancelRequestType::CancelAllOrders, _) => None,
        (wire::MassCancelRequestType::CancelOrdersForSecurity, Some(security_id)) => {
            match instrument_of(specs, security_id) {
                Ok(spec) => Some(spec.id),
                Err(reason) => {
                    return Translated::Refused(mass_cancel_refused(account, m, reason));
                }
            }
        }
        (wire::MassCancelRequestType::CancelOrdersForSecurity, None) => {
            let reason = RejectReason::UnknownInstrument;
            return Translated::Refused(mass_cancel_refused(account, m, reason));
        }
    };
    Translated::Command(Command::MassCancel(MassCancel {
        account,
        instrument,
        side: m.side.map(side),
        cl_ord_id: m.cl_ord_id,
    }))
}

fn mass_cancel_refused(
    account: AccountId,
    m: &wire::OrderMassCancelRequest,
    reason: RejectReason,
) -> Event {
    Event::MassCancelDone {
        cl_ord_id: m.cl_ord_id,
        account,
        instrument: None,
        side: m.side.map(side),
        canceled: 0,
        rejected: Some(reason),
    }
}

fn admin(account: AccountId, operator: bool, message: &Inbound<'_>, engine: &Engine) -> Translated {
    let refuse = |account, reason| Translated::Refused(Event::AdminRejected { account, reason });
    if !operator {
        return refuse(account, RejectReason::NotOperator);
    }
    let command = match message {
        Inbound::AccountSetup(view) => {
            let m = view.to_plain();
            let Ok(target) = u32::try_from(m.account).map(AccountId) else {
                return refuse(account, RejectReason::UnknownAccount);
            };
            let attrs = AccountAttrs {
                client_class: match m.client_class {
                    wire::ClientClass::Retail => ClientClass::Retail,
                    wire::ClientClass::Professional => ClientClass::Professional,
                },
                derivatives_knowledge: m.derivatives_knowledge == wire::BooleanFlag::True,
                risk_disclosure_version_acked: m.risk_disclosure_version_acked as u32,
                securities_margin_client: m.securities_margin_client == wire::BooleanFlag::True,
                credit_limit_usd: Units(m.credit_limit_usd),
                affiliate_mm: m.affiliate_mm == wire::BooleanFlag::True,
                owner_group: m.owner_group,
                blocked: engine.account(target).is_some_and(|a| a.attrs.blocked),
            };
            match engine.account(target) {
                Some(_) => AdminCommand::SetAccountAttrs {
                    account: target,
                    attrs,
                },
                None => AdminCommand::CreateAccount {
                    account: target,
                    attrs,
                },
            }
        }
        Inbound::FundsTransfer(view) => {
            let m = view.to_plain();
            let Ok(target) = u32::try_from(m.account).map(AccountId) else {
                return refuse(account, RejectReason::UnknownAccount);
            };
            let asset = match m.currency {
                wire::Asset::Usd => Asset::Usd,
                wire::Asset::Btc => Asset::Btc,
                wire::Asset::Eth => Asset::Eth,
            };
            let amount = Units(m.transfer_amount);
            match m.transfer_type {
                wire::TransferType::Deposit => AdminCommand::Deposit {
                    account: target,
                    asset,
                    amount,
                },
                wire::TransferType::Withdrawal => AdminCommand::Withdraw {
                    account: target,
                    asset,
                    amount,
                },
            }
        }
        Inbound::SecurityStatusUpdate(view) => {
            let m = view.to_plain();
            let instrument = match instrument_of(engine, m.security_id) {
                Ok(spec) => spec.id,
                Err(reason) => return refuse(account, reason),
            };
            match m.security_trading_status {
                wire::SecurityTradingStatus::TradingHalt => AdminCommand::Halt { instrument },
                wire::SecurityTradingStatus::ReadyToTrade => AdminCommand::Resume { instrument },
            }
        }
        Inbound::CollateralValueUpdate(view) => {
            let m = view.to_plain();
            let Ok(target) = u32::try_from(m.account).map(AccountId) else {
                return refuse(account, RejectReason::UnknownAccount);
            };
            AdminCommand::SetCollateralValue {
                account: target,
                class: m.security_class,
                value: Units(m.security_collateral_value),
                haircut_ppm: RatePpm(i64::from(m.haircut_ppm)),
            }
        }
        Inbound::KillSwitch(view) => match kill_switch(&view.to_plain()) {
            Ok(command) => command,
            Err(reason) => return refuse(account, reason),
        },
        // Index constituents are applied by the core outside `Command`; risk parameters are
        // configuration.
        _ => return refuse(account, RejectReason::Unsupported),
    };
    Translated::Command(Command::Admin(command))
}

/// The kill switch's target: the account when given, else the (non-zero) owner group.
fn kill_switch(m: &wire::KillSwitch) -> Result<AdminCommand, RejectReason> {
    let kill = m.kill_switch_action == wire::KillSwitchAction::Kill;
    match m.account {
        Some(id) => {
            let account = u32::try_from(id)
                .map(AccountId)
                .map_err(|_| RejectReason::UnknownAccount)?;
            Ok(if kill {
                AdminCommand::KillAccount { account }
            } else {
                AdminCommand::UnblockAccount { account }
            })
        }
        None if m.owner_group == 0 => Err(RejectReason::UnknownOwnerGroup),
        None => {
            let owner_group = m.owner_group;
            Ok(if kill {
                AdminCommand::KillGroup { owner_group }
            } else {
                AdminCommand::UnblockGroup { owner_group }
            })
        }
    }
}

fn side(side: wire::Side) -> Side {
    match side {
        wire::Side::Buy => Side::Buy,
        wire::Side::Sell => Side::Sell,
    }
}

fn time_in_force(tif: wire::TimeInForce) -> TimeInForce {
    match tif {
        wire::TimeInForce::Day => TimeInForce::Day,
        wire::TimeInForce::GoodTillCancel => TimeInForce::Gtc,
        wire::TimeInForce::ImmediateOrCancel => TimeInForce::Ioc,
        wire::TimeInForce::FillOrKill => TimeInForce::Fok,
        wire::TimeInForce::GoodTillDate => TimeInForce::Gtd,
    }
}

fn stp(instruction: Option<wire::SelfMatchPreventionInstruction>) -> StpMode {
    match instruction {
        None | Some(wire::SelfMatchPreventionInstruction::CancelResting) => StpMode::CancelResting,
        Some(wire::SelfMatchPreventionInstruction::CancelAggressor) => StpMode::CancelAggressor,
        Some(wire::SelfMatchPreventionInstruction::CancelBoth) => StpMode::CancelBoth,
    }
}

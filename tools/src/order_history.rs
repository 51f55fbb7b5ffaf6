//! `order-history`: the lifecycle of one order (by OrderID, or by ClOrdID and the session's
//! account) or all activity of an account in a time range, rebuilt from the journal by
//! re-running the engine (see [`crate::tape`]): every state change, fill (with its fee) and
//! reject reason, with the record that caused it.
//!
//! This file decides which events belong to a query ([`Matcher`]) and answers by a full scan:
//! an order query stops reading at the order's end (filled, cancelled or rejected), so its cost
//! is the journal up to that point. [`crate::order_index`] answers order queries from an index
//! instead, feeding the same `Matcher` only the stretches of the journal the order lives in.

use exchange::config::Config;
use exchange::engine::{AccountId, Event, OrderId, OrderRef};
use exchange::protocol::codec::decode;
use exchange::sequencer::RecordKind;
use serde_json::{json, Value};

use crate::tape::{play, Step, TapeError};

/// What to look up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// One order by its venue OrderID.
    Order(u64),
    /// One order by a ClOrdID its account gave it: on entry, or later by an amend (then the
    /// answer is the order's whole history, as by OrderID). The ClOrdID's first use in the
    /// journal wins (an account may reuse one once it left the engine's retired window).
    ClOrdId { account: u32, cl_ord_id: u64 },
    /// Every event of an account with journal time in `[from_ns, to_ns]`.
    Account {
        account: u32,
        from_ns: u64,
        to_ns: u64,
    },
}

/// Why there is no history to show.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Tape(#[from] TapeError),
    #[error("{what} not found in the journal ({records} records read, to seq {last_seq})")]
    NotFound {
        what: String,
        records: u64,
        last_seq: u64,
    },
}

/// How an event uses an account's ClOrdID, for finding an order by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClOrdIdUse {
    /// A new order was accepted with it.
    Accepted(OrderId),
    /// An amend gave it to a live order (FIX: the order goes by this ClOrdID from then on).
    Amended(OrderId),
    /// A new order carrying it was rejected (it has no OrderID).
    Rejected,
}

/// The (account, ClOrdID) an event gives an order, and how. A ClOrdID query answers with the
/// first such event of its key in the journal.
pub(crate) fn cl_ord_id_use(event: &Event) -> Option<(AccountId, u64, ClOrdIdUse)> {
    match *event {
        Event::Accepted {
            order,
            cl_ord_id,
            account,
            ..
        } => Some((account, cl_ord_id, ClOrdIdUse::Accepted(order))),
        Event::Replaced {
            order,
            cl_ord_id,
            account,
            ..
        } => Some((account, cl_ord_id, ClOrdIdUse::Amended(order))),
        Event::Rejected {
            cl_ord_id, account, ..
        } => Some((account, cl_ord_id, ClOrdIdUse::Rejected)),
        _ => None,
    }
}

/// The orders (by OrderID) whose history `event` belongs to: both sides of a fill, the order
/// of any other order event, and the OrderID a refused cancel or amend named (which may be an
/// order that does not exist).
pub(crate) fn orders_of(event: &Event) -> [Option<OrderId>; 2] {
    match *event {
        Event::Accepted { order, .. }
        | Event::Rested { order, .. }
        | Event::Replaced { order, .. }
        | Event::Canceled { order, .. }
        | Event::CancelRejected {
            order: OrderRef::Id(order),
            ..
        } => [Some(order), None],
        Event::Fill(f) => [Some(f.maker_order), Some(f.taker_order)],
        _ => [None, None],
    }
}

/// True when `event` ends `order`: it was cancelled, or a fill left nothing of it open.
pub(crate) fn ends(event: &Event, order: OrderId) -> bool {
    match *event {
        Event::Canceled { order: o, .. } => o == order,
        Event::Fill(f) => {
            let maker_done = f.maker_order == order && f.maker_open.0 == 0;
            let taker_done = f.taker_order == order && f.taker_open.0 == 0;
            maker_done || taker_done
        }
        _ => false,
    }
}

/// Tracks which events belong to the query. The scan and the order index both feed it every
/// record's events in journal order; the index only chooses where the feeding starts and
/// stops, so both print the same lines.
pub(crate) struct Matcher {
    query: Query,
    order: Option<OrderId>,
    done: bool,
    amended: Option<OrderId>,
}

impl Matcher {
    pub(crate) fn new(query: Query) -> Matcher {
        Matcher {
            query,
            order: None,
            done: false,
            amended: None,
        }
    }

    /// The query's order (or rejected ClOrdID) has ended: no later event belongs to it.
    pub(crate) fn done(&self) -> bool {
        self.done
    }

    /// A ClOrdID query found its ClOrdID first on an amend: the answer is that order's whole
    /// history, by OrderID (nothing was matched before this was set).
    pub(crate) fn amended(&self) -> Option<OrderId> {
        self.amended
    }

    pub(crate) fn matches(&mut self, event: &Event, time_ns: u64) -> bool {
        match self.query {
            Query::Account {
                account,
                from_ns,
                to_ns,
            } => (from_ns..=to_ns).contains(&time_ns) && involves(event, AccountId(account)),
            Query::Order(id) => self.order_event(event, OrderId(id)),
            Query::ClOrdId { account, cl_ord_id } => {
                if let Some(order) = self.order {
                    return self.order_event(event, order);
                }
                let Some((a, c, how)) = cl_ord_id_use(event) else {
                    return false;
                };
                if a != AccountId(account) || c != cl_ord_id {
                    return false;
                }
                match how {
                    ClOrdIdUse::Accepted(order) => self.order = Some(order),
                    ClOrdIdUse::Rejected => self.done = true,
                    ClOrdIdUse::Amended(order) => {
                        self.amended = Some(order);
                        self.done = true;
                        return false;
                    }
                }
                true
            }
        }
    }

    /// True when `event` concerns `order`; notes the order's end.
    fn order_event(&mut self, event: &Event, order: OrderId) -> bool {
        let concerns = orders_of(event).contains(&Some(order));
        self.done |= concerns && ends(event, order);
        concerns
    }
}

/// True when `event` concerns `account`.
fn involves(event: &Event, account: AccountId) -> bool {
    match *event {
        Event::Fill(f) => f.maker_account == account || f.taker_account == account,
        Event::Accepted { account: a, .. }
        | Event::Rejected { account: a, .. }
        | Event::Canceled { account: a, .. }
        | Event::Replaced { account: a, .. }
        | Event::CancelRejected { account: a, .. }
        | Event::MassCancelDone { account: a, .. }
        | Event::BalanceChanged { account: a, .. }
        | Event::AccountUpdated { account: a }
        | Event::AdminRejected { account: a, .. }
        | Event::FundingPayment { account: a, .. }
        | Event::Liquidation { account: a, .. }
        | Event::LiquidationFee { account: a, .. }
        | Event::AutoDeleveraged { account: a, .. }
        | Event::PositionChanged { account: a, .. } => a == account,
        _ => false,
    }
}

/// One line of history: the record and the event, with the reject reason spelled out.
fn line(seq: u64, time_ns: u64, record: &str, source: u32, event: &Event) -> Value {
    let mut v = json!({
        "seq": seq, "time_ns": time_ns, "record": record, "source": source,
        "event": format!("{event:?}"),
    });
    let reason = match *event {
        Event::Rejected { reason, .. }
        | Event::CancelRejected { reason, .. }
        | Event::AdminRejected { reason, .. } => Some(reason),
        Event::MassCancelDone { rejected, .. } => rejected,
        _ => None,
    };
    if let Some(reason) = reason {
        v["reject_code"] = reason.code().into();
        v["reject_reason"] = reason.text().into();
    }
    v
}

impl Matcher {
    /// Matches one record's events, handing a line for each match to `out`; returns how many.
    pub(crate) fn feed(&mut self, step: &Step<'_>, out: &mut impl FnMut(&Value)) -> u64 {
        let h = &step.header;
        let mut name = None;
        let mut lines = 0;
        for event in step.events {
            if self.matches(event, h.time_ns) {
                let record = name.get_or_insert_with(|| record_name(h.kind, step.payload));
                out(&line(h.seq, h.time_ns, record, h.source, event));
                lines += 1;
            }
        }
        lines
    }
}

/// Runs `query` over the whole journal (a full scan, the reference the order index is checked
/// against), handing each history line to `out` in journal order. Returns how many lines
/// there were. An order query stops at the order's end.
///
/// # Errors
/// Nothing matched (an unknown id), and every tape error (damage stops the history).
pub fn order_history(
    config: &Config,
    journal_dir: &std::path::Path,
    query: Query,
    mut out: impl FnMut(&Value),
) -> Result<u64, HistoryError> {
    let mut matcher = Matcher::new(query);
    let mut lines = 0u64;
    let summary = play(config, journal_dir, false, |step, _engine| {
        lines += matcher.feed(step, &mut out);
        let time_ns = step.header.time_ns;
        let past_range = matches!(query, Query::Account { to_ns, .. } if time_ns > to_ns);
        !matcher.done() && !past_range
    })?;
    if let Some(order) = matcher.amended() {
        // Found on an amend: nothing was printed yet; the order's history starts before it.
        return order_history(config, journal_dir, Query::Order(order.0), out);
    }
    if lines == 0 {
        return Err(not_found(query, summary.records, summary.last_seq));
    }
    Ok(lines)
}

/// The error for a query nothing matched, after reading `records` records to `last_seq`.
pub(crate) fn not_found(query: Query, records: u64, last_seq: u64) -> HistoryError {
    let what = match query {
        Query::Order(id) => format!("order id {id}"),
        Query::ClOrdId { account, cl_ord_id } => {
            format!("ClOrdID {cl_ord_id} of account {account}")
        }
        Query::Account {
            account,
            from_ns,
            to_ns,
        } => format!("activity of account {account} between {from_ns} and {to_ns} ns"),
    };
    HistoryError::NotFound {
        what,
        records,
        last_seq,
    }
}

fn record_name(kind: u16, payload: &[u8]) -> String {
    match RecordKind::from_u16(kind) {
        Some(RecordKind::Message) => decode(payload).map_or_else(
            |_| "undecodable message".to_string(),
            |m| m.name().to_string(),
        ),
        Some(kind) => kind.name().to_string(),
        None => format!("kind {kind}"),
    }
}

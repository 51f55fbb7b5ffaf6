//! `order-history`: the lifecycle of one order (by OrderID, or by ClOrdID and the session's
//! account) or all activity of an account in a time range, rebuilt from the journal by
//! re-running the engine (see [`crate::tape`]): every state change, fill (with its fee) and
//! reject reason, with the record that caused it.
//!
//! An order query stops reading at the order's end (filled, cancelled or rejected), so its cost
//! is the journal up to that point.

use exchange::config::Config;
use exchange::engine::{AccountId, Event, OrderId, OrderRef};
use exchange::protocol::codec::decode;
use exchange::sequencer::RecordKind;
use serde_json::{json, Value};

use crate::tape::{play, TapeError};

/// What to look up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// One order by its venue OrderID.
    Order(u64),
    /// One order by the ClOrdID its account gave it.
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

/// Tracks which events belong to the query.
struct Matcher {
    query: Query,
    order: Option<OrderId>,
    done: bool,
}

impl Matcher {
    fn matches(&mut self, event: &Event, time_ns: u64) -> bool {
        match self.query {
            Query::Account {
                account,
                from_ns,
                to_ns,
            } => (from_ns..=to_ns).contains(&time_ns) && involves(event, AccountId(account)),
            Query::Order(id) => self.order_event(event, OrderId(id)),
            Query::ClOrdId { account, cl_ord_id } => {
                let account = AccountId(account);
                match (*event, self.order) {
                    (
                        Event::Accepted {
                            order,
                            cl_ord_id: c,
                            account: a,
                            ..
                        },
                        None,
                    ) if a == account && c == cl_ord_id => {
                        self.order = Some(order);
                        true
                    }
                    (
                        Event::Rejected {
                            cl_ord_id: c,
                            account: a,
                            ..
                        },
                        None,
                    ) if a == account && c == cl_ord_id => {
                        self.done = true;
                        true
                    }
                    (_, Some(order)) => self.order_event(event, order),
                    _ => false,
                }
            }
        }
    }

    /// True when `event` concerns `order`; notes the order's end.
    fn order_event(&mut self, event: &Event, order: OrderId) -> bool {
        match *event {
            Event::Accepted { order: o, .. } | Event::Rested { order: o, .. } => o == order,
            Event::Replaced { order: o, .. } => o == order,
            Event::Canceled { order: o, .. } => {
                self.done |= o == order;
                o == order
            }
            Event::Fill(f) => {
                let maker_done = f.maker_order == order && f.maker_open.0 == 0;
                let taker_done = f.taker_order == order && f.taker_open.0 == 0;
                self.done |= maker_done || taker_done;
                f.maker_order == order || f.taker_order == order
            }
            Event::CancelRejected {
                order: OrderRef::Id(o),
                ..
            } => o == order,
            _ => false,
        }
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

/// Runs `query` over the journal, handing each history line to `out` in journal order.
/// Returns how many lines there were.
///
/// # Errors
/// Nothing matched (an unknown id), and every tape error (damage stops the history).
pub fn order_history(
    config: &Config,
    journal_dir: &std::path::Path,
    query: Query,
    mut out: impl FnMut(&Value),
) -> Result<u64, HistoryError> {
    let mut matcher = Matcher {
        query,
        order: None,
        done: false,
    };
    let mut lines = 0u64;
    let summary = play(config, journal_dir, false, |step, _engine| {
        let h = &step.header;
        let mut name = None;
        for event in step.events {
            if matcher.matches(event, h.time_ns) {
                let record = name.get_or_insert_with(|| record_name(h.kind, step.payload));
                out(&line(h.seq, h.time_ns, record, h.source, event));
                lines += 1;
            }
        }
        let past_range = matches!(query, Query::Account { to_ns, .. } if h.time_ns > to_ns);
        !matcher.done && !past_range
    })?;
    if lines == 0 {
        let what = match query {
            Query::Order(id) => format!("order id {id}"),
            Query::ClOrdId { account, cl_ord_id } => {
                format!("ClOrdID {cl_ord_id} of account {account}")
            }
            Query::Account {
                account,
                from_ns,
                to_ns,
            } => {
                format!("activity of account {account} between {from_ns} and {to_ns} ns")
            }
        };
        let (records, last_seq) = (summary.records, summary.last_seq);
        return Err(HistoryError::NotFound {
            what,
            records,
            last_seq,
        });
    }
    Ok(lines)
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

//! Runs parsed requests over an established [`Client`]: assigns ids, sends, prints what
//! arrives, waits (bounded) for outstanding answers, then terminates.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use exchange::protocol::codec::{TerminationCode, TimeInForce};
use exchange::protocol::Plain;

use super::connection::{now_ns, Client, Received};
use super::error::ClientError;
use super::outstanding::{Awaiting, Outstanding};
use super::quote::{mass_quote, mmp_config, mmp_reset, quote_cancel};
use super::request::{
    cancel_replace_request, cancel_request, collateral_inquiry, collateral_value_update,
    funds_transfer, index_constituents, kill_switch, market_order, mass_cancel_request,
    new_order_single, request_for_positions, security_status_update, Request,
};
use super::script::ScriptLine;

/// How a run behaves.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Bound on waiting for outstanding answers after the last request.
    pub wait: Duration,
    /// Account named in RequestForPositions and CollateralInquiry (the venue answers for
    /// the session's own account).
    pub account: u64,
    /// First automatic ClOrdID/request id; later ones count up, skipping explicit `id=`s.
    pub first_id: u64,
}

impl RunOptions {
    /// Automatic ids start from the time in microseconds, so consecutive runs of a session
    /// do not reuse ClOrdIDs (the venue rejects duplicates).
    pub fn time_based_first_id() -> u64 {
        now_ns() / 1_000
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Requests sent.
    pub sent: usize,
    /// Requests without their terminal answer when the wait ran out.
    pub unanswered: usize,
    /// Code of the server's Terminate, if it sent one.
    pub termination: Option<TerminationCode>,
    /// Whether the server ended the session before the script did.
    pub ended_by_server: bool,
}

/// Hands out request ids.
struct Ids {
    next: u64,
    reserved: HashSet<u64>,
}

impl Ids {
    fn take(&mut self, explicit: Option<u64>) -> u64 {
        if let Some(id) = explicit {
            return id;
        }
        while self.reserved.contains(&self.next) {
            self.next = self.next.wrapping_add(1);
        }
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        id
    }
}

/// Runs `lines` over `client`, calling `on_message` for every message received (heartbeats
/// included), then terminates the session.
///
/// # Errors
/// A transport error, or [`ClientError::Closed`] if the server closed without Terminate.
pub fn run(
    mut client: Client,
    lines: &[ScriptLine],
    options: &RunOptions,
    on_message: &mut dyn FnMut(&Received),
) -> Result<RunSummary, ClientError> {
    let mut ids = Ids {
        next: options.first_id,
        reserved: lines
            .iter()
            .filter_map(|l| l.request.explicit_id())
            .collect(),
    };
    let mut outstanding = Outstanding::default();
    let mut sent = 0;
    let mut pump = |client: &mut Client, outstanding: &mut Outstanding, timeout: Duration| {
        let received = client.recv(timeout)?;
        if let Some(r) = &received {
            outstanding.on_message(&r.message);
            on_message(r);
        }
        Ok::<bool, ClientError>(received.is_some())
    };
    for line in lines {
        if client.server_terminated().is_some() {
            break;
        }
        if let Request::Sleep { ms } = line.request {
            let deadline = Instant::now() + Duration::from_millis(ms);
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                pump(&mut client, &mut outstanding, left)?;
                if client.server_terminated().is_some() {
                    break;
                }
            }
            continue;
        }
        let (seq_no, awaiting) = send(&mut client, &line.request, &mut ids, options)?;
        outstanding.push(seq_no, awaiting);
        sent += 1;
        // Take what has already arrived so replies do not pile up in the socket.
        while pump(&mut client, &mut outstanding, Duration::ZERO)? {}
    }
    let deadline = Instant::now() + options.wait;
    while !outstanding.is_empty() && client.server_terminated().is_none() {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        pump(&mut client, &mut outstanding, left)?;
    }
    let unanswered = outstanding.len();
    if let Some(code) = client.server_terminated() {
        return Ok(RunSummary {
            sent,
            unanswered,
            termination: Some(code),
            ended_by_server: true,
        });
    }
    let terminated = client.terminate()?;
    for r in &terminated.received {
        on_message(r);
    }
    Ok(RunSummary {
        sent,
        unanswered,
        termination: terminated.code,
        ended_by_server: false,
    })
}

/// Sends one request; returns its sequence number and what it waits for.
fn send(
    client: &mut Client,
    request: &Request,
    ids: &mut Ids,
    options: &RunOptions,
) -> Result<(u32, Awaiting), ClientError> {
    let id = ids.take(request.explicit_id());
    let admin = Awaiting::Admin { admin_req_id: id };
    Ok(match request {
        Request::Limit { order, .. } => {
            let immediate = matches!(
                order.tif,
                TimeInForce::ImmediateOrCancel | TimeInForce::FillOrKill
            );
            let seq_no = client.send(&new_order_single(id, order))?;
            (
                seq_no,
                Awaiting::NewOrder {
                    cl_ord_id: id,
                    immediate,
                },
            )
        }
        Request::Market {
            side,
            security_id,
            qty,
            ..
        } => {
            let seq_no = client.send(&market_order(id, *side, *security_id, *qty))?;
            (
                seq_no,
                Awaiting::NewOrder {
                    cl_ord_id: id,
                    immediate: true,
                },
            )
        }
        Request::Cancel { orig, target, .. } => {
            let seq_no = client.send(&cancel_request(id, *orig, *target))?;
            (
                seq_no,
                Awaiting::Cancel {
                    cl_ord_id: id,
                    orig: *orig,
                },
            )
        }
        Request::Amend {
            orig,
            qty,
            price,
            target,
            ..
        } => {
            let seq_no = client.send(&cancel_replace_request(id, *orig, *target, *qty, *price))?;
            (
                seq_no,
                Awaiting::Amend {
                    cl_ord_id: id,
                    orig: *orig,
                },
            )
        }
        Request::MassCancel { security_id } => {
            let seq_no = client.send(&mass_cancel_request(id, *security_id))?;
            (seq_no, Awaiting::MassCancel { cl_ord_id: id })
        }
        Request::Positions => {
            let seq_no = client.send(&request_for_positions(id, options.account))?;
            (
                seq_no,
                Awaiting::Positions {
                    pos_req_id: id,
                    received: 0,
                },
            )
        }
        Request::Collateral => {
            let seq_no = client.send(&collateral_inquiry(id, options.account))?;
            (
                seq_no,
                Awaiting::Collateral {
                    coll_inquiry_id: id,
                },
            )
        }
        Request::Funds {
            account,
            asset,
            amount,
            transfer,
        } => {
            let m = funds_transfer(id, *account, *asset, *amount, *transfer);
            (client.send(&m)?, admin)
        }
        Request::Account(setup) => {
            let mut m = *setup;
            m.admin_req_id = id;
            (client.send(&m)?, admin)
        }
        Request::Index {
            security_id,
            prices,
        } => {
            // The parser admits 1..=16 prices, which is exactly what the message accepts.
            let m = index_constituents(id, *security_id, prices, now_ns())
                .expect("the script parser bounds the constituent count");
            (client.send(&m)?, admin)
        }
        Request::CollateralValue {
            account,
            class,
            value,
            haircut_ppm,
        } => {
            let m = collateral_value_update(id, *account, *class, *value, *haircut_ppm);
            (client.send(&m)?, admin)
        }
        Request::Status {
            security_id,
            status,
        } => (
            client.send(&security_status_update(id, *security_id, *status))?,
            admin,
        ),
        Request::Quote(line) => (
            client.send(&mass_quote(id, line))?,
            Awaiting::Quote { quote_id: id },
        ),
        Request::QuoteCancel { security_id } => (
            client.send(&quote_cancel(id, *security_id))?,
            Awaiting::QuoteCancel { quote_id: id },
        ),
        Request::MmpConfig(line) => (
            client.send(&mmp_config(id, line))?,
            Awaiting::Mmp { mmp_req_id: id },
        ),
        Request::MmpReset { underlying } => (
            client.send(&mmp_reset(id, *underlying))?,
            Awaiting::Mmp { mmp_req_id: id },
        ),
        Request::KillSwitch { target, action } => {
            (client.send(&kill_switch(id, *target, *action))?, admin)
        }
        Request::Sleep { .. } => unreachable!("sleep is handled by the run loop"),
    })
}

/// Whether a message is a reply a user cares about (not a heartbeat).
pub fn is_heartbeat(message: &Plain) -> bool {
    matches!(message, Plain::Sequence(_))
}

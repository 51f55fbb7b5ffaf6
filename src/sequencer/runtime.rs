//! The sequencer's loop: poll the gateway, journal and apply each inbound message, send the
//! replies, fire timers; in `sync` durability, release replies only once their records are
//! durable (group commit: one sync covers the whole batch). Run to completion on one thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::core::Outcome;
use super::record_kind::{RecordKind, FLAG_OPERATOR};
use super::writer::{Sequencer, SequencerError};
use crate::engine::event::VecSink;
use crate::engine::AccountId;
use crate::gateway::{Gateway, SessionIndex};
use crate::marketdata::Publisher;
use crate::protocol::codec::{self as wire, Encode};
use crate::protocol::mapping::reports::{self, ReportIds};
use crate::protocol::mapping::{command_replies, Query, ReplyContext};

/// How the loop waits when there is nothing to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idle {
    /// Poll with a zero timeout: lowest latency, one core at 100%.
    Spin,
    /// Block in epoll until a socket or timer is due: the default on small machines.
    Block,
}

/// Loop settings.
#[derive(Clone, Copy, Debug)]
pub struct RuntimeOptions {
    pub idle: Idle,
    pub pin_core: Option<usize>,
    /// Replies wait for durability (`sync` journal mode).
    pub release_on_durable: bool,
}

/// The running exchange: sequencer plus gateway.
pub struct Runtime {
    sequencer: Sequencer,
    gateway: Gateway,
    options: RuntimeOptions,
    sink: VecSink,
    stop: Arc<AtomicBool>,
    last_timer_check: Instant,
    /// Market data, fed the events of every applied command; flushed with the replies.
    marketdata: Option<Publisher>,
}

/// Longest a blocked poll waits: bounds timer latency (heartbeats, GTD expiry).
const BLOCK_MAX: Duration = Duration::from_millis(5);
/// How often session timers run.
const SESSION_TIMER_EVERY: Duration = Duration::from_millis(1);

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Runtime {
    pub fn new(
        sequencer: Sequencer,
        gateway: Gateway,
        options: RuntimeOptions,
        stop: Arc<AtomicBool>,
    ) -> Runtime {
        Runtime {
            sequencer,
            gateway,
            options,
            sink: VecSink {
                events: Vec::with_capacity(64 * 1024),
            },
            stop,
            last_timer_check: Instant::now(),
            marketdata: None,
        }
    }

    /// Publishes market data from every applied command (see `crate::marketdata`).
    pub fn with_market_data(mut self, publisher: Publisher) -> Runtime {
        self.marketdata = Some(publisher);
        self
    }

    /// Runs until `stop` is set; then terminates every session and returns.
    ///
    /// # Errors
    /// A journal failure or an unappliable record: the exchange must stop.
    pub fn run(&mut self) -> Result<(), SequencerError> {
        if let Some(core) = self.options.pin_core {
            let pinned = core_affinity::set_for_current(core_affinity::CoreId { id: core });
            if !pinned {
                eprintln!("exchange: could not pin the sequencer to core {core}; running unpinned");
            }
        }
        while !self.stop.load(Ordering::Relaxed) {
            self.turn()?;
        }
        self.gateway.shutdown();
        Ok(())
    }

    /// One turn of the loop.
    ///
    /// # Errors
    /// As `run`.
    pub fn turn(&mut self) -> Result<(), SequencerError> {
        let timeout = self.poll_timeout();
        if let Err(e) = self.gateway.poll(timeout, wall_ns()) {
            eprintln!("exchange: poll failed: {e}");
        }
        self.process_batch()?;
        self.process_disconnects()?;
        if self.last_timer_check.elapsed() >= SESSION_TIMER_EVERY {
            self.last_timer_check = Instant::now();
            self.gateway.on_timer(wall_ns());
            self.sink.events.clear();
            if self.sequencer.fire_due_timers(&mut self.sink)? {
                let seq = self.sequencer.last_seq();
                self.send_replies(
                    seq,
                    wall_ns(),
                    AccountId(0),
                    Outcome::Applied { admin: None },
                );
            }
        }
        self.release()?;
        Ok(())
    }

    fn poll_timeout(&self) -> Option<Duration> {
        if self.options.idle == Idle::Spin || self.gateway.has_pending_input() {
            return Some(Duration::ZERO);
        }
        let until_timer = self
            .sequencer
            .engine()
            .next_timer_ns()
            .map(|due| Duration::from_nanos(due.saturating_sub(wall_ns())));
        Some(until_timer.map_or(BLOCK_MAX, |t| t.min(BLOCK_MAX)))
    }

    fn process_batch(&mut self) -> Result<(), SequencerError> {
        for i in 0..self.gateway.batch.items.len() {
            let item = self.gateway.batch.items[i];
            if let Some(query) = query_of(item.template_id) {
                let (request_id, named) = request_of(self.gateway.batch.message(&item));
                // An operator may ask about any account (the insurance funds, a client); any
                // other session only about its own.
                let account = if item.operator {
                    named.unwrap_or(item.account)
                } else {
                    item.account
                };
                self.answer(query, request_id, item.session, account);
                continue;
            }
            let flags = if item.operator { FLAG_OPERATOR } else { 0 };
            self.sink.events.clear();
            let message = self.gateway.batch.message(&item);
            let (header, outcome) = self.sequencer.submit(
                RecordKind::Message,
                item.account.0,
                flags,
                message,
                &mut self.sink,
            )?;
            self.send_replies(header.seq, header.time_ns, item.account, outcome);
        }
        self.gateway.batch.clear();
        Ok(())
    }

    fn process_disconnects(&mut self) -> Result<(), SequencerError> {
        while let Some(session) = self.gateway.next_disconnect() {
            let account = self.gateway.sessions.sessions[session].config.account;
            self.sink.events.clear();
            let kind = RecordKind::CancelOnDisconnect;
            let (header, outcome) =
                self.sequencer
                    .submit(kind, account.0, 0, &[], &mut self.sink)?;
            self.send_replies(header.seq, header.time_ns, account, outcome);
        }
        Ok(())
    }

    /// Turns the events in the sink into replies for the sessions concerned.
    fn send_replies(&mut self, seq: u64, time_ns: u64, requester: AccountId, outcome: Outcome) {
        let mut ctx = ReplyContext::new(seq, time_ns, requester);
        if let Outcome::Applied {
            admin: Some((request_id, template_id)),
        } = outcome
        {
            ctx.admin_req_id = request_id;
            ctx.admin_template_id = template_id;
        }
        if let Some(publisher) = &mut self.marketdata {
            publisher.publish_command(seq, time_ns, &self.sink.events);
        }
        let engine = self.sequencer.engine();
        let gateway = &mut self.gateway;
        command_replies(&self.sink.events, engine, &mut ctx, |account, reply| {
            gateway.send_to_account(account, &reply, time_ns);
        });
    }

    /// In sync mode, waits until everything journaled is durable; then writes the replies.
    fn release(&mut self) -> Result<(), SequencerError> {
        if self.options.release_on_durable {
            let last = self.sequencer.last_seq();
            if self.sequencer.durable_seq() < last {
                self.sequencer.request_sync()?;
                while self.sequencer.durable_seq() < last {
                    std::thread::yield_now();
                }
            }
        }
        self.gateway.flush();
        if let Some(publisher) = &mut self.marketdata {
            publisher.flush(self.sequencer.engine());
        }
        Ok(())
    }

    /// Answers a read-only query from the current state (not journaled: it changes nothing):
    /// a CollateralReport, or one PositionReport per perpetual (flat ones included).
    fn answer(&mut self, query: Query, request_id: u64, session: SessionIndex, account: AccountId) {
        let now = wall_ns();
        let engine = self.sequencer.engine();
        match query {
            Query::Collateral { .. } => {
                let report = reports::collateral_report(engine, account, request_id, now);
                self.gateway.send_to_session(session, &report, now);
            }
            Query::Positions { .. } => {
                let perps = engine.perp_instruments();
                for (n, &instrument) in perps.iter().enumerate() {
                    let ids = ReportIds {
                        report_id: request_id.wrapping_mul(16).wrapping_add(n as u64),
                        request_id: Some(request_id),
                        total: perps.len() as u16,
                    };
                    let position = reports::current_position(engine, account, instrument);
                    let report =
                        reports::position_report(engine, account, instrument, &position, ids, now);
                    self.gateway.send_to_session(session, &report, now);
                }
            }
        }
    }

    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    pub fn sequencer(&self) -> &Sequencer {
        &self.sequencer
    }

    pub fn marketdata(&self) -> Option<&Publisher> {
        self.marketdata.as_ref()
    }
}

fn query_of(template_id: u16) -> Option<Query> {
    let (request_id, account) = (0, AccountId(0));
    match template_id {
        wire::RequestForPositions::TEMPLATE_ID => Some(Query::Positions {
            request_id,
            account,
        }),
        wire::CollateralInquiry::TEMPLATE_ID => Some(Query::Collateral {
            request_id,
            account,
        }),
        _ => None,
    }
}

/// The request id of a query and the account it names.
fn request_of(message: &[u8]) -> (u64, Option<AccountId>) {
    let account = |id: u64| u32::try_from(id).ok().map(AccountId);
    match wire::decode(message) {
        Ok(wire::Inbound::RequestForPositions(v)) => {
            let m = v.to_plain();
            (m.pos_req_id, account(m.account))
        }
        Ok(wire::Inbound::CollateralInquiry(v)) => {
            let m = v.to_plain();
            (m.coll_inquiry_id, account(m.account))
        }
        _ => (0, None),
    }
}

/// The gateway sessions of the configured accounts: name, key, account, rights and
/// cancel-on-disconnect.
pub fn session_configs(config: &crate::config::Config) -> Vec<crate::gateway::SessionConfig> {
    config
        .accounts
        .iter()
        .map(|a| crate::gateway::SessionConfig {
            name: a.session.clone(),
            key: a.key.clone(),
            account: AccountId(a.id),
            operator: a.operator,
            cancel_on_disconnect: a.cancel_on_disconnect,
        })
        .collect()
}

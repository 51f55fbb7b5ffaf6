//! The publishing loop: sends each update when it is due over an established operator session,
//! counts the answers, and ends the session cleanly.
//!
//! 1. Take the next update from the source; stop at `count`, at the source's end, on a stop
//!    request, at the first rejected update (unless `keep_going`), or when the server ends the
//!    session.
//! 2. Until it is due, handle what arrives (acks, rejects, heartbeats), waking at least every
//!    100 ms to notice a stop request. A late update is sent at once; the schedule keeps its
//!    original times, so lateness does not accumulate.
//! 3. While `outstanding_max` updates await answers, wait for answers before sending more.
//! 4. Send it: TransactTime is the current time, moved forward where needed so it strictly
//!    increases per instrument, as the venue requires; every ConstituentTime is the current
//!    time.
//! 5. At the end, wait up to `wait` for outstanding answers, then Terminate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use exchange::protocol::codec::{ConstituentsEntry, GroupVec, IndexConstituents, TerminationCode};
use exchange::protocol::Plain;

use super::error::FeederError;
use super::source::{Update, UpdateSource};
use crate::client::{
    index_constituents_from, now_ns, Awaiting, Client, Outstanding, Received, RequestError,
};

/// Longest wait between checks of the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// How a run behaves.
#[derive(Debug, Clone, Copy)]
pub struct FeedOptions {
    /// Updates to send, then stop; 0 for no limit (until the source ends or a stop request).
    pub count: u64,
    /// Go on sending after a rejected update instead of stopping.
    pub keep_going: bool,
    /// Bound on waiting for outstanding answers at the end.
    pub wait: Duration,
    /// AdminReqID of the first update; later ones count up.
    pub first_admin_req_id: u64,
    /// Most updates awaiting answers at once; beyond it the feeder waits before sending.
    pub outstanding_max: usize,
}

impl Default for FeedOptions {
    /// No limit, stop at a reject, wait 2 s at the end, at most 1024 unanswered updates, and
    /// AdminReqIDs from the time in µs so consecutive runs do not repeat ids.
    fn default() -> Self {
        FeedOptions {
            count: 0,
            keep_going: false,
            wait: Duration::from_secs(2),
            first_admin_req_id: now_ns() / 1_000,
            outstanding_max: 1024,
        }
    }
}

/// What the venue made of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// AdminAck: the index took the constituents.
    Acked,
    /// AdminReject (the engine's reason code) or BusinessMessageReject (e.g. reason 6 for an
    /// admin message on a trading session).
    Rejected,
}

/// What the caller is told as the run goes.
#[derive(Debug)]
pub enum FeedEvent<'a> {
    /// An update went out.
    Sent(&'a IndexConstituents),
    /// A message arrived; `answer` is set when it answered one of the updates.
    Received {
        /// The message.
        received: &'a Received,
        /// How it answered.
        answer: Option<Answer>,
    },
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct FeedSummary {
    /// Updates sent.
    pub sent: u64,
    /// Updates acknowledged.
    pub acked: u64,
    /// Updates rejected.
    pub rejected: u64,
    /// Updates without an answer when the run ended.
    pub unanswered: u64,
    /// Sending stopped at a rejected update.
    pub stopped_on_reject: bool,
    /// Sending stopped on a stop request.
    pub interrupted: bool,
    /// Code of the server's Terminate, if one came.
    pub termination: Option<TerminationCode>,
    /// The server ended the session before the feeder did.
    pub ended_by_server: bool,
    /// What broke the session, if something did.
    pub failure: Option<FeederError>,
}

/// Publishes `source`'s updates over `client` (an established operator session) as the module
/// comment describes, calling `on_event` for every update sent and every message received.
/// Setting `stop` ends sending; outstanding answers are still awaited.
pub fn run(
    client: Client,
    source: &mut dyn UpdateSource,
    options: &FeedOptions,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(FeedEvent<'_>),
) -> FeedSummary {
    let mut feed = Feed {
        client,
        tally: Tally {
            outstanding: Outstanding::default(),
            summary: FeedSummary::default(),
            keep_going: options.keep_going,
        },
        next_admin_req_id: options.first_admin_req_id,
        published_ns: Vec::new(),
        on_event,
    };
    if let Err(failure) = feed.publish(source, options, stop) {
        let mut summary = feed.tally.summary;
        summary.unanswered = feed.tally.outstanding.len() as u64;
        summary.failure = Some(failure);
        return summary;
    }
    feed.finish(options.wait)
}

/// Answers counted so far.
struct Tally {
    outstanding: Outstanding,
    summary: FeedSummary,
    keep_going: bool,
}

impl Tally {
    /// Crosses off the updates `message` answers and counts them.
    fn on_message(&mut self, message: &Plain) -> Option<Answer> {
        let before = self.outstanding.len();
        self.outstanding.on_message(message);
        let answered = (before - self.outstanding.len()) as u64;
        if answered == 0 {
            return None;
        }
        if let Plain::AdminAck(_) = message {
            self.summary.acked += answered;
            return Some(Answer::Acked);
        }
        self.summary.rejected += answered;
        self.summary.stopped_on_reject |= !self.keep_going;
        Some(Answer::Rejected)
    }
}

struct Feed<'a> {
    client: Client,
    tally: Tally,
    next_admin_req_id: u64,
    /// Last TransactTime sent per SecurityID.
    published_ns: Vec<(i32, u64)>,
    on_event: &'a mut dyn FnMut(FeedEvent<'_>),
}

impl Feed<'_> {
    /// Steps 1–4 of the module comment.
    fn publish(
        &mut self,
        source: &mut dyn UpdateSource,
        options: &FeedOptions,
        stop: &AtomicBool,
    ) -> Result<(), FeederError> {
        let start = Instant::now();
        while options.count == 0 || self.tally.summary.sent < options.count {
            if self.must_stop(stop) {
                break;
            }
            let Some(update) = source.next_update() else {
                break;
            };
            let due_at = start.checked_add(update.due).ok_or(FeederError::Schedule {
                due_ms: update.due.as_millis(),
            })?;
            if !self.wait_until(due_at, stop)? || !self.wait_for_room(options, stop)? {
                break;
            }
            self.send(&update)?;
        }
        Ok(())
    }

    /// Whether sending must end: a stop request, a reject without `keep_going`, or the
    /// server's Terminate.
    fn must_stop(&mut self, stop: &AtomicBool) -> bool {
        let summary = &mut self.tally.summary;
        summary.interrupted |= stop.load(Ordering::Relaxed);
        summary.interrupted
            || summary.stopped_on_reject
            || self.client.server_terminated().is_some()
    }

    /// Handles what arrives until `deadline`; false if sending must end.
    fn wait_until(&mut self, deadline: Instant, stop: &AtomicBool) -> Result<bool, FeederError> {
        loop {
            if self.must_stop(stop) {
                return Ok(false);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Due: take what has already arrived, so a reject stops the next send.
                while self.pump(Duration::ZERO)? {}
                return Ok(!self.must_stop(stop));
            }
            self.pump(left.min(STOP_POLL))?;
        }
    }

    /// Step 3: waits while too many updates are unanswered; false if sending must end.
    fn wait_for_room(
        &mut self,
        options: &FeedOptions,
        stop: &AtomicBool,
    ) -> Result<bool, FeederError> {
        while self.tally.outstanding.len() >= options.outstanding_max.max(1) {
            if self.must_stop(stop) {
                return Ok(false);
            }
            self.pump(STOP_POLL)?;
        }
        Ok(true)
    }

    /// Handles one message if it arrives within `timeout`; false if none did.
    fn pump(&mut self, timeout: Duration) -> Result<bool, FeederError> {
        let Some(received) = self.client.recv(timeout)? else {
            return Ok(false);
        };
        let answer = self.tally.on_message(&received.message);
        (self.on_event)(FeedEvent::Received {
            received: &received,
            answer,
        });
        Ok(true)
    }

    /// Step 4.
    fn send(&mut self, update: &Update) -> Result<(), FeederError> {
        let now = now_ns();
        let count_error = || RequestError::ConstituentCount(update.prices.len());
        let mut entries = GroupVec::new();
        for price in &update.prices {
            let entry = ConstituentsEntry {
                constituent_px: price.price_units,
                constituent_time: now,
                constituent_source_id: price.source_id,
            };
            entries.push(entry).map_err(|_| count_error())?;
        }
        let admin_req_id = self.next_admin_req_id;
        let published = self.publication_time(update.security_id, now);
        let message =
            index_constituents_from(admin_req_id, update.security_id, entries, published)?;
        let seq_no = self.client.send(&message)?;
        self.next_admin_req_id = admin_req_id.wrapping_add(1);
        self.tally
            .outstanding
            .push(seq_no, Awaiting::Admin { admin_req_id });
        self.tally.summary.sent += 1;
        (self.on_event)(FeedEvent::Sent(&message));
        Ok(())
    }

    /// `now`, or one ns after the instrument's previous TransactTime if the clock has not
    /// moved past it (two updates within a clock tick, or a clock stepped back).
    fn publication_time(&mut self, security_id: i32, now: u64) -> u64 {
        match self
            .published_ns
            .iter_mut()
            .find(|(id, _)| *id == security_id)
        {
            Some((_, last)) => {
                *last = now.max(last.saturating_add(1));
                *last
            }
            None => {
                self.published_ns.push((security_id, now));
                now
            }
        }
    }

    /// Step 5.
    fn finish(mut self, wait: Duration) -> FeedSummary {
        let deadline = Instant::now() + wait;
        while !self.tally.outstanding.is_empty() && self.client.server_terminated().is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Err(failure) = self.pump(left) {
                self.tally.summary.failure = Some(failure);
                break;
            }
        }
        let Feed {
            client,
            mut tally,
            on_event,
            ..
        } = self;
        if let Some(code) = client.server_terminated() {
            tally.summary.termination = Some(code);
            tally.summary.ended_by_server = true;
        } else if tally.summary.failure.is_none() {
            match client.terminate() {
                Ok(terminated) => {
                    for received in &terminated.received {
                        let answer = tally.on_message(&received.message);
                        on_event(FeedEvent::Received { received, answer });
                    }
                    tally.summary.termination = terminated.code;
                }
                Err(e) => tally.summary.failure = Some(e.into()),
            }
        }
        tally.summary.unanswered = tally.outstanding.len() as u64;
        tally.summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange::protocol::codec::{AdminAck, AdminReject, BusinessMessageReject};

    fn tally(keep_going: bool) -> Tally {
        let mut outstanding = Outstanding::default();
        outstanding.push(1, Awaiting::Admin { admin_req_id: 10 });
        outstanding.push(2, Awaiting::Admin { admin_req_id: 11 });
        outstanding.push(3, Awaiting::Admin { admin_req_id: 12 });
        Tally {
            outstanding,
            summary: FeedSummary::default(),
            keep_going,
        }
    }

    #[test]
    fn acks_and_rejects_of_our_updates_are_counted() {
        let mut t = tally(true);
        let ack = |id| {
            Plain::AdminAck(AdminAck {
                admin_req_id: id,
                ..Default::default()
            })
        };
        assert_eq!(t.on_message(&ack(10)), Some(Answer::Acked));
        assert_eq!(t.on_message(&ack(10)), None, "answered once");
        assert_eq!(t.on_message(&ack(99)), None, "not ours");
        let reject = Plain::AdminReject(AdminReject {
            admin_req_id: 11,
            ..Default::default()
        });
        assert_eq!(t.on_message(&reject), Some(Answer::Rejected));
        let business = Plain::BusinessMessageReject(BusinessMessageReject {
            ref_seq_num: 3,
            ..Default::default()
        });
        assert_eq!(t.on_message(&business), Some(Answer::Rejected));
        assert_eq!((t.summary.acked, t.summary.rejected), (1, 2));
        assert!(t.outstanding.is_empty());
        assert!(!t.summary.stopped_on_reject, "keep going");
    }

    #[test]
    fn a_reject_stops_sending_unless_told_to_keep_going() {
        let mut t = tally(false);
        let reject = Plain::AdminReject(AdminReject {
            admin_req_id: 12,
            ..Default::default()
        });
        t.on_message(&reject);
        assert!(t.summary.stopped_on_reject);
    }
}

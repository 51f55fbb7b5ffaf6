//! Quote stuffing: per account and UTC day, the busiest calendar second (messages the account's
//! sessions sent) and the order-to-trade ratio (messages per fill). At most one alert per
//! account and day, raised when the day ends (or the journal does) if either measure is over
//! its threshold; the evidence carries both.

use std::collections::BTreeMap;

use exchange::engine::Event;
use exchange::sequencer::{RecordKind, FLAG_OPERATOR};

use super::alert::{Alert, AlertKind};
use super::detector::{Context, Detector};
use crate::tape::Step;

/// Nanoseconds per second and per day.
const NS_PER_SEC: u64 = 1_000_000_000;
pub(super) const NS_PER_DAY: u64 = 86_400 * NS_PER_SEC;

/// One account's counts for the current day.
#[derive(Clone, Copy, Debug, Default)]
struct Day {
    messages: u64,
    fills: u64,
    second: u64,
    in_second: u64,
    peak_per_sec: u64,
    peak_second: u64,
    peak_seq: u64,
    last_seq: u64,
    last_ns: u64,
}

/// The quote-stuffing detector.
#[derive(Debug, Default)]
pub struct QuoteStuffing {
    day: u64,
    accounts: BTreeMap<u32, Day>,
}

impl Detector for QuoteStuffing {
    fn observe(&mut self, step: &Step<'_>, context: &Context, alerts: &mut Vec<Alert>) {
        let header = &step.header;
        let day = header.time_ns / NS_PER_DAY;
        if day != self.day {
            self.finish(context, alerts);
            self.day = day;
        }
        let client = header.kind == RecordKind::Message as u16 && header.flags & FLAG_OPERATOR == 0;
        if client {
            let counts = self.accounts.entry(header.source).or_default();
            let second = header.time_ns / NS_PER_SEC;
            if second != counts.second || counts.in_second == 0 {
                counts.second = second;
                counts.in_second = 0;
            }
            counts.in_second += 1;
            counts.messages += 1;
            counts.last_seq = header.seq;
            counts.last_ns = header.time_ns;
            if counts.in_second > counts.peak_per_sec {
                counts.peak_per_sec = counts.in_second;
                counts.peak_second = second;
                counts.peak_seq = header.seq;
            }
        }
        for event in step.events {
            if let Event::Fill(fill) = event {
                for account in [fill.taker_account.0, fill.maker_account.0] {
                    self.accounts.entry(account).or_default().fills += 1;
                }
            }
        }
    }

    fn finish(&mut self, context: &Context, alerts: &mut Vec<Alert>) {
        let limits = &context.thresholds;
        for (&account, counts) in &self.accounts {
            let ratio = counts.messages / counts.fills.max(1);
            let rate_over = counts.peak_per_sec > limits.stuffing_max_msgs_per_sec;
            let ratio_over = counts.messages >= limits.stuffing_min_msgs_for_ratio
                && ratio > limits.stuffing_max_order_to_trade;
            if !rate_over && !ratio_over {
                continue;
            }
            let (seq, time_ns) = if rate_over {
                (counts.peak_seq, counts.peak_second * NS_PER_SEC)
            } else {
                (counts.last_seq, counts.last_ns)
            };
            let alert = Alert::new(AlertKind::QuoteStuffing, account, seq, time_ns)
                .with("day", self.day)
                .with("peak_msgs_per_sec", counts.peak_per_sec)
                .with("peak_second_ns", counts.peak_second * NS_PER_SEC)
                .with("messages", counts.messages)
                .with("fills", counts.fills)
                .with("order_to_trade", ratio)
                .with("rate_over", rate_over)
                .with("ratio_over", ratio_over);
            alerts.push(alert);
        }
        self.accounts.clear();
    }
}

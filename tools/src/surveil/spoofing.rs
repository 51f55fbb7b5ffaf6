//! Spoofing and layering: large orders cancelled shortly before the same account's fill on the
//! opposite side of the same instrument. Both kinds are one detector because they are one
//! piece of evidence classified two ways: when the cancelled large orders sat at
//! `layering_min_levels` or more distinct prices the alert is `layering`, otherwise
//! `spoofing` — never both for the same fill.
//!
//! Algorithm, per record:
//! 1. An accepted resting order (not IOC/FOK/market) of at least `spoof_min_qty_lots` is
//!    remembered as large; a replace updates it, a fill that empties it forgets it.
//! 2. A requested cancel of a large order moves it to its account's recent cancels.
//! 3. A fill of account A on side S looks at A's recent cancels on the other side of the
//!    same instrument no older than `spoof_window_ns`; if there are any, it raises one alert
//!    and consumes them (one cancel is evidence for one alert only).

use std::collections::{BTreeSet, VecDeque};

use rustc_hash::FxHashMap as HashMap;

use exchange::engine::{CancelReason, Event, InstrumentId, OrderId, Side, TimeInForce};

use super::alert::{Alert, AlertKind};
use super::detector::{Context, Detector};
use crate::tape::Step;

/// Most recent large cancels remembered per account (the oldest is dropped beyond).
const RECENT_MAX: usize = 64;

/// A large resting order.
#[derive(Clone, Copy, Debug)]
struct Large {
    account: u32,
    instrument: InstrumentId,
    side: Side,
    price: i64,
    qty_lots: i64,
}

/// A large order cancelled at `canceled_ns`.
#[derive(Clone, Copy, Debug)]
struct Canceled {
    order: OrderId,
    large: Large,
    canceled_ns: u64,
    seq: u64,
}

/// The spoofing/layering detector.
#[derive(Debug, Default)]
pub struct Spoofing {
    large: HashMap<OrderId, Large>,
    recent: HashMap<u32, VecDeque<Canceled>>,
}

impl Detector for Spoofing {
    fn observe(&mut self, step: &Step<'_>, context: &Context, alerts: &mut Vec<Alert>) {
        let min_lots = context.thresholds.spoof_min_qty_lots;
        for event in step.events {
            match *event {
                Event::Accepted {
                    order,
                    account,
                    instrument,
                    side,
                    tif,
                    market,
                    price,
                    qty,
                    ..
                } if qty.0 >= min_lots && !market && resting_tif(tif) => {
                    let large = Large {
                        account: account.0,
                        instrument,
                        side,
                        price: price.0,
                        qty_lots: qty.0,
                    };
                    self.large.insert(order, large);
                }
                Event::Replaced {
                    order, price, open, ..
                } => {
                    if let Some(large) = self.large.get_mut(&order) {
                        large.price = price.0;
                        large.qty_lots = open.0;
                    }
                }
                Event::Canceled { order, reason, .. } => {
                    let Some(large) = self.large.remove(&order) else {
                        continue;
                    };
                    if reason == CancelReason::Requested {
                        let (seq, canceled_ns) = (step.header.seq, step.header.time_ns);
                        let recent = self.recent.entry(large.account).or_default();
                        if recent.len() == RECENT_MAX {
                            recent.pop_front();
                        }
                        let cancel = Canceled {
                            order,
                            large,
                            canceled_ns,
                            seq,
                        };
                        recent.push_back(cancel);
                    }
                }
                Event::Fill(fill) => {
                    if fill.maker_open.0 == 0 {
                        self.large.remove(&fill.maker_order);
                    }
                    let maker_side = fill.taker_side.opposite();
                    let sides = [
                        (fill.taker_account.0, fill.taker_side),
                        (fill.maker_account.0, maker_side),
                    ];
                    for (account, side) in sides {
                        let found = self.take_recent(account, fill.instrument, side, step, context);
                        if let Some(alert) = found.map(|c| alert(&c, &fill, side, step, context)) {
                            alerts.push(alert);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn finish(&mut self, _context: &Context, _alerts: &mut Vec<Alert>) {}
}

impl Spoofing {
    /// Removes and returns `account`'s large cancels on the side opposite `fill_side` of
    /// `instrument` within the window before this step (oldest first); None if there are none.
    fn take_recent(
        &mut self,
        account: u32,
        instrument: InstrumentId,
        fill_side: Side,
        step: &Step<'_>,
        context: &Context,
    ) -> Option<Vec<Canceled>> {
        let recent = self.recent.get_mut(&account)?;
        let now = step.header.time_ns;
        let window = context.thresholds.spoof_window_ns;
        recent.retain(|c| now.saturating_sub(c.canceled_ns) <= window);
        let wanted =
            |c: &Canceled| c.large.instrument == instrument && c.large.side == fill_side.opposite();
        if !recent.iter().any(wanted) {
            return None;
        }
        let (taken, kept): (Vec<Canceled>, Vec<Canceled>) = recent.drain(..).partition(wanted);
        recent.extend(kept);
        Some(taken)
    }
}

fn resting_tif(tif: TimeInForce) -> bool {
    !matches!(tif, TimeInForce::Ioc | TimeInForce::Fok)
}

fn alert(
    canceled: &[Canceled],
    fill: &exchange::engine::event::Fill,
    fill_side: Side,
    step: &Step<'_>,
    context: &Context,
) -> Alert {
    let levels: BTreeSet<i64> = canceled.iter().map(|c| c.large.price).collect();
    let kind = if levels.len() >= context.thresholds.layering_min_levels {
        AlertKind::Layering
    } else {
        AlertKind::Spoofing
    };
    let account = canceled[0].large.account;
    let first_cancel_ns = canceled.iter().map(|c| c.canceled_ns).min().unwrap_or(0);
    let mut alert = Alert::new(kind, account, step.header.seq, step.header.time_ns)
        .with("trade_id", fill.trade_id)
        .with("fill_side", side_name(fill_side))
        .with("fill_qty_lots", fill.qty.0)
        .with(
            "canceled_orders",
            canceled.iter().map(|c| c.order.0).collect::<Vec<_>>(),
        )
        .with(
            "canceled_seqs",
            canceled.iter().map(|c| c.seq).collect::<Vec<_>>(),
        )
        .with(
            "canceled_qty_lots",
            canceled.iter().map(|c| c.large.qty_lots).sum::<i64>(),
        )
        .with("price_levels", levels.len())
        .with(
            "ns_from_first_cancel_to_fill",
            step.header.time_ns - first_cancel_ns,
        );
    alert.security_id = Some(context.security_id(fill.instrument));
    alert
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

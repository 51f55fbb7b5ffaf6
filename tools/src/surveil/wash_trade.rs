//! Wash trades: a trade whose two sides belong to one owner group (as declared, over the
//! journal's whole history; see [`super::ownership`]). Self-trade prevention stops these in
//! the engine, so one that happens means an account was moved out of its group first. Trades
//! that involve an affiliate market maker are the [`super::affiliate_house`] detector's.

use exchange::engine::Event;

use super::alert::{Alert, AlertKind};
use super::detector::{Context, Detector};
use crate::tape::Step;

/// One alert per trade between related accounts, neither an affiliate market maker.
#[derive(Debug, Default)]
pub struct WashTrade;

impl Detector for WashTrade {
    fn observe(&mut self, step: &Step<'_>, context: &Context, alerts: &mut Vec<Alert>) {
        for event in step.events {
            let Event::Fill(fill) = event else { continue };
            let (taker, maker) = (fill.taker_account.0, fill.maker_account.0);
            let ownership = &context.ownership;
            if ownership.is_affiliate(taker) || ownership.is_affiliate(maker) {
                continue;
            }
            if !ownership.related(taker, maker) {
                continue;
            }
            let mut alert = Alert::new(
                AlertKind::WashTrade,
                taker,
                step.header.seq,
                step.header.time_ns,
            )
            .with("trade_id", fill.trade_id)
            .with("price_ticks", fill.price.0)
            .with("qty_lots", fill.qty.0)
            .with("taker_order_id", fill.taker_order.0)
            .with("maker_order_id", fill.maker_order.0)
            .with("shared_groups", shared(context, taker, maker));
            alert.counterparty = Some(maker);
            alert.security_id = Some(context.security_id(fill.instrument));
            alerts.push(alert);
        }
    }

    fn finish(&mut self, _context: &Context, _alerts: &mut Vec<Alert>) {}
}

/// The owner groups both accounts were declared in.
pub(super) fn shared(context: &Context, a: u32, b: u32) -> Vec<u32> {
    let theirs = context.ownership.groups(b);
    context
        .ownership
        .groups(a)
        .iter()
        .copied()
        .filter(|g| theirs.contains(g))
        .collect()
}

//! Affiliate market maker against house or related accounts: a trade between an affiliate
//! market maker and any account that shares (or shared) one of its owner groups — the
//! platform's house accounts are declared in the affiliate's group. Self-trade prevention
//! stops these in the engine; one that happens means an account left the group first.

use exchange::engine::Event;

use super::alert::{Alert, AlertKind};
use super::detector::{Context, Detector};
use super::wash_trade::shared;
use crate::tape::Step;

/// One alert per trade of an affiliate market maker with a related account. The alert's
/// account is the affiliate (the taker when both are affiliates).
#[derive(Debug, Default)]
pub struct AffiliateHouse;

impl Detector for AffiliateHouse {
    fn observe(&mut self, step: &Step<'_>, context: &Context, alerts: &mut Vec<Alert>) {
        for event in step.events {
            let Event::Fill(fill) = event else { continue };
            let (taker, maker) = (fill.taker_account.0, fill.maker_account.0);
            let ownership = &context.ownership;
            let (affiliate, other) = if ownership.is_affiliate(taker) {
                (taker, maker)
            } else if ownership.is_affiliate(maker) {
                (maker, taker)
            } else {
                continue;
            };
            if !ownership.related(affiliate, other) {
                continue;
            }
            let (seq, time_ns) = (step.header.seq, step.header.time_ns);
            let mut alert = Alert::new(AlertKind::AffiliateHouseTrade, affiliate, seq, time_ns)
                .with("trade_id", fill.trade_id)
                .with("price_ticks", fill.price.0)
                .with("qty_lots", fill.qty.0)
                .with("affiliate_was_taker", affiliate == taker)
                .with("shared_groups", shared(context, affiliate, other));
            alert.counterparty = Some(other);
            alert.security_id = Some(context.security_id(fill.instrument));
            alerts.push(alert);
        }
    }

    fn finish(&mut self, _context: &Context, _alerts: &mut Vec<Alert>) {}
}

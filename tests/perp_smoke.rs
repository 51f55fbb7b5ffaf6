//! A first end-to-end pass over the perpetual engine: index, trade, positions, gating.

mod common;

use common::*;
use exchange::engine::{Asset, Event, RejectReason, Side};

#[test]
fn perp_trade_opens_opposite_positions_and_retail_is_refused() {
    let mut h = Harness::new();
    let events = h.publish_index(BTC_PERP, [100_000, 100_010, 99_990]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::IndexPrice { valid: true, .. })),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::MarkPrice { .. })),
        "{events:?}"
    );
    let rejected_retail = h.place(perp_limit(RETAIL1, Side::Buy, REF, 100, 1));
    assert_eq!(
        rejected(&rejected_retail),
        Some(RejectReason::NotProfessionalInvestor)
    );
    let usd_before = h.engine.total_holdings(Asset::Usd);
    let sell = h.place(perp_limit(MM2, Side::Sell, REF, 100_000, 2));
    assert_eq!(rejected(&sell), None, "{sell:?}");
    let buy = h.place(perp_limit(MM1, Side::Buy, REF, 100_000, 3));
    assert_eq!(fills(&buy).len(), 1, "{buy:?}");
    let perp = h.engine.perp(BTC_PERP).unwrap();
    assert_eq!(perp.position(MM1.0).qty, 100_000);
    assert_eq!(perp.position(MM2.0).qty, -100_000);
    assert_eq!(perp.open_interest.0, 100_000);
    assert_eq!(h.engine.total_holdings(Asset::Usd), usd_before);
    let summary = h.engine.margin_summary(MM1).unwrap();
    // 1 BTC at ~100 000: IM 2% = ~2 000 USD.
    assert!(
        summary.initial_margin.0 > 1_900 * 100_000_000,
        "{summary:?}"
    );
    assert!(
        summary.initial_margin.0 < 2_100 * 100_000_000,
        "{summary:?}"
    );
}

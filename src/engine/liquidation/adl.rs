//! Auto-deleveraging ranking (BitMEX-style): opposite positions in profit first, by
//!
//! ```text
//! score = profit ratio × effective leverage        (unrealised PnL ≥ 0)
//!       = profit ratio ÷ effective leverage        (unrealised PnL < 0)
//! profit ratio       = unrealised PnL / |entry cost|
//! effective leverage = |position notional at mark| / account equity (equity ≤ 0 counts as 1 unit)
//! ```
//!
//! highest score first, ties by account id. Scores are fixed point (ratio × 1e6, then × or ÷
//! leverage), truncated. Ranking visits the instrument's holders once (it runs only when the
//! insurance fund cannot take a position, which is rare) and sorts in a buffer sized at
//! start-up.

use crate::engine::state::Engine;
use crate::engine::types::{AccountId, InstrumentId, PPM};

/// Fills `out` with (−score, account) of the positions opposite to `qty`, best first.
pub(crate) fn rank_opposite(
    engine: &Engine,
    instrument: InstrumentId,
    liquidated: AccountId,
    qty: i64,
    out: &mut Vec<(i128, u32)>,
) {
    out.clear();
    let inst = engine.instrument(instrument).expect("instrument");
    let perp = inst.perp.as_ref().expect("perp");
    let npt = inst.notional_per_tick_lot;
    for &holder in &perp.holders {
        let position = perp.position(holder);
        let opposite = position.qty.signum() == -qty.signum();
        if !opposite || holder == liquidated.0 || engine.is_insurance_fund(AccountId(holder)) {
            continue;
        }
        let upnl = position.unrealised(perp.mark.price, npt).0 as i128;
        let cost = (position.cost.0 as i128).abs().max(1);
        let notional = position.notional_at(perp.mark.price, npt).0 as i128;
        let equity = engine
            .maintenance_view(AccountId(holder))
            .map_or(1, |s| (s.equity.0 as i128).max(1));
        let ratio = upnl * PPM as i128 / cost;
        let score = if upnl >= 0 {
            ratio * notional / equity
        } else {
            ratio * equity / notional.max(1)
        };
        out.push((-score, holder));
    }
    out.sort_unstable();
}

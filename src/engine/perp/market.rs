//! The live state of one perpetual: index, mark, funding, breaker, positions and caps.

use super::breaker::Breaker;
use super::funding::{funding_rate_ppm, FundingState};
use super::index::{IndexRules, IndexState};
use super::mark::MarkState;
use super::position::{Position, NOT_HELD};
use super::spec::PerpSpec;
use crate::engine::types::{PriceTicks, QtyLots};

/// What the mark was last computed from; a recomputation happens only when one changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MarkSeen {
    pub bid: Option<PriceTicks>,
    pub ask: Option<PriceTicks>,
    pub last_trade: PriceTicks,
    pub index: PriceTicks,
    pub funding_rate_ppm: i64,
}

/// One perpetual market.
///
/// Invariants: `holders` lists exactly the accounts whose position is non-zero, each position
/// knowing its place; `open_interest` is the sum of the long positions (= of the shorts).
#[derive(Clone, Debug)]
pub struct PerpMarket {
    pub spec: PerpSpec,
    pub index: IndexState,
    pub mark: MarkState,
    pub funding: FundingState,
    pub breaker: Breaker,
    /// By account id; grows with the account table.
    pub positions: Vec<Position>,
    /// Accounts with a non-zero position, in the order they opened it.
    pub holders: Vec<u32>,
    pub open_interest: QtyLots,
    /// Price of the last trade (0 before the first).
    pub last_trade: PriceTicks,
    /// `None` until the mark was first computed, or when a recomputation is due regardless.
    pub seen: Option<MarkSeen>,
    /// The index was valid when last looked at (to report it turning stale once).
    pub index_was_valid: bool,
}

impl PerpMarket {
    pub fn new(spec: PerpSpec, max_accounts: u32) -> PerpMarket {
        PerpMarket {
            spec,
            index: IndexState::with_capacity(),
            mark: MarkState::default(),
            funding: FundingState::default(),
            breaker: Breaker::with_capacity(),
            positions: Vec::with_capacity(max_accounts as usize),
            holders: Vec::with_capacity(max_accounts as usize),
            open_interest: QtyLots::ZERO,
            last_trade: PriceTicks(0),
            seen: None,
            index_was_valid: false,
        }
    }

    /// The funding rate of the interval's samples so far (see `funding`).
    pub fn funding_rate_so_far_ppm(&self) -> i64 {
        funding_rate_ppm(
            self.funding.average_premium_ppm(),
            self.spec.interest_ppm.0,
            self.spec.funding_clamp_ppm.0,
            self.spec.funding_cap_ppm.0,
        )
    }

    pub fn index_rules(&self, tick_units: i64) -> IndexRules {
        IndexRules {
            max_age_ns: self.spec.index_max_age_ns,
            outlier_ppm: self.spec.index_outlier_ppm.0,
            min_sources: self.spec.index_min_sources,
            tick_units,
        }
    }

    /// Grows the position table to hold `account`.
    pub fn ensure_account(&mut self, account: u32) {
        while self.positions.len() <= account as usize {
            self.positions.push(Position::default());
        }
    }

    #[inline]
    pub fn position(&self, account: u32) -> &Position {
        &self.positions[account as usize]
    }

    /// Applies a trade of `lots` (buy positive) to `account`'s position and keeps the holder
    /// list and open interest; returns the realised PnL.
    pub fn trade(&mut self, account: u32, lots: i64, price: PriceTicks, per_tick_lot: i64) -> i64 {
        let position = &mut self.positions[account as usize];
        let before = position.qty;
        let realised = position.trade(lots, price, per_tick_lot);
        let after = position.qty;
        self.open_interest.0 += after.max(0) - before.max(0);
        if before == 0 && after != 0 {
            position.holder_index = self.holders.len() as u32;
            self.holders.push(account);
        } else if before != 0 && after == 0 {
            let at = position.holder_index as usize;
            position.holder_index = NOT_HELD;
            self.holders.swap_remove(at);
            if let Some(&moved) = self.holders.get(at) {
                self.positions[moved as usize].holder_index = at as u32;
            }
        }
        realised.0
    }
}

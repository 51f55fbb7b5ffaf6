//! The scenario: clean market making and retail flow on BTC-USD, with seeded abusive patterns
//! among it. Every pattern is built so that it produces exactly one alert of its kind, and the
//! manifest lists each one (kind, account, counterparty).
//!
//! Clean flow, every 100 ms tick: MM1, AFF1 (and MM2 for the first 30 % of the session) replace
//! a 0.05 BTC bid and ask 5 USD around a seeded random-walk mid, in a seeded order; every
//! tenth tick RETAIL1 takes 0.01 BTC with an IOC order.
//!
//! Seeded patterns (accounts created by the operator at the start):
//! - `wash_trade`: 20 buys from 21; both were declared in owner group 50, then 21 was moved to
//!   no group (which lets the trade pass self-trade prevention);
//! - `affiliate_house_trade`: house account 8 (created in the affiliate's group 100, like the
//!   configured house accounts ADMIN and the insurance funds, then moved out) buys from AFF1;
//! - `spoofing`: 22 bids 2 BTC below the touch, cancels, then sells 0.01 BTC;
//! - `layering`: 23 bids 1.5 BTC at four prices, cancels all, then sells 0.01 BTC;
//! - `quote_stuffing`: 24 sends 1,500 order/cancel pairs within one second;
//! - `mm_obligation_breach`: MM2 stops quoting after 30 % of the session.

use std::path::Path;

use exchange::config::Config;
use exchange::protocol::codec::Asset;
use serde_json::json;

use super::journal::{ScenarioError, SyntheticJournal};
use super::messages::{account_setup, cancel, deposit, limit};
use crate::order_stream::SplitMix64;

/// 2026-01-05T09:00:00Z, the session's start (a fixed date keeps journals reproducible).
pub const START_NS: u64 = 1_767_603_600_000_000_000;
const TICK_NS: u64 = 100_000_000;
const MS: u64 = 1_000_000;
/// The demo accounts (default configuration).
const MM1: u32 = 1;
const MM2: u32 = 2;
const AFF1: u32 = 3;
const RETAIL1: u32 = 4;
const ADMIN: u32 = 5;
/// Accounts the scenario creates.
const HOUSE: u32 = 8;
const WASH_A: u32 = 20;
const WASH_B: u32 = 21;
const SPOOFER: u32 = 22;
const LAYERER: u32 = 23;
const STUFFER: u32 = 24;
/// Quote size and half spread of the market makers.
const QUOTE_LOTS: i64 = 5_000;
const HALF_SPREAD_USD: i64 = 5;
const TAKE_LOTS: i64 = 1_000;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct ScenarioOptions {
    pub seed: u64,
    /// Length of the session in 100 ms ticks.
    pub ticks: u64,
}

/// One seeded pattern, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seeded {
    pub kind: &'static str,
    pub account: u32,
    pub counterparty: Option<u32>,
    pub time_ns: u64,
}

/// What was generated.
#[derive(Clone, Debug)]
pub struct ScenarioReport {
    pub last_seq: u64,
    pub seeded: Vec<Seeded>,
}

impl ScenarioReport {
    /// The manifest (JSON).
    #[must_use]
    pub fn manifest(&self, options: &ScenarioOptions) -> serde_json::Value {
        let seeded: Vec<_> = self
            .seeded
            .iter()
            .map(|s| {
                json!({"kind": s.kind, "account": s.account, "counterparty": s.counterparty,
                       "security_id": super::messages::SECURITY_ID, "time_ns": s.time_ns})
            })
            .collect();
        json!({"seed": options.seed, "ticks": options.ticks, "records": self.last_seq,
               "seeded": seeded})
    }
}

/// The generator's state.
struct Gen {
    journal: SyntheticJournal,
    rng: SplitMix64,
    mid_usd: i64,
    next_cl: [u64; 32],
    quotes: [[Option<u64>; 2]; 32],
    admin_req: u64,
    seeded: Vec<Seeded>,
}

/// Writes the scenario journal into `dir` and returns what it seeded.
///
/// # Errors
/// The directory already holds a journal; I/O; the configuration.
pub fn generate(
    dir: &Path,
    config: &Config,
    options: &ScenarioOptions,
) -> Result<ScenarioReport, ScenarioError> {
    let journal = SyntheticJournal::create(dir, config, START_NS)?;
    let mut g = Gen {
        journal,
        rng: SplitMix64::new(options.seed),
        mid_usd: 100_000,
        next_cl: [1; 32],
        quotes: [[None; 2]; 32],
        admin_req: 1_000,
        seeded: Vec::new(),
    };
    g.setup_accounts(START_NS + MS)?;
    let ticks = options.ticks.max(100);
    // One pattern per slot; the slots split the session so patterns never overlap in time.
    let mut patterns: Vec<u8> = vec![0, 1, 2, 3, 4];
    for extra in [0u8, 1, 2, 3] {
        if g.rng.below(2) == 1 {
            patterns.push(extra);
        }
    }
    let slot_ticks = ticks / (patterns.len() as u64 + 1);
    let mm2_stop = ticks * 3 / 10;
    let mut order = [MM1, MM2, AFF1];
    for tick in 0..ticks {
        let now = START_NS + (tick + 1) * TICK_NS;
        g.walk();
        for i in (1..order.len()).rev() {
            let j = g.rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        for mm in order {
            if mm == MM2 && tick >= mm2_stop {
                g.pull_quotes(now, mm)?;
            } else {
                g.requote(now, mm)?;
            }
        }
        if tick % 10 == 5 {
            let buy = g.rng.below(2) == 0;
            let price = if buy { g.mid_usd + 20 } else { g.mid_usd - 20 };
            let order = limit_of(&mut g, RETAIL1, buy, price, TAKE_LOTS, true);
            g.send(now, RETAIL1, &order)?;
        }
        if slot_ticks > 0 && tick % slot_ticks == slot_ticks / 2 {
            let slot = (tick / slot_ticks) as usize;
            if let Some(&pattern) = patterns.get(slot) {
                g.pattern(pattern, now + 10 * MS)?;
            }
        }
    }
    g.seeded.push(Seeded {
        kind: "mm_obligation_breach",
        account: MM2,
        counterparty: None,
        time_ns: START_NS + ticks * TICK_NS,
    });
    let last_seq = g.journal.finish(START_NS + (ticks + 1) * TICK_NS)?;
    let mut seeded = g.seeded;
    seeded.sort();
    Ok(ScenarioReport { last_seq, seeded })
}

/// A new order of `account` with its next ClOrdID (a free function: it borrows `g` whole).
fn limit_of(g: &mut Gen, account: u32, buy: bool, price: i64, lots: i64, ioc: bool) -> Vec<u8> {
    let cl = g.cl(account);
    limit(cl, buy, price, lots, ioc)
}

impl Gen {
    fn cl(&mut self, account: u32) -> u64 {
        let slot = &mut self.next_cl[account as usize];
        let cl = *slot;
        *slot += 1;
        cl
    }

    fn send(&mut self, now: u64, account: u32, payload: &[u8]) -> Result<(), ScenarioError> {
        self.journal.message(now, account, false, payload)?;
        Ok(())
    }

    fn admin(&mut self, now: u64, payload: &[u8]) -> Result<(), ScenarioError> {
        self.journal.message(now, ADMIN, true, payload)?;
        Ok(())
    }

    fn walk(&mut self) {
        let step = self.rng.below(3) as i64 - 1;
        self.mid_usd = (self.mid_usd + step).clamp(95_000, 105_000);
    }

    /// Creates and funds the scenario's accounts; moves 21 and 8 out of their groups.
    fn setup_accounts(&mut self, now: u64) -> Result<(), ScenarioError> {
        let accounts = [
            (HOUSE, 100),
            (WASH_A, 50),
            (WASH_B, 50),
            (SPOOFER, 0),
            (LAYERER, 0),
            (STUFFER, 0),
        ];
        for (account, group) in accounts {
            self.admin_req += 1;
            self.admin(now, &account_setup(self.admin_req, account, group))?;
            self.admin_req += 1;
            let usd = deposit(self.admin_req, account, Asset::Usd, 10_000_000);
            self.admin(now, &usd)?;
            self.admin_req += 1;
            self.admin(now, &deposit(self.admin_req, account, Asset::Btc, 100))?;
        }
        for account in [WASH_B, HOUSE] {
            self.admin_req += 1;
            self.admin(now, &account_setup(self.admin_req, account, 0))?;
        }
        Ok(())
    }

    /// Cancels the market maker's quotes and enters new ones around the mid.
    fn requote(&mut self, now: u64, mm: u32) -> Result<(), ScenarioError> {
        for (side, buy) in [(0usize, true), (1usize, false)] {
            if let Some(old) = self.quotes[mm as usize][side].take() {
                let cl = self.cl(mm);
                self.send(now, mm, &cancel(cl, old, buy))?;
            }
            let price = if buy {
                self.mid_usd - HALF_SPREAD_USD
            } else {
                self.mid_usd + HALF_SPREAD_USD
            };
            let cl = self.cl(mm);
            self.send(now, mm, &limit(cl, buy, price, QUOTE_LOTS, false))?;
            self.quotes[mm as usize][side] = Some(cl);
        }
        Ok(())
    }

    fn pull_quotes(&mut self, now: u64, mm: u32) -> Result<(), ScenarioError> {
        for (side, buy) in [(0usize, true), (1usize, false)] {
            if let Some(old) = self.quotes[mm as usize][side].take() {
                let cl = self.cl(mm);
                self.send(now, mm, &cancel(cl, old, buy))?;
            }
        }
        Ok(())
    }

    fn seed(&mut self, kind: &'static str, account: u32, counterparty: Option<u32>, t: u64) {
        let seeded = Seeded {
            kind,
            account,
            counterparty,
            time_ns: t,
        };
        self.seeded.push(seeded);
    }

    /// Plays one abusive pattern starting at `t` (all its records fall before the next tick).
    fn pattern(&mut self, pattern: u8, t: u64) -> Result<(), ScenarioError> {
        let mid = self.mid_usd;
        match pattern {
            0 => {
                let order = limit_of(self, WASH_B, false, mid + 2, TAKE_LOTS, false);
                self.send(t, WASH_B, &order)?;
                let order = limit_of(self, WASH_A, true, mid + 2, TAKE_LOTS, true);
                self.send(t, WASH_A, &order)?;
                self.seed("wash_trade", WASH_A, Some(WASH_B), t);
            }
            1 => {
                let order = limit_of(self, AFF1, false, mid + 3, TAKE_LOTS, false);
                self.send(t, AFF1, &order)?;
                let order = limit_of(self, HOUSE, true, mid + 3, TAKE_LOTS, true);
                self.send(t, HOUSE, &order)?;
                self.seed("affiliate_house_trade", AFF1, Some(HOUSE), t);
            }
            2 => {
                self.spoof(SPOOFER, &[mid - 8], 200_000, t)?;
                self.seed("spoofing", SPOOFER, None, t);
            }
            3 => {
                let prices = [mid - 8, mid - 9, mid - 10, mid - 11];
                self.spoof(LAYERER, &prices, 150_000, t)?;
                self.seed("layering", LAYERER, None, t);
            }
            _ => {
                for i in 0..1_500u64 {
                    let at = t + i * 30_000;
                    let order = limit_of(self, STUFFER, true, mid - 50, 100, false);
                    let orig = self.next_cl[STUFFER as usize] - 1;
                    self.send(at, STUFFER, &order)?;
                    let cl = self.cl(STUFFER);
                    self.send(at, STUFFER, &cancel(cl, orig, true))?;
                }
                self.seed("quote_stuffing", STUFFER, None, t);
            }
        }
        Ok(())
    }

    /// Large bids at `prices`, cancelled 20 ms later, then a small sell into the book 10 ms
    /// after that.
    fn spoof(
        &mut self,
        account: u32,
        prices: &[i64],
        lots: i64,
        t: u64,
    ) -> Result<(), ScenarioError> {
        let mut placed = Vec::new();
        for &price in prices {
            let order = limit_of(self, account, true, price, lots, false);
            placed.push(self.next_cl[account as usize] - 1);
            self.send(t, account, &order)?;
        }
        for orig in placed {
            let cl = self.cl(account);
            self.send(t + 20 * MS, account, &cancel(cl, orig, true))?;
        }
        let sell = limit_of(self, account, false, self.mid_usd - 20, TAKE_LOTS, true);
        self.send(t + 30 * MS, account, &sell)
    }
}

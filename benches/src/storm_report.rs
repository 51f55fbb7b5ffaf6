//! The `liquidation-storm` report: a table, and one JSON object, with the storm beside the
//! issue's 20 ms target and each proportionality case beside the floor of the same run.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use crate::affinity::Pinning;
use crate::storm::{CaseResult, Kind, StormConfig, BID_LEVELS_USD, BOOK_SHARE_PCT, TARGET_MS};
use crate::storm::{CRASH_USD, ENTRY_USD, LEVERAGED_DEPOSIT_USD, SAFE_DEPOSIT_USD};

/// Everything one `liquidation-storm` run measured, and how.
#[derive(Clone, Debug)]
pub struct StormReport {
    pub quick: bool,
    pub pinning: Pinning,
    pub config: StormConfig,
    /// The floor first, then the proportionality cases, then the storms.
    pub cases: Vec<CaseResult>,
    pub load_average_1m: Option<f64>,
}

impl StormReport {
    fn floor(&self) -> &CaseResult {
        &self.cases[0]
    }

    fn of(&self, kind: Kind) -> impl Iterator<Item = &CaseResult> {
        self.cases.iter().filter(move |c| c.kind == kind)
    }

    /// Microseconds of the case's median update per liquidated account.
    fn us_per_account(case: &CaseResult) -> f64 {
        case.median_ns() as f64 / 1_000.0 / case.counts.liquidated.max(1) as f64
    }

    /// Microseconds per liquidated account above the floor's median update.
    fn us_per_affected_above_floor(&self, case: &CaseResult) -> f64 {
        let extra = case.median_ns() as f64 - self.floor().median_ns() as f64;
        extra / 1_000.0 / case.counts.liquidated.max(1) as f64
    }

    /// One JSON object on one line. Per-case keys end in the number of traders
    /// (`storm_ms_100000`); `storm` and `proportional` repeat them as lists.
    pub fn json_line(&self) -> String {
        let mut object = Map::new();
        let mut put = |key: String, value: Value| {
            object.insert(key, value);
        };
        put("threads".into(), json!(1));
        put("pin_core".into(), json!(self.pinning.requested_core));
        put("pinned".into(), json!(self.pinning.pinned));
        put("idle".into(), json!("none: the engine is called directly"));
        put("quick".into(), json!(self.quick));
        put("repeats".into(), json!(self.config.repeats));
        put("entry_usd".into(), json!(ENTRY_USD));
        put("crash_usd".into(), json!(CRASH_USD));
        put("book_share_pct".into(), json!(BOOK_SHARE_PCT));
        put("target_ms".into(), json!(TARGET_MS));
        let floor_us = self.floor().median_ns() as f64 / 1_000.0;
        put("floor_update_us".into(), json!(floor_us));
        let mut storms = Vec::new();
        for case in self.of(Kind::Storm) {
            let n = case.traders;
            let ms = case.median_ns() as f64 / 1e6;
            let met = ms < TARGET_MS;
            put(format!("storm_ms_{n}"), json!(ms));
            put(
                format!("storm_us_per_account_{n}"),
                json!(Self::us_per_account(case)),
            );
            put(format!("storm_target_met_{n}"), json!(met));
            let mut entry = case_json(case);
            entry.insert("median_ms".into(), json!(ms));
            entry.insert("us_per_account".into(), json!(Self::us_per_account(case)));
            entry.insert("target_met".into(), json!(met));
            storms.push(Value::Object(entry));
        }
        let mut proportional = Vec::new();
        for case in self.of(Kind::Proportional) {
            let n = case.traders;
            let us = case.median_ns() as f64 / 1_000.0;
            let vs_floor = us / floor_us.max(1e-3);
            let per_affected = self.us_per_affected_above_floor(case);
            put(format!("proportional_us_{n}"), json!(us));
            put(format!("proportional_vs_floor_{n}"), json!(vs_floor));
            put(
                format!("proportional_us_per_affected_{n}"),
                json!(per_affected),
            );
            let mut entry = case_json(case);
            entry.insert("median_us".into(), json!(us));
            entry.insert("vs_floor".into(), json!(vs_floor));
            entry.insert("us_per_affected_above_floor".into(), json!(per_affected));
            proportional.push(Value::Object(entry));
        }
        put("floor".into(), Value::Object(case_json(self.floor())));
        put("storm".into(), Value::Array(storms));
        put("proportional".into(), Value::Array(proportional));
        put("load_average_1m".into(), json!(self.load_average_1m));
        Value::Object(object).to_string()
    }

    /// A table for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let pin = self.pinning.describe(" (--pin-core N pins)");
        let load = self
            .load_average_1m
            .map_or(String::new(), |load| format!(", load average {load:.2}"));
        let _ = writeln!(
            out,
            "liquidation-storm: BTC-USD-PERP, single-threaded, {pin}; the engine is called \
             directly (no sequencer){load}"
        );
        let _ = writeln!(
            out,
            "one index update {ENTRY_USD} -> {CRASH_USD} USD (-20%), timed around apply_index \
             (wall clock); each case on {} fresh engine(s), median (min-max)",
            self.config.repeats
        );
        let _ = writeln!(
            out,
            "traders long 0.001 BTC at {ENTRY_USD}; leveraged = {LEVERAGED_DEPOSIT_USD} USD \
             deposit (20x), others {SAFE_DEPOSIT_USD} USD (2x); the maker's bids at {:?} USD \
             hold {BOOK_SHARE_PCT}% of the leveraged lots",
            BID_LEVELS_USD
        );
        self.write_storms(&mut out);
        self.write_proportional(&mut out);
        out
    }

    fn write_storms(&self, out: &mut String) {
        let _ = writeln!(out, "storm: every trader leveraged");
        let _ = writeln!(
            out,
            "  {:>8} {:>22} {:>8} {:>11} {:>10} {:>7} {:>7} {:>7} {:>8}",
            "traders",
            "update ms (min-max)",
            "µs/acct",
            "first steps",
            "book fills",
            "fund",
            "ADL",
            "events",
            "<20 ms?"
        );
        for case in self.of(Kind::Storm) {
            let c = &case.counts;
            let ms = case.median_ns() as f64 / 1e6;
            let range = format!(
                "{ms:.2} ({:.2}-{:.2})",
                case.min_ns() as f64 / 1e6,
                case.max_ns() as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "  {:>8} {:>22} {:>8.3} {:>11} {:>10} {:>7} {:>7} {:>7} {:>8}",
                case.traders,
                range,
                Self::us_per_account(case),
                c.liquidated,
                c.filled_steps,
                c.fund_takeovers,
                c.adl_steps,
                c.events,
                if ms < TARGET_MS { "met" } else { "not met" }
            );
        }
    }

    fn write_proportional(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "proportionality: 1% of the traders leveraged, 99% not; the floor has no trader"
        );
        let _ = writeln!(
            out,
            "  {:>10} {:>9} {:>24} {:>9} {:>22}",
            "traders", "affected", "update µs (min-max)", "/floor", "µs/affected above floor"
        );
        for case in std::iter::once(self.floor()).chain(self.of(Kind::Proportional)) {
            let us = case.median_ns() as f64 / 1_000.0;
            let range = format!(
                "{us:.1} ({:.1}-{:.1})",
                case.min_ns() as f64 / 1_000.0,
                case.max_ns() as f64 / 1_000.0
            );
            let (name, per_affected) = if case.kind == Kind::Floor {
                ("0 (floor)".to_string(), "-".to_string())
            } else {
                let per = self.us_per_affected_above_floor(case);
                (case.traders.to_string(), format!("{per:.3}"))
            };
            let floor = self.floor().median_ns().max(1) as f64;
            let _ = writeln!(
                out,
                "  {:>10} {:>9} {:>24} {:>8.1}x {:>22}",
                name,
                case.counts.liquidated,
                range,
                case.median_ns() as f64 / floor,
                per_affected
            );
        }
    }
}

/// The fields every case reports.
fn case_json(case: &CaseResult) -> Map<String, Value> {
    let c = &case.counts;
    let value = json!({
        "traders": case.traders,
        "leveraged": case.leveraged,
        "updates_ns": case.updates_ns,
        "median_ns": case.median_ns(),
        "min_ns": case.min_ns(),
        "max_ns": case.max_ns(),
        "setup_secs": case.setup_secs,
        "liquidated": c.liquidated,
        "first_steps": c.liquidated,
        "orders": c.orders,
        "filled_steps": c.filled_steps,
        "filled_lots": c.filled_lots,
        "fund_takeovers": c.fund_takeovers,
        "fund_lots": c.fund_lots,
        "adl_steps": c.adl_steps,
        "adl_lots": c.adl_lots,
        "liquidation_fees": c.fees,
        "events": c.events,
        "breaker_halts": c.halts,
        "fund_equity_after_units": case.fund_equity.0,
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

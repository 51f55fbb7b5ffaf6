//! The `perp-bench` report: a table, and one JSON object, with each case beside the floor
//! (no positions) measured in the same run.

use std::fmt::Write;

use serde_json::{json, Map, Value};

use crate::affinity::Pinning;
use crate::perp::{CaseResult, PerpConfig, INDEX_STEP_NS};

/// Everything one `perp-bench` run measured, and how.
#[derive(Clone, Debug)]
pub struct PerpReport {
    pub quick: bool,
    pub pinning: Pinning,
    pub config: PerpConfig,
    /// The floor (no positions) first, then each case.
    pub cases: Vec<CaseResult>,
    pub load_average_1m: Option<f64>,
}

impl PerpReport {
    fn floor(&self) -> &CaseResult {
        &self.cases[0]
    }

    fn measured(&self) -> &[CaseResult] {
        &self.cases[1..]
    }

    /// The case's settlement cost per holder above the floor's settlement, nanoseconds.
    fn ns_per_holder(&self, case: &CaseResult) -> f64 {
        let extra = case.settlement_median_ns() as f64 - self.floor().settlement_median_ns() as f64;
        extra / case.positions.max(1) as f64
    }

    /// One JSON object on one line. Per-case keys end in the number of positions
    /// (`update_p50_ns_100000`); `cases` repeats them as a list.
    pub fn json_line(&self) -> String {
        let floor = self.floor();
        let mut object = Map::new();
        let mut put = |key: String, value: Value| {
            object.insert(key, value);
        };
        put("threads".into(), json!(1));
        put("pin_core".into(), json!(self.pinning.requested_core));
        put("pinned".into(), json!(self.pinning.pinned));
        put("idle".into(), json!("none: closed loop on the engine"));
        put("quick".into(), json!(self.quick));
        put("updates_per_case".into(), json!(self.config.updates));
        put("rounds".into(), json!(self.config.rounds));
        put(
            "settlements_per_case".into(),
            json!(self.config.settlements),
        );
        put("index_step_ns".into(), json!(INDEX_STEP_NS));
        put("floor_update_p50_ns".into(), json!(floor.update.p50_ns));
        put("floor_update_p99_ns".into(), json!(floor.update.p99_ns));
        put(
            "floor_settlement_ns".into(),
            json!(floor.settlement_median_ns()),
        );
        let mut list = Vec::new();
        for case in self.measured() {
            let n = case.positions;
            let p50_ratio = ratio(case.update.p50_ns, floor.update.p50_ns);
            let p99_ratio = ratio(case.update.p99_ns, floor.update.p99_ns);
            let per_holder = self.ns_per_holder(case);
            put(format!("update_p50_ns_{n}"), json!(case.update.p50_ns));
            put(format!("update_p99_ns_{n}"), json!(case.update.p99_ns));
            put(format!("update_p50_vs_floor_{n}"), json!(p50_ratio));
            put(format!("update_p99_vs_floor_{n}"), json!(p99_ratio));
            put(format!("funding_ns_per_holder_{n}"), json!(per_holder));
            list.push(json!({
                "positions": n,
                "setup_secs": case.setup_secs,
                "updates": case.updates,
                "marks_moved": case.marks_moved,
                "update_p50_ns": case.update.p50_ns,
                "update_p99_ns": case.update.p99_ns,
                "update_p9999_ns": case.update.p9999_ns,
                "update_max_ns": case.update.max_ns,
                "update_mean_ns": case.update.mean_ns,
                "update_p50_vs_floor": p50_ratio,
                "update_p99_vs_floor": p99_ratio,
                "settlement_ns": case.settlement_median_ns(),
                "settlements_ns": case.settlements_ns,
                "funding_ns_per_holder": per_holder,
            }));
        }
        put("cases".into(), Value::Array(list));
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
            "perp-bench: BTC-USD-PERP, single-threaded, {pin}; no idle mode (the engine is \
             called directly in a closed loop, no sequencer){load}"
        );
        self.write_updates(&mut out);
        self.write_settlements(&mut out);
        out
    }

    fn write_updates(&self, out: &mut String) {
        let c = &self.config;
        let _ = writeln!(
            out,
            "index update moving the mark: {} per case in {} interleaved rounds after {} \
             untimed, one per {} ms of engine time; each timed alone (Instant overhead in \
             every row)",
            c.updates,
            c.rounds,
            c.warmup_updates,
            INDEX_STEP_NS / 1_000_000
        );
        let _ = writeln!(
            out,
            "  {:>10} {:>8} {:>8} {:>9} {:>8} {:>10} {:>10} {:>12}",
            "positions",
            "p50 ns",
            "p99 ns",
            "mean ns",
            "max µs",
            "p50/floor",
            "p99/floor",
            "mark moved"
        );
        let floor = self.floor();
        for case in &self.cases {
            let name = if case.positions == 0 {
                "0 (floor)".to_string()
            } else {
                case.positions.to_string()
            };
            let _ = writeln!(
                out,
                "  {:>10} {:>8} {:>8} {:>9.1} {:>8.1} {:>9.2}x {:>9.2}x {:>12}",
                name,
                case.update.p50_ns,
                case.update.p99_ns,
                case.update.mean_ns,
                case.update.max_ns as f64 / 1_000.0,
                ratio(case.update.p50_ns, floor.update.p50_ns),
                ratio(case.update.p99_ns, floor.update.p99_ns),
                format!("{}/{}", case.marks_moved, case.updates),
            );
        }
    }

    fn write_settlements(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "funding settlement (the Tick at the settlement time): median of {} per case, \
             interleaved",
            self.config.settlements
        );
        let _ = writeln!(
            out,
            "  {:>10} {:>12} {:>11} {:>22}",
            "positions", "tick µs", "tick/floor", "ns/holder above floor"
        );
        let floor = self.floor().settlement_median_ns();
        for case in &self.cases {
            let tick = case.settlement_median_ns();
            let per_holder = if case.positions == 0 {
                "-".to_string()
            } else {
                format!("{:.1}", self.ns_per_holder(case))
            };
            let _ = writeln!(
                out,
                "  {:>10} {:>12.1} {:>10.1}x {:>22}",
                case.positions,
                tick as f64 / 1_000.0,
                ratio(tick, floor),
                per_holder
            );
        }
    }
}

fn ratio(value: u64, floor: u64) -> f64 {
    value as f64 / floor.max(1) as f64
}

//! The `engine-bench` report: a readable table and a single JSON line, with the product's
//! targets (SPEC §8) beside each measured value.

use std::fmt::Write;

use serde_json::{json, Value};

use crate::affinity::Pinning;
use crate::compare::Comparison;
use crate::exchange_core_mix::{BookShape, MixCounts};
use crate::open_loop::{Measured, Percentiles};
use crate::throughput::Throughput;

/// Targets the product is judged by.
pub mod targets {
    pub const MIX_OPS_PER_SEC_MIN: f64 = 25_000_000.0;
    pub const RATIO_VS_LOBSTER_MIN: f64 = 10.0;
    pub const RATIO_VS_ORDERBOOK_RS_MIN: f64 = 60.0;
    pub const P99_NS_MAX: u64 = 1_000;
    pub const P9999_NS_MAX: u64 = 10_000;
}

/// Everything one `engine-bench` run measured, and how.
#[derive(Clone, Debug)]
pub struct Report {
    pub quick: bool,
    pub pinning: Pinning,
    pub mix_commands: usize,
    /// The engine's `max_orders` in the mix.
    pub mix_max_orders: u32,
    pub mix_counts: MixCounts,
    pub mix_shape: BookShape,
    pub throughput: Throughput,
    /// The open loop on the mix and its two floors, interleaved (see `open_loop::measure`).
    pub latency: Measured,
    pub peers: Comparison,
    /// The machine's 1-minute load average when the run ended (context for noisy numbers).
    pub load_average_1m: Option<f64>,
}

impl Report {
    /// One JSON object on one line.
    pub fn json_line(&self) -> String {
        let mut line = json!({
            "pin_core": self.pinning.requested_core,
            "pinned": self.pinning.pinned,
            "quick": self.quick,
            "load_average_1m": self.load_average_1m,
        });
        // Built in parts: one `json!` with every key exceeds the macro's recursion limit.
        let fields = line.as_object_mut().expect("built as an object");
        for part in [self.mix_json(), self.latency_json(), self.peers_json()] {
            if let Value::Object(part) = part {
                fields.extend(part);
            }
        }
        line.to_string()
    }

    /// The mix and its closed-loop throughput.
    fn mix_json(&self) -> Value {
        let t = &self.throughput;
        let runs: Vec<f64> = t.runs_ops_per_sec.iter().map(|v| v.round()).collect();
        json!({
            "mix_commands": self.mix_commands,
            "mix_max_orders": self.mix_max_orders,
            "mix_ops_per_sec": t.median_ops_per_sec.round(),
            "mix_ops_per_sec_best": t.best_ops_per_sec.round(),
            "mix_runs_ops_per_sec": runs,
            "mix_events_per_op": t.events_per_op,
            "allocs_per_op": t.allocs_per_op,
            "mix_gtc": self.mix_counts.gtc,
            "mix_ioc": self.mix_counts.ioc,
            "mix_cancel": self.mix_counts.cancel,
            "mix_move": self.mix_counts.moves,
            "mix_book_orders_mean": self.mix_shape.orders_mean,
            "mix_book_levels_mean": self.mix_shape.levels_mean,
            "mix_fills": self.mix_shape.fills,
            "mix_rejects": self.mix_shape.rejects,
        })
    }

    /// The open loop on the mix and its two floors.
    fn latency_json(&self) -> Value {
        let l = &self.latency.engine;
        let f = &self.latency.floor;
        let m = &self.latency.memory_floor;
        json!({
            "mix_rate_per_sec": l.rate_per_sec,
            "mix_p50_ns": l.response.p50_ns,
            "mix_p99_ns": l.response.p99_ns,
            "mix_p9999_ns": l.response.p9999_ns,
            "mix_max_ns": l.response.max_ns,
            "mix_late_commands": l.late_commands,
            "mix_service_p50_ns": l.service.p50_ns,
            "mix_service_p99_ns": l.service.p99_ns,
            "mix_service_p9999_ns": l.service.p9999_ns,
            "mix_service_max_ns": l.service.max_ns,
            "floor_p50_ns": f.response.p50_ns,
            "floor_p99_ns": f.response.p99_ns,
            "floor_p9999_ns": f.response.p9999_ns,
            "floor_max_ns": f.response.max_ns,
            "floor_late_commands": f.late_commands,
            "mix_preemptions": l.usage.preemptions,
            "mix_minor_faults": l.usage.minor_faults,
            "floor_preemptions": f.usage.preemptions,
            "floor_minor_faults": f.usage.minor_faults,
            "memory_floor_p50_ns": m.response.p50_ns,
            "memory_floor_p99_ns": m.response.p99_ns,
            "memory_floor_p9999_ns": m.response.p9999_ns,
            "memory_floor_max_ns": m.response.max_ns,
            "memory_floor_late_commands": m.late_commands,
        })
    }

    /// The shared stream through every book, the bare floor included.
    fn peers_json(&self) -> Value {
        let p = &self.peers;
        json!({
            "peer_ops": p.ops,
            "peer_repeats": p.repeats,
            "ours_ns_per_op": p.ours.median_ns_per_op,
            "lobster_ns_per_op": p.lobster.median_ns_per_op,
            "orderbook_rs_ns_per_op": p.orderbook_rs.median_ns_per_op,
            "bare_ns_per_op": p.bare.median_ns_per_op,
            "ratio_vs_lobster": p.ratio_vs_lobster(),
            "ratio_vs_orderbook_rs": p.ratio_vs_orderbook_rs(),
            "ratio_bare_vs_lobster": p.ratio_bare_vs_lobster(),
            "ours_vs_bare": p.ours_vs_bare(),
            "peer_trades": p.ours.trades,
        })
    }

    /// A table for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        self.write_mix(&mut out);
        self.write_peers(&mut out);
        out
    }

    fn write_mix(&self, out: &mut String) {
        let c = &self.mix_counts;
        let s = &self.mix_shape;
        let pin = self.pinning.describe("");
        let load = self
            .load_average_1m
            .map_or(String::new(), |load| format!(", load average {load:.2}"));
        let _ = writeln!(out, "exchange-core single-book mix ({pin}{load})");
        let _ = writeln!(
            out,
            "  commands {}  (GTC {} / IOC {} / cancel {} / move {}), engine max_orders {}",
            self.mix_commands, c.gtc, c.ioc, c.cancel, c.moves, self.mix_max_orders
        );
        let _ = writeln!(
            out,
            "  book: {:.0} orders (min {}, max {}) on {:.0} levels; {} fills, {} rejects",
            s.orders_mean, s.orders_min, s.orders_max, s.levels_mean, s.fills, s.rejects
        );
        let _ = writeln!(out, "  {:<34} {:>24} {:>14}", "measure", "value", "target");
        for (name, value, target) in self
            .throughput_rows()
            .into_iter()
            .chain(self.latency_rows())
        {
            let _ = writeln!(out, "  {name:<34} {value:>24} {target:>14}");
        }
        let _ = writeln!(
            out,
            "  floors: the same open loop with no engine work, interleaved with it in {} segments;\n  \
             memory floor: each call makes {} random reads over {} MiB",
            crate::open_loop::SEGMENTS,
            crate::open_loop::MEMORY_FLOOR_READS,
            crate::open_loop::MEMORY_FLOOR_BYTES >> 20,
        );
    }

    /// Rows of the closed-loop throughput runs: (measure, value, target).
    fn throughput_rows(&self) -> Vec<(String, String, String)> {
        let t = &self.throughput;
        let allocs = t
            .allocs_per_op
            .map_or("not measured".to_string(), |a| format!("{a:.6}"));
        vec![
            (
                "throughput median (ops/s)".to_string(),
                format!("{:.0}", t.median_ops_per_sec),
                verdict(
                    t.median_ops_per_sec >= targets::MIX_OPS_PER_SEC_MIN,
                    ">= 25M",
                ),
            ),
            (
                "throughput best (ops/s)".to_string(),
                format!("{:.0}", t.best_ops_per_sec),
                String::new(),
            ),
            (
                "events per command".to_string(),
                format!("{:.2}", t.events_per_op),
                String::new(),
            ),
            (
                "allocations per command".to_string(),
                allocs,
                "0".to_string(),
            ),
        ]
    }

    /// Rows of the open loop and of its floor: (measure, value, target).
    fn latency_rows(&self) -> Vec<(String, String, String)> {
        let l = &self.latency.engine;
        let f = &self.latency.floor;
        let m = &self.latency.memory_floor;
        let triple = |p: &Percentiles| format!("{}/{}/{}", p.p50_ns, p.p99_ns, p.p9999_ns);
        let row = |name: &str, value: String| (name.to_string(), value, String::new());
        vec![
            row(
                &format!("open loop @{}/s p50 (ns)", l.rate_per_sec),
                l.response.p50_ns.to_string(),
            ),
            (
                "open loop p99 (ns)".to_string(),
                l.response.p99_ns.to_string(),
                verdict(l.response.p99_ns <= targets::P99_NS_MAX, "<= 1000"),
            ),
            (
                "open loop p99.99 (ns)".to_string(),
                l.response.p9999_ns.to_string(),
                verdict(l.response.p9999_ns <= targets::P9999_NS_MAX, "<= 10000"),
            ),
            row("open loop max (ns)", l.response.max_ns.to_string()),
            row("late commands", l.late_commands.to_string()),
            row(
                "preemptions / minor faults",
                format!("{}/{}", l.usage.preemptions, l.usage.minor_faults),
            ),
            row("service time p50/p99/p99.99 (ns)", triple(&l.service)),
            row("service time max (ns)", l.service.max_ns.to_string()),
            row("floor p50/p99/p99.99 (ns)", triple(&f.response)),
            row(
                "floor max (ns) / late commands",
                format!("{}/{}", f.response.max_ns, f.late_commands),
            ),
            row(
                "floor preemptions / minor faults",
                format!("{}/{}", f.usage.preemptions, f.usage.minor_faults),
            ),
            row("memory floor p50/p99/p99.99 (ns)", triple(&m.response)),
        ]
    }

    fn write_peers(&self, out: &mut String) {
        let p = &self.peers;
        let _ = writeln!(
            out,
            "peers: one stream of {} ops (90% passive limit, 10% market), median of {} runs",
            p.ops, p.repeats
        );
        let _ = writeln!(
            out,
            "  {:<14} {:>10} {:>8} {:>12} {:>14}",
            "book", "ns/op", "trades", "vs ours", "target"
        );
        let rows = [
            (&p.ours, 1.0, String::new()),
            (
                &p.lobster,
                p.ratio_vs_lobster(),
                verdict(
                    p.ratio_vs_lobster() >= targets::RATIO_VS_LOBSTER_MIN,
                    ">= 10x",
                ),
            ),
            (
                &p.orderbook_rs,
                p.ratio_vs_orderbook_rs(),
                verdict(
                    p.ratio_vs_orderbook_rs() >= targets::RATIO_VS_ORDERBOOK_RS_MIN,
                    ">= 60x",
                ),
            ),
            (
                &p.bare,
                p.bare.median_ns_per_op / p.ours.median_ns_per_op,
                "(floor)".to_string(),
            ),
        ];
        for (result, ratio, target) in rows {
            let _ = writeln!(
                out,
                "  {:<14} {:>10.1} {:>8} {:>11.1}x {:>14}",
                result.name, result.median_ns_per_op, result.trades, ratio, target
            );
        }
        let _ = writeln!(
            out,
            "  floor: ours takes {:.1}x the bare book's time per op, lobster {:.1}x",
            p.ours_vs_bare(),
            p.ratio_bare_vs_lobster()
        );
    }
}

/// The machine's 1-minute load average (the first field of `/proc/loadavg`), where there is
/// one: context for noisy numbers.
pub fn load_average_1m() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn verdict(met: bool, target: &str) -> String {
    format!("{target} {}", if met { "ok" } else { "MISS" })
}

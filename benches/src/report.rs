//! The `engine-bench` report: a readable table and a single JSON line, with the product's
//! targets (SPEC §8) beside each measured value.

use std::fmt::Write;

use serde_json::json;

use crate::affinity::Pinning;
use crate::compare::Comparison;
use crate::exchange_core_mix::{BookShape, MixCounts};
use crate::open_loop::Latency;
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
    pub latency: Latency,
    pub peers: Comparison,
    /// The machine's 1-minute load average when the run ended (context for noisy numbers).
    pub load_average_1m: Option<f64>,
}

impl Report {
    /// One JSON object on one line.
    pub fn json_line(&self) -> String {
        let t = &self.throughput;
        let l = &self.latency;
        let p = &self.peers;
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
            "peer_ops": p.ops,
            "peer_repeats": p.repeats,
            "ours_ns_per_op": p.ours.median_ns_per_op,
            "lobster_ns_per_op": p.lobster.median_ns_per_op,
            "orderbook_rs_ns_per_op": p.orderbook_rs.median_ns_per_op,
            "ratio_vs_lobster": p.ratio_vs_lobster(),
            "ratio_vs_orderbook_rs": p.ratio_vs_orderbook_rs(),
            "peer_trades": p.ours.trades,
            "pin_core": self.pinning.requested_core,
            "pinned": self.pinning.pinned,
            "quick": self.quick,
            "load_average_1m": self.load_average_1m,
        })
        .to_string()
    }

    /// A table for people.
    pub fn table(&self) -> String {
        let mut out = String::new();
        self.write_mix(&mut out);
        self.write_peers(&mut out);
        out
    }

    fn write_mix(&self, out: &mut String) {
        let t = &self.throughput;
        let l = &self.latency;
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
        let allocs = t
            .allocs_per_op
            .map_or("not measured".to_string(), |a| format!("{a:.6}"));
        let _ = writeln!(out, "  {:<34} {:>16} {:>14}", "measure", "value", "target");
        let rows = [
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
            (
                format!("open loop @{}/s p50 (ns)", l.rate_per_sec),
                l.response.p50_ns.to_string(),
                String::new(),
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
            (
                "open loop max (ns)".to_string(),
                l.response.max_ns.to_string(),
                String::new(),
            ),
            (
                "late commands".to_string(),
                l.late_commands.to_string(),
                String::new(),
            ),
            (
                "service time p50/p99/p99.99 (ns)".to_string(),
                format!(
                    "{}/{}/{}",
                    l.service.p50_ns, l.service.p99_ns, l.service.p9999_ns
                ),
                String::new(),
            ),
            (
                "service time max (ns)".to_string(),
                l.service.max_ns.to_string(),
                String::new(),
            ),
        ];
        for (name, value, target) in rows {
            let _ = writeln!(out, "  {name:<34} {value:>16} {target:>14}");
        }
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
        ];
        for (result, ratio, target) in rows {
            let _ = writeln!(
                out,
                "  {:<14} {:>10.1} {:>8} {:>11.1}x {:>14}",
                result.name, result.median_ns_per_op, result.trades, ratio, target
            );
        }
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

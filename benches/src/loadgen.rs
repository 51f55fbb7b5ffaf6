//! Open-loop load over the real protocol: N market-maker sessions send new orders, cancels and
//! amends in a configured mix at a fixed total rate; each request's latency runs from its
//! planned send time (correcting for coordinated omission) to its first answer: New or
//! Rejected for an order, Canceled for a cancel, Replaced for an amend, or a reject.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

use exchange::marketdata::codec as md_wire;
use exchange::marketdata::packet::messages;
use exchange::protocol::codec as wire;
use hdrhistogram::Histogram;

use crate::prng::SplitMix64;
use crate::wire::Session;

/// Shares of each request kind, in percent (they need not add to 100: they are weights).
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    pub new: u32,
    pub cancel: u32,
    pub amend: u32,
}

/// What a run measured.
pub struct LoadResult {
    pub histogram: Histogram<u64>,
    /// New order (planned send) → its own L3 book update on the market-data channel.
    pub market_data: Option<Histogram<u64>>,
    pub achieved_per_sec: f64,
    pub sent: u64,
    pub answered: u64,
    pub rejected: u64,
}

enum Kind {
    New,
    Cancel,
    Amend,
}

/// One session's resting orders (acknowledged, not being canceled or amended).
struct Book {
    live: VecDeque<u64>,
    side: wire::Side,
}

/// Runs `count` requests at `rate_per_sec` across `sessions`, with ClOrdIDs from
/// `first_cl_ord_id` to `first_cl_ord_id + count - 1`. Orders rest away from the touch
/// (buys below, sells above the reference), so they never trade and the book stays bounded
/// by the mix.
///
/// # Errors
/// Socket errors, a Terminate from the exchange, or answers missing after 30 s.
pub fn run(
    sessions: &mut [Session],
    rate_per_sec: u64,
    count: u64,
    mix: Mix,
    seed: u64,
    market_data: Option<&UdpSocket>,
    first_cl_ord_id: u64,
) -> io::Result<LoadResult> {
    let mut md_histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("b");
    // Order id → planned send of new orders acknowledged but not yet seen on market data,
    // and order id → arrival of book updates seen before their ack.
    let mut awaiting_md: HashMap<u64, u64> = HashMap::new();
    let mut seen_md: HashMap<u64, u64> = HashMap::new();
    let mut rng = SplitMix64::new(seed);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("bounds");
    let interval_ns = 1_000_000_000 / rate_per_sec.max(1);
    let mut books: Vec<Book> = (0..sessions.len())
        .map(|i| Book {
            live: VecDeque::new(),
            side: if i % 2 == 0 {
                wire::Side::Buy
            } else {
                wire::Side::Sell
            },
        })
        .collect();
    // Request key (ClOrdID that its answer carries) → (planned ns, session, resting ClOrdID).
    let mut pending: HashMap<u64, (u64, usize, u64)> = HashMap::new();
    let (mut sent, mut answered, mut rejected) = (0u64, 0u64, 0u64);
    // Each request uses one fresh ClOrdID: a later run on the same sessions starts past them,
    // since the venue rejects a ClOrdID it has seen recently.
    let mut next_cl = first_cl_ord_id.max(1);
    let started = Instant::now();
    let weights = mix.new + mix.cancel + mix.amend;
    while answered < count {
        let now = started.elapsed().as_nanos() as u64;
        while sent < count && sent * interval_ns <= now {
            let which = (sent % sessions.len() as u64) as usize;
            let planned = sent * interval_ns;
            let pick = rng.below(u64::from(weights.max(1))) as u32;
            let book = &mut books[which];
            let kind = match pick {
                p if p < mix.new || book.live.is_empty() => Kind::New,
                p if p < mix.new + mix.cancel => Kind::Cancel,
                _ => Kind::Amend,
            };
            let price = |rng: &mut SplitMix64, side| {
                let ticks = rng.below(2_000) as i64;
                match side {
                    wire::Side::Buy => (95_000 * 10 + ticks) * 10_000_000,
                    wire::Side::Sell => (104_800 * 10 + ticks) * 10_000_000,
                }
            };
            match kind {
                Kind::New => {
                    let cl_ord_id = next_cl;
                    next_cl += 1;
                    sessions[which].send(&wire::NewOrderSingle {
                        cl_ord_id,
                        price: Some(price(&mut rng, book.side)),
                        order_qty: 10_000,
                        security_id: 1,
                        side: book.side,
                        ord_type: wire::OrdType::Limit,
                        time_in_force: wire::TimeInForce::GoodTillCancel,
                        ..Default::default()
                    })?;
                    pending.insert(cl_ord_id, (planned, which, cl_ord_id));
                }
                Kind::Cancel => {
                    let order = book.live.pop_front().expect("picked only when non-empty");
                    let cl_ord_id = next_cl;
                    next_cl += 1;
                    sessions[which].send(&wire::OrderCancelRequest {
                        cl_ord_id,
                        orig_cl_ord_id: order,
                        order_id: None,
                        security_id: 1,
                        side: book.side,
                    })?;
                    // The Canceled report carries the order's ClOrdID.
                    pending.insert(order, (planned, which, 0));
                }
                Kind::Amend => {
                    let index = rng.below(book.live.len() as u64) as usize;
                    let order = book.live.swap_remove_back(index).expect("index in range");
                    let cl_ord_id = next_cl;
                    next_cl += 1;
                    sessions[which].send(&wire::OrderCancelReplaceRequest {
                        cl_ord_id,
                        orig_cl_ord_id: order,
                        order_id: None,
                        price: price(&mut rng, book.side),
                        order_qty: 10_000,
                        security_id: 1,
                        side: book.side,
                    })?;
                    pending.insert(cl_ord_id, (planned, which, cl_ord_id));
                }
            }
            sent += 1;
        }
        for session in sessions.iter_mut() {
            session.drain_reports(|report| {
                let Some((planned, which, rests)) = pending.remove(&report.cl_ord_id) else {
                    return;
                };
                let elapsed = started.elapsed().as_nanos() as u64;
                let _ = histogram.record(elapsed.saturating_sub(planned).max(1));
                answered += 1;
                match report.exec_type {
                    wire::ExecType::Rejected => {
                        rejected += 1;
                        if rejected <= 3 {
                            eprintln!("loadgen: rejected {report:?}");
                        }
                    }
                    wire::ExecType::New | wire::ExecType::Replaced if rests != 0 => {
                        books[which].live.push_back(rests);
                        if report.exec_type == wire::ExecType::New && market_data.is_some() {
                            match seen_md.remove(&report.order_id) {
                                Some(arrival) => {
                                    let latency = arrival.saturating_sub(planned).max(1);
                                    let _ = md_histogram.record(latency);
                                }
                                None => {
                                    awaiting_md.insert(report.order_id, planned);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            })?;
        }
        if let Some(socket) = market_data {
            let now = started.elapsed().as_nanos() as u64;
            drain_new_orders(socket, |order_id| match awaiting_md.remove(&order_id) {
                Some(planned) => {
                    let _ = md_histogram.record(now.saturating_sub(planned).max(1));
                }
                None => {
                    seen_md.insert(order_id, now);
                }
            })?;
        }
        if sent == count
            && started.elapsed()
                > Duration::from_nanos(count * interval_ns) + Duration::from_secs(30)
        {
            return Err(io::Error::other(format!(
                "{answered} of {count} answered after 30 s"
            )));
        }
    }
    let achieved_per_sec = count as f64 / started.elapsed().as_secs_f64();
    let market_data = market_data.map(|_| md_histogram);
    Ok(LoadResult {
        histogram,
        market_data,
        achieved_per_sec,
        sent,
        answered,
        rejected,
    })
}

/// Calls `new_order(order_id)` for each L3 "New" on the incremental channel that has arrived.
fn drain_new_orders(socket: &UdpSocket, mut new_order: impl FnMut(u64)) -> io::Result<()> {
    let mut packet = [0u8; 2048];
    loop {
        let len = match socket.recv(&mut packet) {
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        };
        for message in messages(&packet[..len]).flatten() {
            if let md_wire::Inbound::MDIncrementalRefreshOrderBook(update) = message {
                if update.md_update_action() == md_wire::MDUpdateAction::New {
                    new_order(update.order_id());
                }
            }
        }
    }
}

/// The histogram in HdrHistogram's percentile-distribution text format (`.hgrm`), values in
/// microseconds.
pub fn hgrm(histogram: &Histogram<u64>) -> String {
    let mut out = String::from("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
    for step in histogram.iter_quantiles(5) {
        let q = step.quantile_iterated_to();
        let inverse = if q < 1.0 {
            format!("{:.2}", 1.0 / (1.0 - q))
        } else {
            "inf".into()
        };
        out.push_str(&format!(
            "{:12.3} {:14.12} {:10} {:>14}\n",
            step.value_iterated_to() as f64 / 1e3,
            q,
            step.count_since_last_iteration(),
            inverse
        ));
    }
    out.push_str(&format!(
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]\n#[Max     = {:12.3}, Total count    = {:12}]\n",
        histogram.mean() / 1e3,
        histogram.stdev() / 1e3,
        histogram.max() as f64 / 1e3,
        histogram.len()
    ));
    out
}

/// An SVG plot of latency (µs, log scale) against percentile (log "nines" scale) for each
/// named histogram.
pub fn svg(series: &[(&str, &Histogram<u64>)]) -> String {
    let (width, height, margin) = (720.0, 420.0, 60.0);
    let max_us = series
        .iter()
        .map(|(_, h)| h.max() as f64 / 1e3)
        .fold(1.0, f64::max);
    let log_max = max_us.log10().ceil().max(1.0);
    let x = |q: f64| margin + (-(1.0 - q).max(1e-5).log10() / 5.0) * (width - 2.0 * margin);
    let y = |us: f64| {
        height - margin - (us.max(0.1).log10() + 1.0) / (log_max + 1.0) * (height - 2.0 * margin)
    };
    let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n"
    );
    for (label, q) in [
        ("50%", 0.5),
        ("90%", 0.9),
        ("99%", 0.99),
        ("99.9%", 0.999),
        ("99.99%", 0.9999),
    ] {
        let px = x(q);
        svg.push_str(&format!("<line x1='{px:.1}' y1='{margin}' x2='{px:.1}' y2='{:.1}' stroke='#ddd'/><text x='{px:.1}' y='{:.1}' text-anchor='middle'>{label}</text>\n", height - margin, height - margin + 16.0));
    }
    for decade in -1..=(log_max as i32) {
        let us = 10f64.powi(decade);
        let py = y(us);
        svg.push_str(&format!("<line x1='{margin}' y1='{py:.1}' x2='{:.1}' y2='{py:.1}' stroke='#eee'/><text x='{:.1}' y='{py:.1}' text-anchor='end'>{us} µs</text>\n", width - margin, margin - 6.0));
    }
    for (i, (name, histogram)) in series.iter().enumerate() {
        let color = colors[i % colors.len()];
        let points: Vec<String> = histogram
            .iter_quantiles(5)
            .map(|s| {
                format!(
                    "{:.1},{:.1}",
                    x(s.quantile_iterated_to()),
                    y(s.value_iterated_to() as f64 / 1e3)
                )
            })
            .collect();
        svg.push_str(&format!(
            "<polyline fill='none' stroke='{color}' stroke-width='2' points='{}'/>\n",
            points.join(" ")
        ));
        svg.push_str(&format!(
            "<text x='{:.1}' y='{:.1}' fill='{color}'>{name}</text>\n",
            margin + 10.0,
            margin + 16.0 * (i as f64 + 1.0)
        ));
    }
    svg.push_str("</svg>\n");
    svg
}

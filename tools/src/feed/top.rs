//! `--top`: a refreshing text view of each instrument's top of book, then the index, mark and
//! funding rate of the perpetuals.

use std::fmt::Write as _;

use super::book::InstrumentBook;
use super::handler::FeedHandler;

/// Mantissa (1e-8) as a decimal string with trailing zeros trimmed.
pub fn decimal(mantissa: i64) -> String {
    let sign = if mantissa < 0 { "-" } else { "" };
    let abs = mantissa.unsigned_abs();
    let (whole, frac) = (abs / 100_000_000, abs % 100_000_000);
    let frac = format!("{frac:08}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
    }
}

/// A rate mantissa (exponent -9) as a decimal string with trailing zeros trimmed.
pub fn rate(mantissa: i64) -> String {
    let sign = if mantissa < 0 { "-" } else { "" };
    let abs = mantissa.unsigned_abs();
    let (whole, frac) = (abs / 1_000_000_000, abs % 1_000_000_000);
    let frac = format!("{frac:09}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac}")
    }
}

/// Nanoseconds since the Unix epoch as a UTC time of day, `HH:MM:SS`.
fn time_of_day(ns: u64) -> String {
    let seconds = ns / 1_000_000_000 % 86_400;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3_600,
        seconds / 60 % 60,
        seconds % 60
    )
}

fn display_name(book: &InstrumentBook) -> String {
    if book.symbol.is_empty() {
        book.security_id.to_string()
    } else {
        book.symbol.clone()
    }
}

/// One line per perpetual the feed has prices for; nothing when there is none.
fn render_perpetuals(feed: &FeedHandler, out: &mut String) {
    let perps: Vec<&InstrumentBook> = feed.books.values().filter(|b| b.perp.is_known()).collect();
    if perps.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{:<14} {:>14} {:>4} {:>14} {:>12} {:>8} {:>12} {:>6}",
        "perpetual", "index", "src", "mark", "funding", "", "next (UTC)", "liqs"
    );
    for book in perps {
        let p = &book.perp;
        let (index, sources) = p.index.map_or(("-".into(), "-".into()), |(px, n)| {
            (decimal(px), n.to_string())
        });
        let mark = p.mark_px.map_or("-".into(), decimal);
        let (funding, kind, next) = p.funding.map_or(("-".into(), "", "-".into()), |f| {
            let kind = if f.settled_ns == 0 {
                "estimate"
            } else {
                "settled"
            };
            (rate(f.rate_ppb), kind, time_of_day(f.next_funding_ns))
        });
        let name = display_name(book);
        let liqs = p.liquidations;
        let _ = writeln!(
            out,
            "{name:<14} {index:>14} {sources:>4} {mark:>14} {funding:>12} {kind:>8} {next:>12} \
             {liqs:>6}"
        );
    }
}

/// The screen: one line per instrument, the perpetuals' prices, then the feed's counters.
pub fn render(feed: &FeedHandler) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<14} {:>5} {:>14} {:>14} | {:<14} {:>14} {:>5} {:>14} {:>7}",
        "symbol", "#", "bid size", "bid", "ask", "ask size", "#", "last", "status"
    );
    for book in feed.books.values() {
        let (bid, ask) = book.l2.top();
        let side = |level: Option<(i64, crate::feed::LevelQty)>| match level {
            Some((px, q)) => (decimal(px), decimal(q.size), q.orders.to_string()),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let (bid_px, bid_size, bid_n) = side(bid);
        let (ask_px, ask_size, ask_n) = side(ask);
        let last = book.last_trade.map_or("-".into(), |t| decimal(t.px));
        let status = if book.halted { "HALTED" } else { "open" };
        let name = display_name(book);
        let _ = writeln!(
            out,
            "{name:<14} {bid_n:>5} {bid_size:>14} {bid_px:>14} | {ask_px:<14} {ask_size:>14} \
             {ask_n:>5} {last:>14} {status:>7}"
        );
    }
    render_perpetuals(feed, &mut out);
    let s = feed.stats;
    let _ = writeln!(
        out,
        "\nnext seq {:?} live {} | packets {} gaps {} recovered {} resyncs {} dups {} \
         engine seq {}",
        feed.expected(),
        feed.is_live(),
        s.packets,
        s.gaps,
        s.recovered_packets,
        s.resyncs,
        s.duplicates,
        feed.last_engine_seq
    );
    out
}

#[cfg(test)]
mod tests {
    use super::{decimal, rate, time_of_day};

    #[test]
    fn rates_have_nine_places_and_times_are_utc() {
        assert_eq!(rate(100_000), "0.0001");
        assert_eq!(rate(-7_500_000), "-0.0075");
        assert_eq!(time_of_day(1_700_000_000_000_000_000), "22:13:20");
    }

    #[test]
    fn decimals_drop_trailing_zeros() {
        assert_eq!(decimal(10_000_000_000_000), "100000");
        assert_eq!(decimal(150_000_000), "1.5");
        assert_eq!(decimal(1_000), "0.00001");
    }
}

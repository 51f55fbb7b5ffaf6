//! `--top`: a refreshing text view of each instrument's top of book.

use std::fmt::Write as _;

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

/// The screen: one line per instrument, then the feed's counters.
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
        let name = if book.symbol.is_empty() {
            book.security_id.to_string()
        } else {
            book.symbol.clone()
        };
        let _ = writeln!(
            out,
            "{name:<14} {bid_n:>5} {bid_size:>14} {bid_px:>14} | {ask_px:<14} {ask_size:>14} \
             {ask_n:>5} {last:>14} {status:>7}"
        );
    }
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
    use super::decimal;

    #[test]
    fn decimals_drop_trailing_zeros() {
        assert_eq!(decimal(10_000_000_000_000), "100000");
        assert_eq!(decimal(150_000_000), "1.5");
        assert_eq!(decimal(1_000), "0.00001");
    }
}

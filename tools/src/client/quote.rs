//! Market-maker toolkit requests: mass quotes, quote cancel, market maker protection.
//!
//! ```text
//! quote INSTRUMENT BIDQTY@BIDPX ASKQTY@ASKPX [id=QUOTEID] [set=QUOTESET] [mmp]
//! quote-cancel [INSTRUMENT]
//! mmp-config UNDERLYING window=MS qty=X delta=Y [frozen=MS]
//! mmp-reset UNDERLYING
//! ```
//!
//! A `quote` line sends a one-entry MassQuote. Without `id=` the quote id is the instrument's
//! SecurityID, so repeating a `quote` line for an instrument replaces that quote in place; a
//! size of 0 withdraws a side.

use exchange::protocol::codec::{
    Asset, ExecInst, GroupVec, MassQuote, MmpConfig, MmpReset, QuoteCancel, QuoteCancelType,
    QuoteEntriesEntry,
};

use super::decimal::{non_negative_mantissa, to_mantissa};
use super::request::{parse_uint, RequestError};

/// One two-sided quote: decimals as wire mantissas (× 1e-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteLine {
    /// Instrument.
    pub security_id: i32,
    /// QuoteEntryID.
    pub quote_id: u32,
    /// QuoteSetID.
    pub quote_set: u16,
    /// Bid size mantissa (0 withdraws the bid).
    pub bid_qty: i64,
    /// Bid price mantissa.
    pub bid_px: i64,
    /// Offer size mantissa (0 withdraws the offer).
    pub offer_qty: i64,
    /// Offer price mantissa.
    pub offer_px: i64,
    /// Covered by market maker protection.
    pub mmp: bool,
}

/// MMP parameters of an `mmp-config` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmpLine {
    /// BTC or ETH.
    pub underlying: Asset,
    /// Rolling window, ms.
    pub window_ms: u64,
    /// Quantity limit mantissa (the server refuses zero or negative).
    pub qty: i64,
    /// Delta limit mantissa (the server refuses zero or negative).
    pub delta: i64,
    /// Frozen period, ms (0: until reset).
    pub frozen_ms: u64,
}

/// `QTY@PRICE`: non-negative decimals.
///
/// # Errors
/// [`RequestError::QuoteSide`] without `@`, or a bad decimal.
pub fn parse_quote_side(text: &str) -> Result<(i64, i64), RequestError> {
    let (qty, price) = text
        .split_once('@')
        .ok_or_else(|| RequestError::QuoteSide(text.to_owned()))?;
    Ok((
        non_negative_mantissa("qty", qty)?,
        non_negative_mantissa("price", price)?,
    ))
}

/// Parses `window=MS qty=X delta=Y [frozen=MS]` words; the limits may be any decimal (the
/// venue's refusal of zero and negative limits is part of what a script can test).
///
/// # Errors
/// [`RequestError::MmpOption`] for an unknown, repeated or missing option, or a bad value.
pub fn parse_mmp_options(underlying: Asset, words: &[&str]) -> Result<MmpLine, RequestError> {
    let (mut window, mut qty, mut delta, mut frozen) = (None, None, None, None);
    for word in words {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| RequestError::MmpOption((*word).to_owned()))?;
        let slot_taken = match key.to_ascii_lowercase().as_str() {
            "window" => window
                .replace(parse_uint("window", value, u64::MAX / 1_000_000)?)
                .is_some(),
            "qty" => qty.replace(to_mantissa("qty", value)?).is_some(),
            "delta" => delta.replace(to_mantissa("delta", value)?).is_some(),
            "frozen" => frozen
                .replace(parse_uint("frozen", value, u64::MAX / 1_000_000)?)
                .is_some(),
            _ => true,
        };
        if slot_taken {
            return Err(RequestError::MmpOption((*word).to_owned()));
        }
    }
    let missing = |what: &str| RequestError::MmpOption(format!("missing {what}="));
    Ok(MmpLine {
        underlying,
        window_ms: window.ok_or_else(|| missing("window"))?,
        qty: qty.ok_or_else(|| missing("qty"))?,
        delta: delta.ok_or_else(|| missing("delta"))?,
        frozen_ms: frozen.unwrap_or(0),
    })
}

/// A one-entry MassQuote for `line`, with QuoteID `quote_id`.
pub fn mass_quote(quote_id: u64, line: &QuoteLine) -> MassQuote {
    let entry = QuoteEntriesEntry {
        quote_entry_id: line.quote_id,
        security_id: line.security_id,
        quote_set_id: line.quote_set,
        bid_px: line.bid_px,
        bid_size: line.bid_qty,
        offer_px: line.offer_px,
        offer_size: line.offer_qty,
    };
    let mut entries = GroupVec::new();
    // One entry always fits a group.
    let _ = entries.push(entry);
    MassQuote {
        quote_id,
        exec_inst: ExecInst::empty().with_mmp(line.mmp),
        no_quote_entries: entries,
    }
}

/// QuoteCancel for one instrument, or all quotes.
pub fn quote_cancel(quote_id: u64, security_id: Option<i32>) -> QuoteCancel {
    QuoteCancel {
        quote_id,
        quote_cancel_type: match security_id {
            Some(_) => QuoteCancelType::CancelForSecurity,
            None => QuoteCancelType::CancelAllQuotes,
        },
        security_id,
        quote_set_id: None,
    }
}

/// MmpConfig for `line`.
pub fn mmp_config(mmp_req_id: u64, line: &MmpLine) -> MmpConfig {
    MmpConfig {
        mmp_req_id,
        underlying: line.underlying,
        mmp_window: line.window_ms,
        mmp_qty_limit: line.qty,
        mmp_delta_limit: line.delta,
        mmp_frozen_time: line.frozen_ms,
    }
}

/// MmpReset of `underlying`.
pub fn mmp_reset(mmp_req_id: u64, underlying: Asset) -> MmpReset {
    MmpReset {
        mmp_req_id,
        underlying,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_side_is_qty_at_price() {
        assert_eq!(
            parse_quote_side("0.5@100000.5").unwrap(),
            (50_000_000, 10_000_050_000_000)
        );
        assert_eq!(parse_quote_side("0@0").unwrap(), (0, 0));
        assert!(parse_quote_side("0.5").is_err());
        assert!(parse_quote_side("-1@5").is_err());
    }

    #[test]
    fn mmp_options_need_window_qty_and_delta() {
        let line = parse_mmp_options(Asset::Btc, &["window=1000", "qty=2", "delta=-1"]).unwrap();
        assert_eq!(line.window_ms, 1_000);
        assert_eq!(line.qty, 200_000_000);
        assert_eq!(line.delta, -100_000_000);
        assert_eq!(line.frozen_ms, 0);
        assert!(parse_mmp_options(Asset::Btc, &["window=1", "qty=1"]).is_err());
        assert!(parse_mmp_options(Asset::Btc, &["window=1", "window=2"]).is_err());
        assert!(parse_mmp_options(Asset::Btc, &["speed=1"]).is_err());
    }
}

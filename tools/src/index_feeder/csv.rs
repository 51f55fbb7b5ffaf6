//! Replay of recorded constituent prices from a CSV file.
//!
//! Format, one price per row (see [`CSV_FORMAT`]):
//!
//! ```text
//! time_offset_ms,symbol,source_id,price
//! 0,BTC-USD-PERP,1,100000.5
//! 0,BTC-USD-PERP,2,100001
//! 0,BTC-USD-PERP,3,99999.25
//! 1000,BTC-USD-PERP,1,100010
//! ```
//!
//! Rows with the same offset and instrument form one IndexConstituents message, published
//! `time_offset_ms` after the start of the run (divided by the replay speed). Offsets must not
//! decrease. The file is replayed as written: a row the venue will refuse (a negative price, a
//! repeated source, fewer than 3 sources) is still sent, and its AdminReject says why.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use super::error::FeederError;
use super::source::{SourcePrice, Update, UpdateSource};
use crate::client::{parse_instrument, to_mantissa, Reference};
use exchange::protocol::codec::GROUP_ENTRIES_MAX;

/// The file format, for `--help`.
pub const CSV_FORMAT: &str = "\
CSV replay (--csv FILE): one constituent price per line,
  time_offset_ms,symbol,source_id,price
e.g. `0,BTC-USD-PERP,1,100000.5`. A header line is optional; blank lines and lines starting
with # are ignored. time_offset_ms counts from the start of the run and must not decrease;
rows with the same time_offset_ms and symbol (a symbol or a SecurityID) form one update.
source_id is 0..=65535, price a decimal in USD (at most 8 places). Each update is published
at its offset divided by --speed, stamped with the current time.";

/// Most price rows a file may hold (they are read into memory before the session starts).
pub const CSV_ROWS_MAX: usize = 1_000_000;
/// Largest file read: room for [`CSV_ROWS_MAX`] rows of ~60 bytes and comments.
const CSV_BYTES_MAX: u64 = 128 << 20;
/// Largest offset, about three years: offsets divided by the slowest speed stay far inside
/// the range of the monotonic clock.
const OFFSET_MS_MAX: u64 = 100_000_000_000;
/// Slowest and fastest replay speeds.
const SPEED_MIN: f64 = 0.001;
const SPEED_MAX: f64 = 1_000_000.0;

/// One update read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvUpdate {
    /// Line of its first row, for messages.
    pub line: usize,
    /// `time_offset_ms` of its rows.
    pub offset_ms: u64,
    /// The instrument.
    pub security_id: i32,
    /// Its constituents, in file order.
    pub prices: Vec<SourcePrice>,
}

/// Reads and parses the price file at `path`.
///
/// # Errors
/// [`FeederError::CsvRead`] (unreadable, not UTF-8 or larger than 128 MiB), or those of
/// [`parse_csv`].
pub fn read_csv(path: &Path, reference: &Reference) -> Result<Vec<CsvUpdate>, FeederError> {
    let read_error = |source| FeederError::CsvRead {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut text = String::new();
    file.take(CSV_BYTES_MAX + 1)
        .read_to_string(&mut text)
        .map_err(read_error)?;
    if text.len() as u64 > CSV_BYTES_MAX {
        let too_large = std::io::Error::other("larger than 128 MiB; split the file");
        return Err(read_error(too_large));
    }
    parse_csv(&text, reference)
}

/// Parses a price file into updates in publication order.
///
/// # Errors
/// [`FeederError::CsvLine`] naming the line of the first malformed row,
/// [`FeederError::CsvEmpty`] or [`FeederError::CsvTooLong`].
pub fn parse_csv(text: &str, reference: &Reference) -> Result<Vec<CsvUpdate>, FeederError> {
    let mut updates: Vec<CsvUpdate> = Vec::new();
    // Updates from here on share the offset of the last row.
    let mut block_start = 0;
    let mut rows = 0;
    let mut first_content = true;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let is_first = std::mem::replace(&mut first_content, false);
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        if is_first && fields[0].parse::<u64>().is_err() {
            continue; // the header
        }
        let row = parse_row(line, &fields, reference)?;
        rows += 1;
        if rows > CSV_ROWS_MAX {
            return Err(FeederError::CsvTooLong { max: CSV_ROWS_MAX });
        }
        let previous_ms = updates.last().map(|u| u.offset_ms);
        if previous_ms.is_some_and(|previous| row.offset_ms < previous) {
            return Err(csv_line(
                line,
                format!(
                    "time_offset_ms {} is before the previous row's {}; rows must be in time \
                     order",
                    row.offset_ms,
                    previous_ms.unwrap_or_default()
                ),
            ));
        }
        if previous_ms != Some(row.offset_ms) {
            block_start = updates.len();
        }
        if let Some(update) = add_row(&mut updates[block_start..], row, line)? {
            updates.push(update);
        }
    }
    if updates.is_empty() {
        return Err(FeederError::CsvEmpty);
    }
    Ok(updates)
}

/// One parsed row.
struct Row {
    offset_ms: u64,
    security_id: i32,
    price: SourcePrice,
}

fn parse_row(line: usize, fields: &[&str], reference: &Reference) -> Result<Row, FeederError> {
    let [offset, symbol, source, price] = fields else {
        return Err(csv_line(
            line,
            format!(
                "expected 4 fields time_offset_ms,symbol,source_id,price; found {}",
                fields.len()
            ),
        ));
    };
    let offset_ms = offset
        .parse::<u64>()
        .ok()
        .filter(|ms| *ms <= OFFSET_MS_MAX)
        .ok_or_else(|| {
            let what =
                format!("time_offset_ms {offset:?} is not a whole number 0..={OFFSET_MS_MAX}");
            csv_line(line, what)
        })?;
    let security_id =
        parse_instrument(reference, symbol).map_err(|e| csv_line(line, e.to_string()))?;
    let source_id = source.parse::<u16>().map_err(|_| {
        csv_line(
            line,
            format!("source_id {source:?} is not a whole number 0..=65535"),
        )
    })?;
    let price_units = to_mantissa("price", price).map_err(|e| csv_line(line, e.to_string()))?;
    Ok(Row {
        offset_ms,
        security_id,
        price: SourcePrice {
            source_id,
            price_units,
        },
    })
}

/// Adds `row` to the update of its instrument among `block` (the updates at its offset), or
/// returns a new update for it.
fn add_row(
    block: &mut [CsvUpdate],
    row: Row,
    line: usize,
) -> Result<Option<CsvUpdate>, FeederError> {
    let Some(update) = block.iter_mut().find(|u| u.security_id == row.security_id) else {
        return Ok(Some(CsvUpdate {
            line,
            offset_ms: row.offset_ms,
            security_id: row.security_id,
            prices: vec![row.price],
        }));
    };
    if update.prices.len() == GROUP_ENTRIES_MAX {
        let what = format!(
            "more than {GROUP_ENTRIES_MAX} prices for SecurityID {} at {} ms (from line {}); \
             one message carries at most {GROUP_ENTRIES_MAX}",
            row.security_id, row.offset_ms, update.line
        );
        return Err(csv_line(line, what));
    }
    update.prices.push(row.price);
    Ok(None)
}

fn csv_line(line: usize, what: String) -> FeederError {
    FeederError::CsvLine { line, what }
}

/// Replays parsed updates at `time_offset_ms / speed` after the start.
#[derive(Debug, Clone)]
pub struct CsvReplay {
    updates: std::vec::IntoIter<CsvUpdate>,
    speed: f64,
}

impl CsvReplay {
    /// A replay of `updates` at `speed` times the recorded pace.
    ///
    /// # Errors
    /// [`FeederError::Parameter`] for a speed outside [0.001, 1000000].
    pub fn new(updates: Vec<CsvUpdate>, speed: f64) -> Result<CsvReplay, FeederError> {
        if !(SPEED_MIN..=SPEED_MAX).contains(&speed) {
            return Err(FeederError::Parameter {
                name: "--speed",
                value: speed,
                range: "[0.001, 1000000]",
            });
        }
        Ok(CsvReplay {
            updates: updates.into_iter(),
            speed,
        })
    }
}

impl UpdateSource for CsvReplay {
    fn next_update(&mut self) -> Option<Update> {
        let update = self.updates.next()?;
        // Bounded offsets and speeds keep this finite and far below Duration's range.
        let due = Duration::from_secs_f64(update.offset_ms as f64 / 1000.0 / self.speed);
        Some(Update {
            due,
            security_id: update.security_id,
            prices: update.prices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<CsvUpdate>, FeederError> {
        parse_csv(text, &Reference::from_default_config())
    }

    fn line_error(text: &str) -> (usize, String) {
        match parse(text) {
            Err(FeederError::CsvLine { line, what }) => (line, what),
            other => panic!("{other:?}"),
        }
    }

    fn price(source_id: u16, price_units: i64) -> SourcePrice {
        SourcePrice {
            source_id,
            price_units,
        }
    }

    #[test]
    fn rows_group_by_offset_and_instrument() {
        let text = "time_offset_ms,symbol,source_id,price\n\
                    0,BTC-USD-PERP,1,100000.5\n\
                    0,4,1,3000\n\
                    0,BTC-USD-PERP,2,100001\n\
                    \n# a comment\n\
                    250,btc-usd-perp,1,99999.99999999\r\n";
        let updates = parse(text).expect("valid");
        assert_eq!(updates.len(), 3);
        assert_eq!(updates[0].security_id, 3);
        assert_eq!(
            updates[0].prices,
            [price(1, 10_000_050_000_000), price(2, 10_000_100_000_000)]
        );
        assert_eq!((updates[1].security_id, updates[1].line), (4, 3));
        assert_eq!(updates[2].offset_ms, 250);
        assert_eq!(updates[2].prices, [price(1, 9_999_999_999_999)]);
    }

    #[test]
    fn the_header_is_optional() {
        assert_eq!(parse("0,3,1,1\n").expect("valid").len(), 1);
        let (line, what) = line_error("0,3,1,1\nx,3,1,1\n");
        assert_eq!(line, 2, "{what}");
    }

    #[test]
    fn malformed_rows_name_their_line() {
        let (line, what) = line_error("0,3,1,1\n0,3,2\n");
        assert_eq!(line, 2);
        assert!(what.contains("found 3"), "{what}");
        let (_, what) = line_error("0,DOGE-USD,1,1\n");
        assert!(what.contains("DOGE-USD"), "{what}");
        let (_, what) = line_error("0,3,70000,1\n");
        assert!(what.contains("70000"), "{what}");
        let (_, what) = line_error("0,3,1,1.123456789\n");
        assert!(what.contains("8"), "{what}");
        let (line, what) = line_error("10,3,1,1\n5,3,1,1\n");
        assert_eq!(line, 2);
        assert!(what.contains("time order"), "{what}");
    }

    #[test]
    fn the_venue_judges_prices_it_refuses() {
        let updates = parse("0,3,1,-5\n0,3,1,0\n").expect("replayed as written");
        assert_eq!(updates[0].prices, [price(1, -500_000_000), price(1, 0)]);
    }

    #[test]
    fn one_update_carries_at_most_sixteen_prices() {
        let rows: String = (1..=17).map(|i| format!("0,3,{i},1\n")).collect();
        let (line, what) = line_error(&rows);
        assert_eq!(line, 17);
        assert!(what.contains("at most 16"), "{what}");
    }

    #[test]
    fn a_file_without_rows_is_refused() {
        assert!(matches!(
            parse("offset,symbol,source,price\n# none\n"),
            Err(FeederError::CsvEmpty)
        ));
    }

    #[test]
    fn replay_spaces_updates_by_offset_over_speed() {
        let updates = parse("0,3,1,1\n1000,3,1,1\n3000,3,1,1\n").expect("valid");
        let mut replay = CsvReplay::new(updates, 2.0).expect("valid speed");
        let dues: Vec<Duration> =
            std::iter::from_fn(|| replay.next_update().map(|u| u.due)).collect();
        assert_eq!(dues, [0, 500, 1500].map(Duration::from_millis));
        assert!(CsvReplay::new(Vec::new(), 0.0).is_err());
        assert!(CsvReplay::new(Vec::new(), f64::NAN).is_err());
    }
}

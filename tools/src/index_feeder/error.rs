//! Errors of the index feeder: bad parameters or price files (found before anything is sent)
//! and failures of the session.

use exchange::config::ConfigError;
use thiserror::Error;

use crate::client::{ClientError, DecimalError, RequestError};

/// Why the feeder cannot start or could not go on.
#[derive(Debug, Error)]
pub enum FeederError {
    /// A random-walk parameter outside the range that keeps prices positive and sensible.
    #[error("{name} {value} is outside {range}")]
    Parameter {
        /// Flag name.
        name: &'static str,
        /// Value given.
        value: f64,
        /// Accepted range, as text.
        range: &'static str,
    },
    /// An instrument argument names no instrument.
    #[error(transparent)]
    Instrument(#[from] RequestError),
    /// Index constituents only make sense for perpetuals.
    #[error(
        "{symbol} (SecurityID {security_id}) is {kind}, not a perpetual; feed one of: {perps}"
    )]
    NotPerpetual {
        /// Symbol given.
        symbol: String,
        /// Its SecurityID.
        security_id: i32,
        /// Its kind in the configuration.
        kind: String,
        /// The configured perpetuals.
        perps: String,
    },
    /// The configuration has no perpetual to feed by default.
    #[error("the configuration has no perpetual instrument; name one with --instrument")]
    NoPerpetuals,
    /// No start price for an instrument the configuration does not know.
    #[error("no start price for SecurityID {security_id}: give --start-price {security_id}=PRICE")]
    NoStartPrice {
        /// The instrument.
        security_id: i32,
    },
    /// A `--start-price` argument is not `INSTRUMENT=PRICE`.
    #[error("--start-price {text:?} is not INSTRUMENT=PRICE (e.g. BTC-USD-PERP=100000)")]
    StartPriceSyntax {
        /// Text given.
        text: String,
    },
    /// A start price that is not a positive decimal with at most 8 places.
    #[error("--start-price: {0}")]
    StartPrice(DecimalError),
    /// A configured reference price that does not convert to wire units.
    #[error("reference price of {symbol} in the configuration: {what}")]
    ReferencePrice {
        /// Instrument.
        symbol: String,
        /// What is wrong.
        what: String,
    },
    /// The `--config` file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The CSV file could not be read.
    #[error("cannot read {path}: {source}")]
    CsvRead {
        /// File given.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A CSV line that is not `time_offset_ms,symbol,source_id,price`.
    #[error("line {line}: {what}")]
    CsvLine {
        /// 1-based line number.
        line: usize,
        /// What is wrong, with the offending text.
        what: String,
    },
    /// A CSV file without a single row.
    #[error("no price rows (expected time_offset_ms,symbol,source_id,price lines)")]
    CsvEmpty,
    /// A CSV file longer than the feeder holds in memory.
    #[error("more than {max} price rows; split the file")]
    CsvTooLong {
        /// The limit.
        max: usize,
    },
    /// An update due later than this machine's monotonic clock can represent.
    #[error("an update due {due_ms} ms after the start is beyond the clock's range")]
    Schedule {
        /// Its offset.
        due_ms: u128,
    },
    /// The session failed.
    #[error(transparent)]
    Client(#[from] ClientError),
}

//! The index feeder: publishes perpetual index constituents over an operator session.
//!
//! Prices come from an [`UpdateSource`]: a seeded random walk per instrument
//! ([`WalkSource`]) or a replayed CSV file ([`CsvReplay`]). The [`run`] loop sends each update
//! as an IndexConstituents message when it is due and counts the venue's AdminAck and
//! AdminReject answers.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use exchange_tools::client::Client;
//! use exchange_tools::index_feeder::{run, FeedOptions, RandomWalk, WalkParams, WalkSource};
//!
//! let client = Client::connect("127.0.0.1:9100", "ADMIN", "admin-demo-key")?;
//! let walk = RandomWalk::new(7, 3, 100_000 * 100_000_000, WalkParams::default())?;
//! let mut source = WalkSource::new(vec![walk], std::time::Duration::from_secs(1));
//! let options = FeedOptions { count: 5, ..FeedOptions::default() };
//! let summary = run(client, &mut source, &options, &AtomicBool::new(false), &mut |_| {});
//! println!("{} acknowledged", summary.acked);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod csv;
mod error;
mod instruments;
mod report;
mod rng;
mod runner;
mod source;
mod walk;

pub use csv::{parse_csv, read_csv, CsvReplay, CsvUpdate, CSV_FORMAT, CSV_ROWS_MAX};
pub use error::FeederError;
pub use instruments::{resolve, start_prices, Target};
pub use report::{sent_json, sent_text};
pub use rng::SplitMix64;
pub use runner::{run, Answer, FeedEvent, FeedOptions, FeedSummary};
pub use source::{SourcePrice, Update, UpdateSource};
pub use walk::{RandomWalk, WalkParams, WalkSource, SOURCES_DEFAULT, SOURCES_MAX, SOURCES_MIN};

//! The order index: what makes `order-history` for one order fast on a long journal.
//!
//! The journal holds only inbound messages, so an order's history exists only as the events of
//! re-running the engine. A full scan re-runs everything before the order; the index instead
//! cuts the journal into segments of a fixed number of records and keeps, per segment, the
//! engine snapshot at its start and sorted tables of the orders its records concern (first
//! and last record, and whether the order ended) and of the ClOrdIDs they first use. A query
//! finds the order's segments by binary search and replays only from the start of those
//! segments to the order's end, with the scan's own matcher: same lines, a fraction of the
//! work.
//!
//! Why snapshots per segment rather than storing the history itself: events are only
//! trustworthy as the engine's output, digests verified on the way; a stored copy would be a
//! second truth to keep in step with the engine's. Snapshots bound the replay per query to one
//! segment and cost ~1.6 MB each; the tables cost 40 bytes per order.
//!
//! Files live in `JOURNAL/order-index/` ([`manifest`]); a query brings the index up to date
//! before answering, so it never answers from a stale one ([`build`]).

pub mod build;
pub mod error;
pub mod manifest;
pub mod query;
pub mod segment;

pub use build::{build_index, BuildReport, IndexOptions, SEGMENT_RECORDS_DEFAULT};
pub use error::IndexError;
pub use manifest::INDEX_DIR;
pub use query::{open_index, Index};
pub use segment::SEGMENT_RECORDS_MAX;

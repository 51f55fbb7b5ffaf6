//! Shared helpers for the command-line tools.

pub mod client;
pub mod exchange_decoder;
pub mod feed;
pub mod index_feeder;
pub mod journal_cli;
pub mod order_history;
pub mod order_index;
pub mod order_stream;
pub mod replay;
pub mod scenario;
pub mod surveil;
pub mod tape;

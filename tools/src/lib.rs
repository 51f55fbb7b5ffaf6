//! Shared helpers for the command-line tools.

pub mod client;
pub mod journal_cli;

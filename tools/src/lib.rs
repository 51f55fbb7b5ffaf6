//! Shared helpers for the command-line tools.

pub mod feed;
pub mod journal_cli;

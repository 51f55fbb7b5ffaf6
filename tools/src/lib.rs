//! Shared helpers for the command-line tools.

pub mod journal_cli;

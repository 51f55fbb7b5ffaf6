//! A regulated-grade BTC/ETH exchange core.

pub mod protocol;

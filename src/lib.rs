//! A regulated-grade BTC/ETH exchange core.

//! The journal: an append-only write-ahead log in preallocated, memory-mapped segments.
//!
//! This crate knows nothing of the exchange; the sequencer writes it and the tools read it.

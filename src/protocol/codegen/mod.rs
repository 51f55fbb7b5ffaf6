//! Build-time generator of the SBE codecs from `schema.xml`.
//!
//! This directory is compiled into the package build script (`build.rs`), not into the library:
//! the library includes the Rust source it produces (see `codec/generated.rs`). Keeping the
//! generator next to the schema and the runtime codec keeps the protocol in one folder.

mod emit;
mod emit_message;
mod error;
mod model;
mod names;
mod parse;

pub use emit::generate;

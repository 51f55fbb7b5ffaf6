//! The market maker's (and operator's) client: a FIXP session over TCP, request builders from
//! decimal text, the `--script` language, and rendering of replies as JSON lines or text.
//!
//! ```no_run
//! use std::time::Duration;
//! use exchange::protocol::codec::Side;
//! use exchange_tools::client::{limit_order, Client, Reference};
//!
//! let mut client = Client::connect("127.0.0.1:9100", "MM1", "mm1-demo-key")?;
//! let reference = Reference::from_default_config();
//! client.send(&limit_order(&reference, 1, Side::Buy, "BTC-USD", "0.5", "99000")?)?;
//! while let Some(reply) = client.recv(Duration::from_secs(1))? {
//!     println!("{:?}", reply.message);
//! }
//! client.terminate()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod connection;
mod decimal;
mod error;
mod outstanding;
mod quote;
mod reference;
mod render;
mod request;
mod runner;
mod script;

pub use connection::{now_ns, Client, ClientConfig, Handshake, Received, Terminated};
pub use decimal::{
    from_mantissa, non_negative_mantissa, positive_mantissa, to_mantissa, DecimalError, WIRE_SCALE,
};
pub use error::ClientError;
pub use outstanding::{Awaiting, Outstanding};
pub use quote::{
    mass_quote, mmp_config, mmp_reset, parse_mmp_options, parse_quote_side, quote_cancel, MmpLine,
    QuoteLine,
};
pub use reference::Reference;
pub use render::{message_name, render, Rendered, Value};
pub use request::*;
pub use runner::{is_heartbeat, run, RunOptions, RunSummary};
pub use script::{
    parse_line, parse_script, LineError, ScriptError, ScriptLine, SCRIPT_LINES_MAX, SLEEP_MS_MAX,
};

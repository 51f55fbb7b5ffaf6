//! Configuration: TOML, with an embedded default that `cargo run --release` uses.

mod decimal;
mod file;
mod margin;
mod marketdata;
mod perp;

pub use decimal::{decimal_to_units, DecimalError};
pub use file::{
    AccountConfig, Config, ConfigError, EngineConfig, InstrumentConfig, MmObligationConfig,
    ServerConfig,
};
pub use margin::MarginConfig;
pub use marketdata::{MarketDataConfig, PACKET_BYTES_LIMIT};
pub use perp::{PerpConfig, RiskConfig, TierConfig};

/// The embedded default configuration (four instruments, five demo sessions).
pub const DEFAULT_TOML: &str = include_str!("default.toml");

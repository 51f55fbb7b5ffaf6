//! Surveillance off the journal: the journal is re-run through the engine (see
//! [`crate::tape`]) and each record's events go through one detector per kind of abuse.

pub mod affiliate_house;
pub mod alert;
pub mod detector;
pub mod mm_obligation;
pub mod ownership;
pub mod quote_stuffing;
pub mod run;
pub mod spoofing;
pub mod thresholds;
pub mod wash_trade;

pub use alert::{Alert, AlertKind};
pub use run::{surveil, SurveilOptions, SurveilReport};
pub use thresholds::Thresholds;

//! `scenario-gen`: a journal of clean activity with seeded abusive patterns, and the manifest
//! of what was seeded, to test `surveil` against (and to make big journals for benchmarks).

pub mod generator;
pub mod journal;
pub mod messages;

pub use generator::{generate, ScenarioOptions, ScenarioReport, Seeded};
pub use journal::{ScenarioError, SyntheticJournal};

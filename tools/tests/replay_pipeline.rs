//! `replay` reads and decodes on one thread and applies on another. It must end exactly where
//! applying every record in one thread through `Core::apply` ends.

use std::path::PathBuf;

use exchange::config::Config;
use exchange::engine::event::CountingSink;
use exchange::engine::snapshot::fingerprint;
use exchange::engine::Engine;
use exchange::sequencer::{Core, Outcome, Prepared};
use exchange_tools::replay::{replay, ReplayOptions};
use exchange_tools::scenario::{generate, ScenarioOptions};
use journal::JournalReader;

/// A fresh directory holding a scenario journal written with the default configuration.
fn scenario_journal(name: &str, seed: u64, ticks: u64) -> (PathBuf, Config) {
    let dir = std::env::temp_dir().join(format!("replay-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = Config::default_config();
    generate(&dir, &config, &ScenarioOptions { seed, ticks }).expect("scenario journal");
    (dir, config)
}

/// Applies every record in this thread; returns (records, digests verified, final digest).
fn apply_in_one_thread(config: &Config, dir: &PathBuf) -> (u64, u64, u64) {
    let specs = config.instrument_specs().expect("specs");
    let limits = config.engine_limits();
    let print = fingerprint(&specs, &limits);
    let mut core = Core::new(Engine::new(specs, limits).expect("engine"), print);
    let mut reader = JournalReader::open(dir).expect("reader");
    let mut sink = CountingSink::default();
    let (mut records, mut digests) = (0, 0);
    while let Some(record) = reader.next().expect("record") {
        let outcome = core
            .apply(&record.header, record.payload, &mut sink)
            .expect("applies");
        if outcome == Outcome::DigestVerified {
            digests += 1;
        }
        records += 1;
    }
    (records, digests, core.engine.digest())
}

#[test]
fn two_thread_replay_ends_where_one_thread_ends() {
    // About 27K records: many more than the batches in flight between the two threads, so
    // the reading thread fills them all and waits, over and over.
    let (dir, config) = scenario_journal("pipeline", 11, 3_000);
    let (records, digests, digest) = apply_in_one_thread(&config, &dir);
    assert!(records > 20_000, "only {records} records");
    let report = replay(
        &config,
        &ReplayOptions {
            journal_dir: dir.clone(),
            from_zero: true,
            allow_torn_tail: false,
        },
    )
    .expect("replay");
    assert_eq!(report.records, records);
    assert_eq!(report.last_seq, records);
    assert_eq!(report.digests_verified, digests);
    assert!(digests > 0);
    assert_eq!(report.final_digest, digest);
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// Records prepared with the configured specs (on the reading thread) are prepared exactly as
/// with the engine's own (on the live path): same commands, same refusals.
#[test]
fn preparing_with_configured_specs_equals_preparing_with_the_engine() {
    let (dir, config) = scenario_journal("prepare", 5, 600);
    let specs = config.instrument_specs().expect("specs");
    let engine = Engine::new(specs.clone(), config.engine_limits()).expect("engine");
    let mut reader = JournalReader::open(&dir).expect("reader");
    let mut orders = 0;
    while let Some(record) = reader.next().expect("record") {
        let with_specs = Prepared::of(&record.header, record.payload, specs.as_slice());
        let with_engine = Prepared::of(&record.header, record.payload, &engine);
        assert_eq!(with_specs, with_engine, "record {}", record.header.seq);
        if !with_specs.needs_payload() {
            orders += 1;
        }
    }
    assert!(orders > 1_000, "only {orders} order messages");
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

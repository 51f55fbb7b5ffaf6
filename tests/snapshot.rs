//! Snapshot restore refuses damaged, foreign or mismatched snapshots with a clear error.

mod common;

use common::*;
use exchange::config::Config;
use exchange::engine::snapshot::SnapshotError;
use exchange::engine::{Engine, Side};

fn snapshot_with_orders() -> (Harness, Vec<u8>) {
    let mut h = Harness::new();
    h.place(limit(MM1, Side::Buy, REF - 5, 10, 1));
    h.place(limit(MM2, Side::Sell, REF + 5, 10, 2));
    let mut bytes = Vec::new();
    h.engine.snapshot(&mut bytes);
    (h, bytes)
}

fn restore(h: &Harness, bytes: &[u8]) -> Result<Engine, SnapshotError> {
    let specs = Config::default_config().instrument_specs().unwrap();
    Engine::restore(specs, *h.engine.limits(), bytes)
}

#[test]
fn restored_engine_has_the_same_digest_and_orders() {
    let (h, bytes) = snapshot_with_orders();
    let restored = restore(&h, &bytes).unwrap();
    assert_eq!(restored.digest(), h.engine.digest());
    assert_eq!(restored.live_orders(), 2);
}

#[test]
fn truncated_snapshot_is_refused() {
    let (h, bytes) = snapshot_with_orders();
    let err = restore(&h, &bytes[..bytes.len() - 3]).err().unwrap();
    assert!(matches!(err, SnapshotError::Truncated { .. }), "{err}");
}

#[test]
fn foreign_bytes_and_other_versions_are_refused() {
    let (h, mut bytes) = snapshot_with_orders();
    let err = restore(&h, b"not a snapshot at all").err().unwrap();
    assert!(matches!(err, SnapshotError::Magic { .. }), "{err}");
    bytes[8] = 99;
    let err = restore(&h, &bytes).err().unwrap();
    assert!(matches!(err, SnapshotError::Version { found: 99 }), "{err}");
}

#[test]
fn snapshot_of_other_limits_is_refused() {
    let (h, bytes) = snapshot_with_orders();
    let specs = Config::default_config().instrument_specs().unwrap();
    let mut limits = *h.engine.limits();
    limits.max_orders += 1;
    let err = Engine::restore(specs, limits, &bytes).err().unwrap();
    assert!(matches!(err, SnapshotError::Fingerprint { .. }), "{err}");
}

#!/usr/bin/env bash
# Runs each fuzz target for a bounded time: ./fuzz/run.sh SECONDS (default 60).
# Uses the nightly toolchain (cargo-fuzz needs -Z flags); installs cargo-fuzz if missing.
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "run.sh: cargo-fuzz not found; installing it (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
# Seeds from the codec's sample messages (kept in corpus/, which libFuzzer also grows).
cargo +nightly run --quiet --release --bin seed-corpus -- "$here/corpus"
status=0
for target in decode frames; do
    echo "run.sh: fuzzing $target for ${seconds}s"
    if ! cargo +nightly fuzz run "$target" "$here/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -print_final_stats=1; then
        echo "run.sh: $target FAILED (crash artifacts in $here/artifacts/$target)"
        status=1
    fi
done
exit "$status"

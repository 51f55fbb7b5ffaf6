#!/usr/bin/env bash
# Creates the Python environment of the market-data interoperability test
# (tests/marketdata_sbedecoder.rs): a virtualenv with the PyPI package sbedecoder (its MDP
# decoder) and its dependencies (lxml, dpkt). Idempotent; the test runs it, so CI needs no
# extra step. Location: $PYENV_DIR, default <repo>/target/pyenv.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
env="${PYENV_DIR:-$root/target/pyenv}"
if [ -x "$env/bin/python" ] && "$env/bin/python" -c "import sbedecoder, dpkt" 2>/dev/null; then
    exit 0
fi
python3 -m venv "$env"
"$env/bin/pip" install --quiet --disable-pip-version-check "sbedecoder==0.1.10"
"$env/bin/python" -c "import sbedecoder, dpkt"

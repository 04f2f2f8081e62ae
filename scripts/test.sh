#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (the Tansu broker,
# into a cache outside the repository, reused when present), then checks formatting, lints and
# runs every test, the real-broker ones included.
set -euo pipefail
cd "$(dirname "$0")/.."

RECKON_TANSU_BIN="$(scripts/install-tansu.sh)"
export RECKON_TANSU_BIN
RECKON_PROMETHEUS_BIN="$(scripts/install-prometheus.sh)"
export RECKON_PROMETHEUS_BIN

# A CI run builds once from scratch: incremental caches would only add ~1.6 GB of disk.
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
fi

scripts/check-deploy.sh
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --all-targets --locked

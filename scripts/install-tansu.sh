#!/usr/bin/env bash
# Installs the Tansu broker used by the real-broker tests into a cache directory outside the
# repository, and reuses it when it is already there. Prints the path of the tansu binary.
set -euo pipefail
TANSU_VERSION="${TANSU_VERSION:-0.6.0}"
TOOLS_DIR="${RECKON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reckon-tools}"
bin="$TOOLS_DIR/tansu-$TANSU_VERSION/bin/tansu"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$TOOLS_DIR"
echo "installing tansu $TANSU_VERSION into $TOOLS_DIR (about 8 minutes on 2 cores, once)" >&2
# dynostore gives the memory:// storage engine the tests use.
cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore \
  --root "$TOOLS_DIR/tansu-$TANSU_VERSION" >&2
echo "$bin"

#!/usr/bin/env bash
# Builds `fold_profile` at REV and prints the binary's path, for the side-by-side scripts
# (`ab-fold.sh`, `fold-cost.sh`). The build lives in a worktree outside the repository with its
# own target directory, kept for the next comparison; the working tree's
# examples/fold_profile.rs is used, so REV needs only the same `Engine::fold`, and both builds
# measure the same workload.
#
#   scripts/fold-profile-at.sh REV
set -euo pipefail
cd "$(dirname "$0")/.."

rev="${1:?usage: scripts/fold-profile-at.sh REV}"
base="${TMPDIR:-/tmp}/reckon-ab-$(git rev-parse --short "$rev")"
if [ ! -d "$base" ]; then
  git worktree add --detach "$base" "$rev" >/dev/null
fi
cp examples/fold_profile.rs "$base/examples/fold_profile.rs"
CARGO_TARGET_DIR="$base-target" cargo build --quiet --release --example fold_profile \
  --manifest-path "$base/Cargo.toml" >&2
echo "$base-target/release/examples/fold_profile"

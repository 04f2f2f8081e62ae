#!/usr/bin/env bash
# Compares the fold's speed at two revisions side by side, for machines too noisy for one
# criterion run: builds `fold_profile` at REV (`fold-profile-at.sh`) and in the working tree,
# runs the two one after the other RUNS times, and prints each one's median and best reports/s.
#
#   scripts/ab-fold.sh REV [RUNS] [MODE] [INCIDENTS]
#
# MODE is `decoded` (every report decoded first, as the criterion benchmark does; the default)
# or `interleaved` (each report decoded just before it is folded). The examples/fold_profile.rs
# of the working tree is used for both builds, so REV needs only the same `Engine::fold`.
set -euo pipefail
cd "$(dirname "$0")/.."

rev="${1:?usage: scripts/ab-fold.sh REV [RUNS] [decoded|interleaved] [INCIDENTS]}"
runs="${2:-15}"
mode="${3:-decoded}"
incidents="${4:-20000}"
case "$mode" in
  decoded) arg=decoded ;;
  interleaved) arg="" ;;
  *) echo "MODE is decoded or interleaved, not $mode" >&2; exit 2 ;;
esac

base_bin="$(scripts/fold-profile-at.sh "$rev")"
cargo build --quiet --release --example fold_profile

speed() { "$1" "$incidents" $arg | grep -o 'fold [0-9]*' | cut -d' ' -f2; }
summary() { sort -n | awk -v who="$1" '{v[NR]=$1} END {printf "%-8s median %d  best %d  (%d runs)\n", who, v[int((NR+1)/2)], v[NR], NR}'; }

a="$(mktemp)"
b="$(mktemp)"
trap 'rm -f "$a" "$b"' EXIT
for _ in $(seq "$runs"); do
  speed "$base_bin" >>"$a"
  speed target/release/examples/fold_profile >>"$b"
done
summary "$rev" <"$a"
summary "now" <"$b"

#!/usr/bin/env bash
# Compares the fold's speed at two revisions side by side, for machines too noisy for one
# criterion run: builds `fold_profile` at REV (`fold-profile-at.sh`) and in the working tree,
# runs the two one after the other RUNS times (alternating which goes first), and prints each
# one's median and best reports/s.
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
now_bin="${CARGO_TARGET_DIR:-target}/release/examples/fold_profile"

# The figure of the result line only ("fold N reports/s"), not the allocation count's line.
speed() { "$1" "$incidents" $arg | grep -o 'fold [0-9]* reports/s' | cut -d' ' -f2; }
summary() { sort -n | awk -v who="$1" '{v[NR]=$1} END {printf "%-8s median %d  best %d  (%d runs)\n", who, v[int((NR+1)/2)], v[NR], NR}'; }

a="$(mktemp)"
b="$(mktemp)"
trap 'rm -f "$a" "$b"' EXIT
# Which build runs first alternates from pair to pair: the second of a pair runs on a warmer
# machine, which showed as a few per cent for whichever build always ran second.
for i in $(seq "$runs"); do
  if [ $((i % 2)) -eq 1 ]; then
    speed "$base_bin" >>"$a"
    speed "$now_bin" >>"$b"
  else
    speed "$now_bin" >>"$b"
    speed "$base_bin" >>"$a"
  fi
done
summary "$rev" <"$a"
summary "now" <"$b"

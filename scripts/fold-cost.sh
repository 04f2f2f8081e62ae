#!/usr/bin/env bash
# The fold's cost per report in counts that do not depend on what else the machine is doing:
# instructions, and (simulated) L1 data and last-level read misses, under callgrind. Timings on
# a shared machine drift by more than a round of changes; these do not, so they tell whether a
# change did what it meant to before `scripts/ab-fold.sh` measures its speed.
#
#   scripts/fold-cost.sh [REV] [INCIDENTS]
#
# Measures the working tree's `fold_profile` (reports decoded up front, only `Engine::fold`
# counted), and with REV also REV's (`fold-profile-at.sh`, as `ab-fold.sh` builds it).
# Needs valgrind (`apt-get install valgrind`). Caches simulated: 32 KiB 8-way L1, 16 MiB
# 16-way last level, 64-byte lines. About a minute per build.
set -euo pipefail
cd "$(dirname "$0")/.."

rev="${1:-}"
incidents="${2:-20000}"
command -v valgrind >/dev/null || { echo "valgrind is not installed: apt-get install valgrind" >&2; exit 2; }

cost() {
  local who="$1" bin="$2" out
  out="$(mktemp)"
  valgrind --tool=callgrind --callgrind-out-file="$out" --cache-sim=yes \
    --I1=32768,8,64 --D1=32768,8,64 --LL=16777216,16,64 \
    --toggle-collect='reckon::core::engine::Engine::fold' "$bin" "$incidents" decoded \
    2>/dev/null >"$out.stdout"
  local reports
  reports="$(grep -o '^[0-9]* reports' "$out.stdout" | cut -d' ' -f1)"
  # The totals line: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw.
  callgrind_annotate "$out" 2>/dev/null | grep 'PROGRAM TOTALS' | tr -d ',' |
    awk -v who="$who" -v n="$reports" '{
      printf "%-8s per report: %.0f instructions, %.1f L1 data read misses, %.2f last-level read misses (%d reports)\n",
        who, $1 / n, $9 / n, $15 / n, n }'
  rm -f "$out" "$out.stdout"
}

if [ -n "$rev" ]; then
  cost "$rev" "$(scripts/fold-profile-at.sh "$rev")"
fi
cargo build --quiet --release --example fold_profile
cost "now" target/release/examples/fold_profile

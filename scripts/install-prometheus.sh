#!/usr/bin/env bash
# Puts a Prometheus server binary, taken from Debian's `prometheus` package, into the tools cache
# outside the repository (only the binary: no service is installed or started), and prints its
# path. Reused when present. The metrics tests run it against a live reckon instance.
set -euo pipefail
TOOLS_DIR="${RECKON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reckon-tools}"
dir="$TOOLS_DIR/prometheus-debian"
bin="$dir/usr/bin/prometheus"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "extracting prometheus from Debian's package into $dir" >&2
as_root apt-get update -qq >&2
tmp="$(mktemp -d)"
# apt-get download warns when it runs as root in a directory _apt cannot read: harmless.
(cd "$tmp" && apt-get download -qq prometheus) >&2
mkdir -p "$dir"
dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$dir" ./usr/bin/prometheus
rm -rf "$tmp"
[ -x "$bin" ]
echo "$bin"

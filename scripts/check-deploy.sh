#!/usr/bin/env bash
# Checks the deployment files in deploy/ with the tools that run without a Docker engine or a
# Kubernetes cluster, installing each tool once when it is missing:
#
# - promtool check config: deploy/prometheus/prometheus.yml and the rule files it loads.
#   promtool is taken from PATH, or extracted from Debian's `prometheus` package into the tools
#   cache (only the promtool binary: no Prometheus service is installed or started).
# - promtool check rules on every PromQL expression of the Grafana dashboard (Grafana's
#   $variables replaced by a duration or `.*`), so a panel query is parsed as Prometheus would.
# - compose config: deploy/docker-compose.yml parsed, interpolated and checked against the
#   Compose schema by `docker compose` (v2 plugin) if present, else Debian's `docker-compose`
#   (installed with apt-get). Neither needs a Docker daemon for `config`.
# - kubernetes-validate (PyPI, bundles the Kubernetes OpenAPI schemas, validates offline):
#   every manifest in deploy/k8s, strictly (unknown fields are errors), against Kubernetes 1.25
#   and 1.37, the oldest and newest schemas it bundles. Installed into a virtualenv in the
#   tools cache.
#
# The tools cache is $RECKON_TOOLS_DIR or ~/.cache/reckon-tools, shared with install-tansu.sh.
# Installing needs root (or sudo) for apt-get, and network access to Debian and PyPI; later runs
# take a few seconds. Runs every check, then exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_DIR="${RECKON_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reckon-tools}"
KUBERNETES_VALIDATE_VERSION="${KUBERNETES_VALIDATE_VERSION:-1.37.0}"
# The Kubernetes versions to validate against (must be bundled with kubernetes-validate).
K8S_VERSIONS="${K8S_VERSIONS:-1.25.0 1.37.0}"
export DEBIAN_FRONTEND=noninteractive

log() { echo "check-deploy: $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo > /dev/null; then
    sudo --preserve-env=DEBIAN_FRONTEND "$@"
  else
    log "need root to run: $*"
    return 1
  fi
}

apt_updated=""
apt_update_once() {
  if [ -z "$apt_updated" ]; then
    as_root apt-get update -qq >&2
    apt_updated=1
  fi
}

apt_install() {
  apt_update_once
  log "installing $* with apt-get"
  as_root apt-get install -y -qq --no-install-recommends "$@" > /dev/null
}

# The ensure_* functions run in this shell (not in $(...)), set a variable naming the tool, and
# install it first when it is missing.

PROMTOOL=""
ensure_promtool() {
  if command -v promtool > /dev/null; then
    PROMTOOL="$(command -v promtool)"
    return
  fi
  local dir="$TOOLS_DIR/promtool-debian"
  PROMTOOL="$dir/usr/bin/promtool"
  [ -x "$PROMTOOL" ] && return
  apt_update_once
  log "extracting promtool from Debian's prometheus package into $dir"
  local tmp
  tmp="$(mktemp -d)"
  # apt-get download warns when it runs as root in a directory _apt cannot read: harmless.
  (cd "$tmp" && apt-get download -qq prometheus) >&2
  mkdir -p "$dir"
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -C "$dir" ./usr/bin/promtool
  rm -rf "$tmp"
  [ -x "$PROMTOOL" ]
}

COMPOSE=()
ensure_compose() {
  if docker compose version > /dev/null 2>&1; then
    COMPOSE=(docker compose)
    return
  fi
  command -v docker-compose > /dev/null || apt_install docker-compose
  COMPOSE=(docker-compose)
}

KUBERNETES_VALIDATE=""
ensure_kubernetes_validate() {
  local venv="$TOOLS_DIR/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
  KUBERNETES_VALIDATE="$venv/bin/kubernetes-validate"
  [ -x "$KUBERNETES_VALIDATE" ] && return
  if ! command -v python3 > /dev/null || ! python3 -c 'import ensurepip, venv' 2> /dev/null; then
    apt_install python3 python3-venv
  fi
  log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $venv"
  rm -rf "$venv"
  mkdir -p "$TOOLS_DIR"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
}

failed=()

run_check() {
  local name="$1"
  shift
  log "$name"
  if "$@"; then
    log "$name: ok"
  else
    log "$name: FAILED"
    failed+=("$name")
  fi
}

check_prometheus() {
  ensure_promtool || return 1
  "$PROMTOOL" check config deploy/prometheus/prometheus.yml
}

check_dashboard_promql() {
  ensure_promtool || return 1
  command -v python3 > /dev/null || apt_install python3 || return 1
  local rules
  rules="$(mktemp --suffix=.yml)"
  # Each expression becomes a recording rule named after its panel id and refId; JSON strings
  # are valid YAML scalars.
  python3 - deploy/grafana/dashboards/reckon.json > "$rules" << 'PY' || { rm -f "$rules"; return 1; }
import json, re, sys

dash = json.load(open(sys.argv[1]))
exprs = []
def walk(panels):
    for p in panels or []:
        for t in p.get("targets", []):
            if "expr" in t:
                exprs.append((f"panel_{p.get('id')}_{t.get('refId', '')}", t["expr"]))
        walk(p.get("panels"))
walk(dash.get("panels"))
if not exprs:
    sys.exit("no PromQL expressions in the dashboard")
def concrete(e):
    e = re.sub(r"\$__\w+", "5m", e)  # $__rate_interval, $__interval, $__range
    return re.sub(r"\$\{?\w+\}?", ".*", e)  # $instance, ${instance}
print("groups:\n  - name: dashboard\n    rules:")
for name, e in exprs:
    print(f"      - record: dashboard:{name}\n        expr: {json.dumps(concrete(e))}")
PY
  "$PROMTOOL" check rules "$rules"
  local rc=$?
  rm -f "$rules"
  return $rc
}

check_compose() {
  ensure_compose || return 1
  # Interpolation of ${VARS} must not depend on the caller's environment.
  env -i PATH="$PATH" HOME="$HOME" "${COMPOSE[@]}" -f deploy/docker-compose.yml config -q
}

check_k8s() {
  local manifests=() f v
  ensure_kubernetes_validate || return 1
  for f in deploy/k8s/*.yaml; do
    # kustomization.yaml is not a Kubernetes resource; tests/deploy_files.rs checks it lists
    # every manifest.
    [ "$(basename "$f")" = kustomization.yaml ] || manifests+=("$f")
  done
  [ "${#manifests[@]}" -gt 0 ] || return 1
  for v in $K8S_VERSIONS; do
    "$KUBERNETES_VALIDATE" --strict --kubernetes-version "$v" "${manifests[@]}" || return 1
  done
}

run_check "promtool check config deploy/prometheus/prometheus.yml" check_prometheus
run_check "promtool check rules: the dashboard's PromQL" check_dashboard_promql
run_check "compose config deploy/docker-compose.yml" check_compose
run_check "kubernetes-validate deploy/k8s" check_k8s

if [ "${#failed[@]}" -gt 0 ]; then
  log "failed: ${failed[*]}"
  exit 1
fi
log "all deployment checks passed"

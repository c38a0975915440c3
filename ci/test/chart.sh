#!/usr/bin/env bash
# The charts' CI: for Helm 3 and Helm 4, `ct lint` and `ct install --upgrade` (every ci/*-values.yaml,
# which link to examples/values, is installed, helm-tested, upgraded in place and uninstalled)
# against the local control plane, then `helm package`. Prints "N passed, N failed" for ci/run-tests.
# ct installs name our two images by the digests ci/image/build-image.sh built (cached) for this
# checkout: the operator, the sidecar and helm-test pods the controller image, the gateway the
# gateway image. The cluster's nodes are kwok fakes, which run no image: on them this checks that
# the pinned references render and are admitted, and the e2e suite runs the images themselves.
#
# ct diffs against origin/main. On a clone with that branch (CI) it runs in place; in a repository
# without it (a local one with no remote) it runs in a scratch clone whose origin is this
# repository, with this working tree's charts/, examples/ and ci/ copied over, so uncommitted
# chart changes are checked against the committed main.
#
# Settings: EJ_CHART_CLUSTER_NAME (default chart), EJ_CHART_PORT_BASE (default 21443),
# EJ_TEST_KEEP_CLUSTER=1 (leave a cluster this script started running),
# EJ_CHART_HELMS ("helm3 helm4"), EJ_CHART_DIST (where packages go; default dist/charts).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT_DIR"

CHARTS=(charts/elastic-jupyter-operator charts/elastic-jupyter)
HELMS=(${EJ_CHART_HELMS:-helm3 helm4})
DIST="${EJ_CHART_DIST:-$ROOT_DIR/dist/charts}"
passed=0 failed=0
step() { # description command...: runs one check, counts it
  local what=$1; shift
  log "chart check: $what"
  if "$@"; then passed=$((passed + 1)); log "PASS: $what"; else failed=$((failed + 1)); log "FAIL: $what"; fi
}

export EJ_CLUSTER_NAME="${EJ_CHART_CLUSTER_NAME:-chart}" EJ_PORT_BASE="${EJ_CHART_PORT_BASE:-21443}"
# A cluster this script starts, it stops (EJ_TEST_KEEP_CLUSTER=1 keeps it, as for the mocha suites).
started=false
"$CI_DIR/cluster" status || started=true
"$CI_DIR/cluster" up >/dev/null
cleanup() {
  [[ -n "${scratch:-}" ]] && rm -rf "$scratch"
  if $started && [[ "${EJ_TEST_KEEP_CLUSTER:-}" != 1 ]]; then "$CI_DIR/cluster" down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
eval "$("$CI_DIR/cluster" env)"

work="$ROOT_DIR"
if ! git rev-parse -q --verify origin/main >/dev/null; then
  scratch="$(mktemp -d)"
  git clone -q --no-hardlinks "$ROOT_DIR" "$scratch/repo"
  for d in charts examples ci; do rm -rf "${scratch:?}/repo/$d"; cp -a "$ROOT_DIR/$d" "$scratch/repo/$d"; done
  find "$scratch/repo/charts" -name __pycache__ -prune -exec rm -rf {} +
  work="$scratch/repo"
  log "no origin/main here: ct runs in a scratch clone ($work) against this repository's main"
fi
cd "$work"
base="$(git merge-base origin/main HEAD)"

# The images by digest, per chart (each chart's values schema is closed: its own keys only). The
# operator chart goes first: the team chart's resources need the CRDs it installs and keeps.
controller_digest=$(cat "$("$CI_DIR/image/build-image.sh" controller)/digest")
gateway_digest=$(cat "$("$CI_DIR/image/build-image.sh" gateway)/digest")
declare -A IMAGE_ARGS=(
  [charts/elastic-jupyter-operator]="--set operator.image.digest=$controller_digest --set defaults.gatewayImage.digest=$gateway_digest"
  [charts/elastic-jupyter]="--set controllerImage.digest=$controller_digest --set gateway.image.digest=$gateway_digest"
)
log "ct install pins controller $controller_digest, gateway $gateway_digest"

for h in "${HELMS[@]}"; do
  helm_bin="$("${h}_bin")"
  [[ -x "$helm_bin" ]] || { log "missing $helm_bin: run ci/build-tools.sh"; exit 1; }
  for chart in "${CHARTS[@]}"; do
    # A chart that differs from main must carry a new version.
    cvi=false
    git diff --quiet "$base" -- "$chart" && [[ -z "$(git status --porcelain -- "$chart")" ]] || cvi=true
    step "$h: ct lint $chart (check-version-increment=$cvi)" \
      env PATH="$(dirname "$helm_bin"):$PATH" ct lint --config ci/ct.yaml --charts "$chart" --check-version-increment="$cvi"
  done
  for chart in "${CHARTS[@]}"; do
    # --helm-extra-set-args replaces ci/ct.yaml's, so it repeats --take-ownership.
    step "$h: ct install --upgrade $chart (images by digest)" \
      env PATH="$(dirname "$helm_bin"):$PATH" ct install --config ci/ct.yaml --charts "$chart" --upgrade \
        --helm-extra-set-args "--take-ownership ${IMAGE_ARGS[$chart]}"
  done
done

mkdir -p "$DIST"
step "helm package ${CHARTS[*]} -> $DIST" "$(helm3_bin)" package "${CHARTS[@]}" --destination "$DIST"

echo "chart checks: $passed passed, $failed failed"
((failed == 0))

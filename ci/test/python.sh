#!/usr/bin/env bash
# The Python suite: the gateway-side package (charts/elastic-jupyter/files/gateway), the kernel
# bootstrap (files/kernel) and their protocol with Enterprise Gateway, run by the gateway venv's
# pytest. Builds the venvs if needed (ci/build-pyenv.sh) and starts its own local cluster for the
# API-server tests (name "py", ports 30443..30445; EJ_TEST_KEEP_CLUSTER=1 keeps it up afterwards).
#
#   ci/test/python.sh [pytest args...]
# Settings: EJ_PY_CLUSTER_NAME, EJ_PY_PORT_BASE, EJ_PY_SKIP_CLUSTER=1 (skip the cluster tests).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

started=$SECONDS
eval "$("$CI_DIR/build-pyenv.sh" env)"
export EJ_GATEWAY_VENV EJ_NOTEBOOK_VENV
# No __pycache__ inside charts/: Helm would package it into the gateway ConfigMap.
export PYTHONDONTWRITEBYTECODE=1

cluster=(env EJ_CLUSTER_NAME="${EJ_PY_CLUSTER_NAME:-py}" EJ_PORT_BASE="${EJ_PY_PORT_BASE:-30443}" "$CI_DIR/cluster")
if [[ "${EJ_PY_SKIP_CLUSTER:-}" != 1 ]]; then
  "${cluster[@]}" up >/dev/null
  eval "$("${cluster[@]}" env)"
  export EJ_PY_CLUSTER_KUBECONFIG=$KUBECONFIG
  if [[ "${EJ_TEST_KEEP_CLUSTER:-}" != 1 ]]; then trap '"${cluster[@]}" down >/dev/null 2>&1 || true' EXIT; fi
else
  log "EJ_PY_SKIP_CLUSTER=1: the API-server tests will be skipped"
fi

cd "$ROOT_DIR/ci/test/python"
set +e
"$EJ_GATEWAY_VENV/bin/python" -m pytest -p no:cacheprovider -ra "$@"
status=$?
set -e
log "python suite: exit $status in $((SECONDS - started)) s"
exit $status

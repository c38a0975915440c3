#!/usr/bin/env bash
# Builds (once per set of pinned versions) the two Python venvs the tests run:
#   gateway:  Jupyter Enterprise Gateway (pins jupyter_server 1.x), the kubernetes client, pytest,
#             ipykernel - what the stock EG image runs, plus our test tools
#   notebook: JupyterLab 4 on jupyter_server 2.x and a current ipykernel
# Each venv lives in $EJ_CACHE/pyenv-<role>-<key>, the key being a hash of its pins and the Python
# version, so a bump rebuilds only that venv and a second run takes a second.
#
#   ci/build-pyenv.sh        build (or find) both venvs, log timings to stderr
#   ci/build-pyenv.sh env    the same, then print `export EJ_GATEWAY_VENV=... EJ_NOTEBOOK_VENV=...`
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mkdir -p "$EJ_CACHE"
# Its own lock: building venvs must not wait for the Go tool builds (ci/build-tools.sh).
exec 8>"$EJ_CACHE/.pyenv.lock"; flock 8

PYTHON="${EJ_PYTHON:-python3}"
GATEWAY_PINS=(
  "jupyter_enterprise_gateway==$EG_VERSION"
  "jupyter_server==$EG_JUPYTER_SERVER_VERSION"
  "jupyter_client==$EG_JUPYTER_CLIENT_VERSION"
  "pyzmq==$EG_PYZMQ_VERSION"
  "ipykernel==$EG_IPYKERNEL_VERSION"
  "kubernetes==$PY_KUBERNETES_VERSION"
  "pytest==$PYTEST_VERSION"
)
NOTEBOOK_PINS=(
  "jupyterlab==$JUPYTERLAB_VERSION"
  "jupyter_server==$NB_JUPYTER_SERVER_VERSION"
  "ipykernel==$NB_IPYKERNEL_VERSION"
)

venv_dir() { # role pins...
  local role=$1; shift
  local key; key=$( { "$PYTHON" -c 'import sys; print(sys.version)'; printf '%s\n' "$@"; } | sha256sum | cut -c1-12)
  echo "$EJ_CACHE/pyenv-$role-$key"
}

build_venv() { # role pins...
  local role=$1; shift
  local dir; dir=$(venv_dir "$role" "$@")
  if [[ -f "$dir/.done" ]]; then log "pyenv $role: cached ($dir)"; return; fi
  log "pyenv $role: building ($*)"
  local t=$SECONDS
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
  "$dir/bin/pip" check >&2
  "$dir/bin/pip" freeze > "$dir/freeze.txt"   # what was resolved, for the record
  touch "$dir/.done"
  log "pyenv $role: built in $((SECONDS - t)) s"
}

started=$SECONDS
build_venv gateway "${GATEWAY_PINS[@]}"
build_venv notebook "${NOTEBOOK_PINS[@]}"
log "python venvs ready in $((SECONDS - started)) s"

if [[ "${1:-}" == env ]]; then
  echo "export EJ_GATEWAY_VENV=$(venv_dir gateway "${GATEWAY_PINS[@]}") EJ_NOTEBOOK_VENV=$(venv_dir notebook "${NOTEBOOK_PINS[@]}")"
fi

#!/usr/bin/env bash
# TEST STAND-IN for the entrypoint of the docker-stacks notebook images (start-notebook.py), which
# the process kubelet runs in its place (see ci/e2e/image-map.ts): JupyterLab on all addresses
# (here: the pod IP) at $JUPYTER_PORT, plus $NOTEBOOK_ARGS, in the working directory. jupyter_server
# itself reads JUPYTER_TOKEN and JUPYTER_GATEWAY_URL from the environment the operator rendered.
# --allow-root is the one difference: the process kubelet runs pods as root (no runAsUser).
set -euo pipefail
# NOTEBOOK_ARGS is split on spaces on purpose, as the docker-stacks script does.
# shellcheck disable=SC2086
exec jupyter "${DOCKER_STACKS_JUPYTER_CMD:-lab}" \
  --ServerApp.ip=0.0.0.0 --ServerApp.port="${JUPYTER_PORT:-8888}" --ServerApp.port_retries=0 \
  --ServerApp.open_browser=False --ServerApp.root_dir="$PWD" --allow-root \
  ${NOTEBOOK_ARGS:-} "$@"

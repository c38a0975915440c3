#!/usr/bin/env bash
# TEST STAND-IN for the stock Enterprise Gateway image's entrypoint (start-enterprise-gateway.sh),
# which the process kubelet runs in its place (see ci/e2e/image-map.ts). Like the image's script it
# turns the EG_* environment into `jupyter enterprisegateway` flags, with the same defaults as EG
# 3.x's script, so the Deployment the operator renders (env only, no command) configures this
# gateway as it configures the real image. Written from EG's documented env -> flag behaviour.
set -euo pipefail

# An empty or "null" allow-list means every kernelspec (the operator sets none: the sidecar decides
# which kernelspecs the kernels directory holds). Surrounding brackets are tolerated, as EG's are.
allowed="${EG_ALLOWED_KERNELS:-${EG_KERNEL_WHITELIST:-null}}"
allowed="${allowed//[\[\]]/}"
# Read by EG itself from the environment; the image's script turns listing kernels on (EG's own default is off).
export EG_LIST_KERNELS="${EG_LIST_KERNELS:-True}"

flags=(
  "--ip=${EG_IP:-0.0.0.0}"
  "--port=${EG_PORT:-8888}"
  "--port_retries=${EG_PORT_RETRIES:-0}"
  "--log-level=${EG_LOG_LEVEL:-DEBUG}"
  "--RemoteMappingKernelManager.cull_idle_timeout=${EG_CULL_IDLE_TIMEOUT:-43200}"
  "--RemoteMappingKernelManager.cull_interval=${EG_CULL_INTERVAL:-60}"
  "--RemoteMappingKernelManager.cull_connected=${EG_CULL_CONNECTED:-False}"
  "--RemoteMappingKernelManager.default_kernel_name=${EG_DEFAULT_KERNEL_NAME:-python_docker}"
  "--RemoteMappingKernelManager.kernel_info_timeout=${EG_KERNEL_INFO_TIMEOUT:-60}"
)
if [[ -n "$allowed" && "$allowed" != null ]]; then
  flags+=("--KernelSpecManager.whitelist=[$allowed]")
fi

echo "Starting Jupyter Enterprise Gateway (process-kubelet stand-in for the image entrypoint)..."
exec jupyter enterprisegateway "${flags[@]}"

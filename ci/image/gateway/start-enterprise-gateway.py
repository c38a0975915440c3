#!/usr/bin/python3.11
"""The gateway image's entrypoint (/usr/local/bin/start-enterprise-gateway).

Like the stock Enterprise Gateway image's start script it turns the EG_* environment into
`jupyter enterprisegateway` flags, with the same defaults, so a Deployment that sets only the
environment (as the operator renders it; the container's command is never overridden) configures
this image as it configures the stock one. Python rather than a shell script: the image has no shell.
Arguments given to the container (its `args`) are appended to the flags.
"""
import os
import sys


def gateway_argv(env, extra=()):
    """The command line for an environment (a mapping) and the container's own arguments."""
    allowed = env.get("EG_ALLOWED_KERNELS") or env.get("EG_KERNEL_WHITELIST") or "null"
    # An empty or "null" allow-list means every kernelspec; surrounding brackets are tolerated.
    allowed = allowed.replace("[", "").replace("]", "").strip()
    flags = [
        "--ip=" + env.get("EG_IP", "0.0.0.0"),
        "--port=" + env.get("EG_PORT", "8888"),
        "--port_retries=" + env.get("EG_PORT_RETRIES", "0"),
        "--log-level=" + env.get("EG_LOG_LEVEL", "DEBUG"),
        "--RemoteMappingKernelManager.cull_idle_timeout=" + env.get("EG_CULL_IDLE_TIMEOUT", "43200"),
        "--RemoteMappingKernelManager.cull_interval=" + env.get("EG_CULL_INTERVAL", "60"),
        "--RemoteMappingKernelManager.cull_connected=" + env.get("EG_CULL_CONNECTED", "False"),
        "--RemoteMappingKernelManager.default_kernel_name=" + env.get("EG_DEFAULT_KERNEL_NAME", "python_docker"),
        "--RemoteMappingKernelManager.kernel_info_timeout=" + env.get("EG_KERNEL_INFO_TIMEOUT", "60"),
    ]
    if allowed and allowed != "null":
        flags.append("--KernelSpecManager.whitelist=[" + allowed + "]")
    return ["jupyter", "enterprisegateway", *flags, *extra]


def main():
    # Read by EG itself from the environment: listing kernels is on in the image (EG's default is off).
    os.environ.setdefault("EG_LIST_KERNELS", "True")
    argv = gateway_argv(os.environ, sys.argv[1:])
    print("Starting Jupyter Enterprise Gateway...", flush=True)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()

"""Kubernetes credentials for the gateway and the launcher.

EG's k8s.py calls `kubernetes.config.load_incluster_config()` when it is imported, which only works
inside a pod. A gateway run as a local process (tests, a laptop demo) has no service account, so
when, and only when, in-cluster config is unavailable and KUBECONFIG is set, we load that
kubeconfig instead. This keeps the in-cluster path byte-for-byte stock, needs no root, mount
namespaces or fake token files, and the launcher (a child process EG gives KUBECONFIG*) uses the
same rule.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from kubernetes import config

_load_incluster = config.load_incluster_config


def load_credentials() -> str:
    """Configures the kubernetes client; returns where the credentials came from."""
    try:
        _load_incluster()
        return "in-cluster service account"
    except config.ConfigException as in_cluster_error:
        if not os.environ.get("KUBECONFIG"):
            raise config.ConfigException(
                f"no Kubernetes credentials: not in a pod ({in_cluster_error}) and KUBECONFIG is not set"
            ) from None
    config.load_kube_config()  # honours KUBECONFIG, including colon-separated lists
    return f"KUBECONFIG {os.environ['KUBECONFIG']}"


@contextmanager
def kubeconfig_fallback_for_import():
    """While active, EG's import-time load_incluster_config() falls back to KUBECONFIG."""
    config.load_incluster_config = lambda *args, **kwargs: load_credentials()
    try:
        yield
    finally:
        config.load_incluster_config = _load_incluster

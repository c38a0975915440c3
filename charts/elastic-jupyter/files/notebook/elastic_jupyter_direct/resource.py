"""Pure functions of direct mode: the JupyterKernel and connection Secret a launch creates, what a
JupyterKernel's status means to the provisioner, and the kernel.json a JupyterKernelSpec becomes.
No I/O, so all of it is unit-tested (ci/test/python/test_direct_resource.py)."""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass

from elastic_jupyter_direct import GROUP, PROVISIONER_NAME, VERSION

# The kernel bootstrap's direct-mode ports (charts/elastic-jupyter/files/kernel/bootstrap.py):
# shell, iopub, stdin, hb, control. Every kernel pod has its own IP, so they never collide.
DIRECT_PORT_BASE = 52700
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")

NOTEBOOK_LABEL = f"{GROUP}/notebook"
KERNELSPEC_LABEL = f"{GROUP}/kernelspec"
MANAGED_BY = "elastic-jupyter-notebook"
SECRET_KEY = "key"

# KERNEL_* variables that have a field of their own (or are plumbing); every other KERNEL_* variable
# of the kernel's environment is forwarded in spec.env. The controller refuses anything else.
NOT_FORWARDED = frozenset(
    {
        "KERNEL_ID", "KERNEL_LANGUAGE", "KERNEL_USERNAME", "KERNEL_GPUS", "KERNEL_IMAGE",
        "KERNEL_EXECUTOR_IMAGE", "KERNEL_NAMESPACE", "KERNEL_POD_NAME", "KERNEL_RESOURCE_NAME",
        "KERNEL_CRD_GROUP", "KERNEL_CRD_VERSION", "KERNEL_CRD_PLURAL", "KERNEL_GATEWAY",
        "KERNEL_LAUNCH_TIMEOUT", "KERNEL_SERVICE_ACCOUNT_NAME", "KERNEL_CONNECTION_KEY",
    }
)


class LaunchRequestError(ValueError):
    """A launch the user must fix; the message names the offending setting."""


def kernel_resource_name(kernel_id: str) -> str:
    return f"kernel-{kernel_id}"


def connection_secret_name(kernel_name: str, kernel_uid: str) -> str:
    """One Secret per JupyterKernel incarnation: a restart recreates the kernel under the same name
    while the garbage collector may still be deleting the old kernel's Secret."""
    return f"{kernel_name}-connection-{kernel_uid[:8]}"


def parse_gpus(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise LaunchRequestError(f"KERNEL_GPUS must be a non-negative integer (a GPU count), got {value!r}")
    return int(text)


def launch_timeout(asked: str | None, ceiling: float) -> float:
    """The user's KERNEL_LAUNCH_TIMEOUT, at most the notebook's launchTimeout."""
    if asked is None or asked.strip() == "":
        return ceiling
    try:
        value = float(asked)
    except ValueError:
        raise LaunchRequestError(f"KERNEL_LAUNCH_TIMEOUT must be a number of seconds, got {asked!r}") from None
    return ceiling if value != value or value <= 0 or value > ceiling else value


def forwarded_env(env: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "value": value}
        for name, value in sorted(env.items())
        if name.startswith("KERNEL_") and name not in NOT_FORWARDED
    ]


def owner_pod_reference(name: str | None, uid: str | None) -> list[dict]:
    """The notebook pod owns its kernels: when it goes, the garbage collector ends them (no orphans)."""
    if not name or not uid:
        return []
    return [{"apiVersion": "v1", "kind": "Pod", "name": name, "uid": uid}]


def direct_kernel_manifest(
    *,
    kernel_id: str,
    kernel_spec: str,
    namespace: str,
    notebook: str,
    env: dict[str, str],
    spec_image: str | None = None,
    owner_pod: tuple[str | None, str | None] = (None, None),
) -> dict:
    """The JupyterKernel of one launch: the kernelspec, the notebook as user, and only what the
    kernelspec lets a user choose (KERNEL_GPUS, KERNEL_IMAGE, other KERNEL_* variables)."""
    try:
        uuid.UUID(kernel_id)
    except ValueError:
        raise LaunchRequestError(f"kernel id must be a UUID, got {kernel_id!r}") from None
    if not namespace or not notebook or not kernel_spec:
        raise LaunchRequestError("namespace, notebook and kernelspec are required")
    spec: dict = {
        "kernelId": kernel_id,
        "kernelSpec": {"name": kernel_spec},
        "connectionMode": "Direct",
        "username": notebook,
    }
    gpus = parse_gpus(env.get("KERNEL_GPUS"))
    if gpus is not None:
        spec["gpus"] = gpus
    image = env.get("KERNEL_IMAGE")
    if image and image != spec_image:
        spec["image"] = image
    user_env = forwarded_env(env)
    if user_env:
        spec["env"] = user_env
    metadata: dict = {
        "name": kernel_resource_name(kernel_id),
        "namespace": namespace,
        "labels": {
            "kernel_id": kernel_id,
            KERNELSPEC_LABEL: kernel_spec,
            NOTEBOOK_LABEL: notebook,
            "app.kubernetes.io/managed-by": MANAGED_BY,
        },
    }
    owners = owner_pod_reference(*owner_pod)
    if owners:
        metadata["ownerReferences"] = owners
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "JupyterKernel", "metadata": metadata, "spec": spec}


def connection_secret_manifest(kernel: dict, key: bytes | str) -> dict:
    """The connection key, never in a custom resource: a Secret the kernel pod's env references,
    owned by the JupyterKernel so it goes with it."""
    name = kernel["metadata"]["name"]
    raw = key if isinstance(key, bytes) else key.encode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": connection_secret_name(name, kernel["metadata"]["uid"]),
            "namespace": kernel["metadata"]["namespace"],
            "labels": {"kernel_id": kernel["spec"]["kernelId"], "app.kubernetes.io/managed-by": MANAGED_BY},
            "ownerReferences": [
                {"apiVersion": f"{GROUP}/{VERSION}", "kind": "JupyterKernel", "name": name, "uid": kernel["metadata"]["uid"]}
            ],
        },
        "data": {SECRET_KEY: base64.b64encode(raw).decode()},
    }


def connection_info(pod_ip: str, key: bytes, signature_scheme: str, kernel_name: str) -> dict:
    info: dict = {name: DIRECT_PORT_BASE + i for i, name in enumerate(PORT_NAMES)}
    info.update(ip=pod_ip, key=key, transport="tcp", signature_scheme=signature_scheme, kernel_name=kernel_name)
    return info


@dataclass(frozen=True)
class KernelState:
    state: str | None  # None: gone; "pending" | "running" | "failed" | "succeeded"
    pod_ip: str | None = None
    phase: str | None = None
    reason: str | None = None
    message: str | None = None
    uid: str | None = None

    @property
    def terminal(self) -> bool:
        return self.state in (None, "failed", "succeeded")

    def explanation(self) -> str:
        return ": ".join(p for p in (self.reason, self.message) if p) or f"phase {self.phase}"


def kernel_state(resource: dict | None) -> KernelState:
    if resource is None:
        return KernelState(state=None)
    status = resource.get("status") or {}
    phase = status.get("phase")
    details = {"phase": phase, "reason": status.get("reason"), "message": status.get("message"),
               "pod_ip": status.get("podIP"), "uid": (resource.get("metadata") or {}).get("uid")}
    if phase == "Running" and status.get("podIP"):
        return KernelState(state="running", **details)
    if phase in ("Failed", "Succeeded"):
        return KernelState(state=phase.lower(), **details)
    return KernelState(state="pending", **details)


# The HTTP status a failed start answers with, by the controller's reason (as in gateway mode).
_HTTP_STATUS_BY_REASON = {
    "GPULimitExceeded": 400, "InvalidSpec": 400, "ImageNotAllowed": 403, "PodPolicyViolation": 403,
    "PodSecurityRefused": 403, "PodForbidden": 403, "DirectKernelNotAllowed": 403, "QuotaExceeded": 503,
    "Unschedulable": 503, "GPUQuotaExceeded": 503, "QueueTimeout": 503,
}


def http_status_for(state: KernelState) -> int:
    return _HTTP_STATUS_BY_REASON.get(state.reason or "", 500)


_NAME = re.compile(r"^[a-z0-9._-]+$", re.IGNORECASE)


def kernel_json(jks: dict) -> dict | None:
    """A JupyterKernelSpec as the kernel.json the notebook server sees: launched by our provisioner,
    interrupted by message (there is no process to signal), culled after the kernelspec's
    cullIdleTimeout when it has one (jupyter_server >= 2.9 reads metadata.cull_idle_timeout)."""
    name = (jks.get("metadata") or {}).get("name") or ""
    spec = jks.get("spec") or {}
    if not _NAME.match(name):
        return None
    metadata: dict = {
        "kernel_provisioner": {
            "provisioner_name": PROVISIONER_NAME,
            "config": {"jupyter_kernel_spec": name, **({"image": spec["image"]} if spec.get("image") else {})},
        }
    }
    if spec.get("cullIdleTimeout") is not None:
        metadata["cull_idle_timeout"] = int(spec["cullIdleTimeout"])
    return {
        # argv is never run (the provisioner launches a pod); jupyter_client wants one.
        "argv": ["elastic-jupyter-direct", "{connection_file}"],
        "display_name": spec.get("displayName") or name,
        "language": (spec.get("language") or "python").lower(),
        "interrupt_mode": "message",
        "env": {},
        "metadata": metadata,
    }


def selected_kernelspecs(items: list[dict], allowed: list[str]) -> dict[str, dict]:
    """name -> kernel.json for the JupyterKernelSpecs the notebook may use (all when `allowed` is empty)."""
    wanted = set(allowed)
    out: dict[str, dict] = {}
    for jks in items:
        name = (jks.get("metadata") or {}).get("name")
        if not name or (wanted and name not in wanted) or (jks.get("metadata") or {}).get("deletionTimestamp"):
            continue
        rendered = kernel_json(jks)
        if rendered is not None:
            out[name] = rendered
    return out

"""Pure functions between a kernel launch and its JupyterKernel: the manifest to create, and what
its status means to Enterprise Gateway. No I/O here, so all of it is unit-tested."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from elastic_jupyter import GROUP, KIND, VERSION


class LaunchRequestError(ValueError):
    """A launch request the user must fix; the message names the offending field."""


# KERNEL_* variables that are gateway plumbing or have a field of their own in the JupyterKernel
# spec; every other KERNEL_* variable is the user's and is forwarded to the kernel in spec.env.
# KERNEL_UID/GID stay forwarded: EG has validated them and the controller may honour them.
NOT_FORWARDED = frozenset(
    {
        "KERNEL_ID", "KERNEL_LANGUAGE", "KERNEL_USERNAME", "KERNEL_GPUS", "KERNEL_IMAGE",
        "KERNEL_EXECUTOR_IMAGE", "KERNEL_NAMESPACE", "KERNEL_POD_NAME", "KERNEL_RESOURCE_NAME",
        "KERNEL_CRD_GROUP", "KERNEL_CRD_VERSION", "KERNEL_CRD_PLURAL", "KERNEL_GATEWAY",
        "KERNEL_LAUNCH_TIMEOUT", "KERNEL_SERVICE_ACCOUNT_NAME",
    }
)

# Labels on every JupyterKernel the launcher creates:
#   kernel_id                        EG's own label key, so `-l kernel_id=<id>` finds the CR and its pod
#   kubeflow.tkestack.io/kernelspec  the kernelspec it was launched from (per-kernelspec culling, metrics)
#   app.kubernetes.io/managed-by     the gateway creates and deletes it, nobody else should
MANAGED_BY = "jupyter-enterprise-gateway"
KERNELSPEC_LABEL = f"{GROUP}/kernelspec"
# Which gateway launched the kernel (EJ_GATEWAY_NAME, set by the operator): with two gateways in a
# namespace, each one's sidecar reconciles only its own kernels.
GATEWAY_LABEL = f"{GROUP}/gateway"
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def parse_gpus(value: str | None) -> int | None:
    """KERNEL_GPUS as the user typed it -> a count, None when unset."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise LaunchRequestError(f"KERNEL_GPUS must be a non-negative integer (a GPU count), got {value!r}")
    return int(text)


def parse_port_range(value: str) -> str:
    parts = value.split("..")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > int(parts[1]):
        raise LaunchRequestError(f"--port-range must look like '40000..41000' or '0..0', got {value!r}")
    return value


def foreign_namespace_problem(env: dict[str, str], gateway_namespace: str) -> str | None:
    """Why a client's KERNEL_NAMESPACE is refused: a gateway runs kernels in its own namespace only
    (its token, GPUs and service account are that namespace's), so a notebook user cannot point it
    at another team's."""
    asked = env.get("KERNEL_NAMESPACE")
    if asked is None or asked == gateway_namespace:
        return None
    return (
        f"KERNEL_NAMESPACE {asked!r} is not allowed: this gateway runs kernels only in its own "
        f"namespace {gateway_namespace!r}"
    )


def forwarded_env(env: dict[str, str]) -> list[dict[str, str]]:
    """The user's KERNEL_* variables as EnvVar objects, sorted so the manifest is deterministic."""
    return [
        {"name": name, "value": value}
        for name, value in sorted(env.items())
        if name.startswith("KERNEL_") and name not in NOT_FORWARDED
    ]


def resource_name(kernel_id: str, env: dict[str, str]) -> str:
    # EG's custom-resource proxy reads back the object named KERNEL_RESOURCE_NAME, so use exactly that.
    return env.get("KERNEL_RESOURCE_NAME") or f"kernel-{kernel_id}"


def jupyter_kernel_manifest(
    *,
    kernel_id: str,
    kernel_spec: str,
    namespace: str,
    response_address: str,
    public_key: str,
    port_range: str,
    env: dict[str, str],
    kernel_spec_namespace: str | None = None,
    spec_image: str | None = None,
) -> dict:
    """The JupyterKernel for one launch. `env` is the launcher's environment as EG set it."""
    try:
        uuid.UUID(kernel_id)
    except ValueError:
        raise LaunchRequestError(f"--kernel-id must be a UUID, got {kernel_id!r}") from None
    for flag, value in (("--kernel-spec", kernel_spec), ("--response-address", response_address),
                        ("--public-key", public_key), ("KERNEL_NAMESPACE", namespace)):
        if not value:
            raise LaunchRequestError(f"{flag} is required")
    if not _LABEL_VALUE.match(kernel_spec) or len(kernel_spec) > 63:
        raise LaunchRequestError(f"--kernel-spec {kernel_spec!r} is not a valid Kubernetes name")
    spec: dict = {
        "kernelId": kernel_id,
        "kernelSpec": {"name": kernel_spec, **({"namespace": kernel_spec_namespace} if kernel_spec_namespace else {})},
        "responseAddress": response_address,
        "publicKey": public_key,
        "portRange": parse_port_range(port_range),
        "language": env.get("KERNEL_LANGUAGE", "python"),
    }
    if env.get("KERNEL_USERNAME"):
        spec["username"] = env["KERNEL_USERNAME"]
    gpus = parse_gpus(env.get("KERNEL_GPUS"))
    if gpus is not None:
        spec["gpus"] = gpus
    # EG always sets KERNEL_IMAGE (the kernelspec's image unless the user overrode it); when the
    # launcher knows the kernelspec's image it records only a real override.
    image = env.get("KERNEL_IMAGE")
    if image and image != spec_image:
        spec["image"] = image
    user_env = forwarded_env(env)
    if user_env:
        spec["env"] = user_env
    labels = {"kernel_id": kernel_id, KERNELSPEC_LABEL: kernel_spec, "app.kubernetes.io/managed-by": MANAGED_BY}
    if env.get("EJ_GATEWAY_NAME"):
        labels[GATEWAY_LABEL] = env["EJ_GATEWAY_NAME"]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {"name": resource_name(kernel_id, env), "namespace": namespace, "labels": labels},
        "spec": spec,
    }


# ---------------------------------------------------------------- status -> EG container state


@dataclass(frozen=True)
class KernelState:
    """What EG needs from a JupyterKernel: its state in EG's vocabulary and how to reach it."""

    state: str | None  # None: no such object; else "pending" | "running" | "failed" | "succeeded"
    pod_ip: str | None = None
    pod_name: str | None = None
    phase: str | None = None
    reason: str | None = None
    message: str | None = None

    @property
    def terminal(self) -> bool:
        return self.state in ("failed", "succeeded")

    def explanation(self) -> str:
        """'GPULimitExceeded: requested 8 GPUs, ...' - the controller's words, for the user."""
        return ": ".join(p for p in (self.reason, self.message) if p) or f"phase {self.phase}"


def kernel_state(resource: dict | None) -> KernelState:
    if resource is None:
        return KernelState(state=None)
    status = resource.get("status") or {}
    phase = status.get("phase")
    details = {"phase": phase, "reason": status.get("reason"), "message": status.get("message"),
               "pod_name": status.get("podName"), "pod_ip": status.get("podIP")}
    if phase == "Running" and status.get("podIP"):
        return KernelState(state="running", **details)
    if phase in ("Failed", "Succeeded"):
        return KernelState(state=phase.lower(), **details)
    # No status yet (the controller has not seen it), Pending, or Running without an IP yet: wait.
    return KernelState(state="pending", **details)


# The HTTP status the gateway answers a failed launch with, by the controller's reason.
_HTTP_STATUS_BY_REASON = {
    "GPULimitExceeded": 400,  # the request itself asks for too much; retrying will not help
    "InvalidSpec": 400,
    "ImageNotAllowed": 403,  # the kernelspec does not let users choose that image
    "PodPolicyViolation": 403,  # the kernel template asks for more than the cluster admin allows
    "PodSecurityRefused": 403,
    "PodForbidden": 403,
    "QuotaExceeded": 503,  # a ResourceQuota is full; it may clear
    "Unschedulable": 503,  # no capacity right now
    "GPUQuotaExceeded": 503,  # a gpuPolicy limit (per user or namespace) is reached; whenFull: Fail
    "QueueTimeout": 503,  # waited its gpuPolicy.queueTimeout in the GPU queue
}


def http_status_for(state: KernelState) -> int:
    return _HTTP_STATUS_BY_REASON.get(state.reason or "", 500)

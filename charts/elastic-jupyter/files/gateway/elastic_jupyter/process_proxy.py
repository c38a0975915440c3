"""JupyterKernelProcessProxy: Enterprise Gateway drives kernels through JupyterKernel resources.

kernel.json: "metadata": {"process_proxy": {"class_name":
    "elastic_jupyter.process_proxy.JupyterKernelProcessProxy", "config": {"image_name": ...}}}

EG's CustomResourceProcessProxy runs the kernelspec's launcher (which creates the JupyterKernel),
polls the object, and deletes it on shutdown. We only teach it our status: phase Pending/Running
(with status.podIP as the kernel's address) and Failed/Succeeded, whose reason and message the
user gets as the HTTP error of the launch, within a poll interval instead of a launch timeout.
"""

from __future__ import annotations

import os
import time

from kubernetes import client
from tornado import web

from elastic_jupyter import GROUP, PLURAL, VERSION
from elastic_jupyter.kernel_resource import (
    KernelState,
    LaunchRequestError,
    capped_launch_timeout,
    foreign_namespace_problem,
    http_status_for,
    kernel_state,
    parse_gpus,
)
from elastic_jupyter.kube_config import kubeconfig_fallback_for_import

with kubeconfig_fallback_for_import():  # EG's k8s.py loads credentials at import time
    from enterprise_gateway.services.processproxies.crd import CustomResourceProcessProxy

# A pod the scheduler cannot place (e.g. "Insufficient nvidia.com/gpu") fails the launch after this
# many seconds instead of waiting for EG's launch timeout; the scheduler retries meanwhile, so a GPU
# freed within the grace period still wins. 0 disables the early failure.
UNSCHEDULABLE_GRACE = float(os.environ.get("EJ_UNSCHEDULABLE_GRACE_SECONDS", "5"))
# EG's own launch timeout (its default_kernel_launch_timeout reads the same variable).
GATEWAY_LAUNCH_TIMEOUT = float(os.environ.get("EG_KERNEL_LAUNCH_TIMEOUT") or "30")


class JupyterKernelProcessProxy(CustomResourceProcessProxy):
    """Kernel lifecycle through a kubeflow.tkestack.io/v1alpha1 JupyterKernel."""

    object_kind = "JupyterKernel"

    def __init__(self, kernel_manager, proxy_config):
        super().__init__(kernel_manager, proxy_config)
        self.group, self.version, self.plural = GROUP, VERSION, PLURAL
        self.last_state = KernelState(state=None)  # from the latest successful read
        self.last_seen = KernelState(state=None)  # the latest read that found the object
        self.unschedulable_since: float | None = None
        self.launch_error: web.HTTPError | None = None

    async def launch_process(self, kernel_cmd, **kwargs):
        # Validate what the user sent before anything is created, so the error reaches them as-is
        # (a failing launcher only surfaces as "check the gateway log").
        try:
            parse_gpus(kwargs["env"].get("KERNEL_GPUS"))
        except LaunchRequestError as err:
            self.log_and_raise(http_status_code=400, reason=str(err))
        # The gateway's launch timeout is the longest launch (see capped_launch_timeout).
        try:
            capped = capped_launch_timeout(kwargs["env"].get("KERNEL_LAUNCH_TIMEOUT"), GATEWAY_LAUNCH_TIMEOUT)
        except LaunchRequestError as err:
            self.log_and_raise(http_status_code=400, reason=str(err))
        if capped is not None:
            self.log.info(f"KERNEL_LAUNCH_TIMEOUT {kwargs['env']['KERNEL_LAUNCH_TIMEOUT']} capped at the gateway's {capped} s")
            kwargs["env"]["KERNEL_LAUNCH_TIMEOUT"] = capped
        # EG would create the kernel wherever the client's KERNEL_NAMESPACE says; ours stay home.
        problem = foreign_namespace_problem(kwargs["env"], os.environ.get("EG_NAMESPACE", "default"))
        if problem:
            self.log_and_raise(http_status_code=403, reason=problem)
        return await super().launch_process(kernel_cmd, **kwargs)

    def read_kernel(self) -> dict | None:
        try:
            return client.CustomObjectsApi().get_namespaced_custom_object(
                self.group, self.version, self.kernel_namespace, self.plural, self.kernel_resource_name
            )
        except client.ApiException as err:
            if err.status == 404:
                return None
            raise

    def get_container_status(self, iteration):
        """EG's container state for our JupyterKernel: None when it does not exist (yet)."""
        try:
            state = kernel_state(self.read_kernel())
        except Exception as err:
            # A failed read is not a dead kernel: keep the last known state so EG neither restarts
            # nor abandons a healthy kernel during an API server blip.
            self.log.warning(f"reading JupyterKernel {self.kernel_namespace}/{self.kernel_resource_name}: {err}")
            return self.last_state.state
        self.last_state = state
        if state.state is not None:
            self.last_seen = state
            self.container_name = self.kernel_resource_name  # lets kill() delete the object
        if state.state == "running" and not self.assigned_host:
            self.assigned_ip = state.pod_ip
            self.assigned_host = state.pod_name or self.kernel_resource_name
        if state.state == "pending" and state.reason == "Unschedulable":
            self.unschedulable_since = self.unschedulable_since or time.monotonic()
        else:
            self.unschedulable_since = None
        if iteration:
            self.log.debug(
                f"{iteration}: JupyterKernel {self.kernel_namespace}/{self.kernel_resource_name} "
                f"phase={state.phase} reason={state.reason} podIP={state.pod_ip} KernelID={self.kernel_id}"
            )
        return state.state

    def get_initial_states(self):
        return ["pending", "running"]

    def get_error_states(self):
        return ["failed", "succeeded"]

    def launch_failure(self) -> KernelState | None:
        """The state that dooms this launch, if any."""
        if self.last_seen.terminal:
            return self.last_seen
        if (
            UNSCHEDULABLE_GRACE > 0
            and self.unschedulable_since is not None
            and time.monotonic() - self.unschedulable_since >= UNSCHEDULABLE_GRACE
        ):
            return self.last_seen
        return None

    async def handle_timeout(self):
        await super().handle_timeout()
        if self.launch_failure() is not None:
            self.fail_launch()

    async def confirm_remote_startup(self):
        try:
            await super().confirm_remote_startup()
        except web.HTTPError as err:
            if self.launch_error is not None:  # ours, already explained
                raise
            if self.launch_failure() is not None:  # EG saw Failed/Succeeded: explain it
                self.fail_launch()
            if self.last_seen.reason:  # e.g. a launch timeout while Pending: say what it waited on
                raise web.HTTPError(
                    err.status_code,
                    reason=f"{err.reason}; JupyterKernel {self.kernel_resource_name} was "
                    f"{self.last_seen.phase}: {self.last_seen.explanation()}",
                ) from err
            raise

    def fail_launch(self):
        """Deletes the doomed JupyterKernel and answers the launch with the controller's words."""
        state = self.launch_failure()
        self.kill()
        reason = (
            f"Kernel {self.kernel_id} could not start: JupyterKernel "
            f"{self.kernel_namespace}/{self.kernel_resource_name} is {state.phase}: {state.explanation()}"
        )
        self.launch_error = web.HTTPError(http_status_for(state), reason=reason)
        self.log.error(reason)
        self._close_response_socket()
        raise self.launch_error

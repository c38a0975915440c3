"""JupyterKernelProvisioner: jupyter_client starts, watches, interrupts, restarts and stops a
kernel that runs as a JupyterKernel pod, with no gateway.

kernel.json (rendered by kernelspecs.JupyterKernelSpecManager):
  "interrupt_mode": "message",
  "metadata": {"kernel_provisioner": {"provisioner_name": "elastic-jupyter-direct",
                                      "config": {"jupyter_kernel_spec": "<JupyterKernelSpec>", "image": "..."}}}

Launch: create the JupyterKernel (connectionMode Direct, owned by the notebook pod), then the
Secret holding the session key (owned by the JupyterKernel), then wait while the controller
makes the pod (Pending, or Queued for GPUs) until it is Running with a pod IP, Failed (its reason
and message become the HTTP error the user sees) or the launch timeout passes. The kernel listens
on fixed ports of its pod IP. One watch per kernel keeps its state, so poll() (every 3 s from the
restarter) never reaches the API server. Shutdown and kill delete the JupyterKernel; the
controller and the garbage collector delete its pod and Secret.

Environment (set by the operator on the notebook container): EJ_NOTEBOOK_NAME,
EJ_NOTEBOOK_POD_NAME, EJ_NOTEBOOK_POD_UID, EJ_DIRECT_LAUNCH_TIMEOUT (seconds, default 300).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

from jupyter_client.provisioning.provisioner_base import KernelProvisionerBase
from tornado import web
from traitlets import Unicode

from elastic_jupyter_direct import GROUP, VERSION
from elastic_jupyter_direct.kube import ApiError, Kube, collection_path
from elastic_jupyter_direct.resource import (
    KernelState,
    LaunchRequestError,
    connection_info,
    connection_secret_manifest,
    direct_kernel_manifest,
    http_status_for,
    kernel_resource_name,
    kernel_state,
    launch_timeout,
)

# A pod the scheduler cannot place (no gpuPolicy queue) fails the start after this many seconds, with
# the scheduler's message, as in gateway mode; a GPU freed meanwhile still wins. 0: wait the launch timeout.
UNSCHEDULABLE_GRACE = float(os.environ.get("EJ_UNSCHEDULABLE_GRACE_SECONDS", "5"))
RECREATE_ATTEMPTS = 40  # a restart reuses the kernel id: the old object may still be going away

_kube: Kube | None = None


def kube() -> Kube:
    global _kube
    if _kube is None:
        _kube = Kube()
    return _kube


def _http_error(status: int, message: str) -> web.HTTPError:
    # jupyter_server answers an HTTPError's log_message as the error message JupyterLab shows.
    return web.HTTPError(status, message.replace("%", "%%"), reason=message.splitlines()[0][:200])


class KernelWatch:
    """Follows one JupyterKernel with a watch in a thread; `state` is always the latest seen."""

    def __init__(self, api: Kube, namespace: str, name: str, log):
        self.api, self.namespace, self.name, self.log = api, namespace, name, log
        self.state = KernelState(state="pending")
        self.changed = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name=f"watch-{name}", daemon=True)
        self.thread.start()

    def _set(self, obj: dict | None) -> None:
        def apply() -> None:
            self.state = kernel_state(obj)
            self.changed.set()
        self.loop.call_soon_threadsafe(apply)

    def _run(self) -> None:
        path = collection_path(self.namespace, "jupyterkernels", GROUP, VERSION)
        while not self.stopped:
            try:
                listed = self.api.request("GET", f"{path}?fieldSelector=metadata.name%3D{self.name}")
                items = listed.get("items") or []
                self._set(items[0] if items else None)
                for event in self.api.watch(f"{path}?fieldSelector=metadata.name%3D{self.name}", listed["metadata"]["resourceVersion"]):
                    if self.stopped:
                        return
                    kind = event.get("type")
                    if kind in ("ADDED", "MODIFIED"):
                        self._set(event["object"])
                    elif kind == "DELETED":
                        self._set(None)
                    elif kind == "ERROR":
                        break  # e.g. 410 Gone: list again
            except Exception as err:  # noqa: BLE001 - an API blip must not end the watch
                if self.stopped:
                    return
                self.log.warning(f"watching JupyterKernel {self.namespace}/{self.name}: {err}")
                time.sleep(1)

    def stop(self) -> None:
        self.stopped = True

    async def wait_change(self, timeout: float) -> None:
        """Waits for a change since the caller last cleared `changed` (or the timeout)."""
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass


class JupyterKernelProvisioner(KernelProvisionerBase):
    """Kernels as JupyterKernel pods in the notebook's namespace."""

    jupyter_kernel_spec = Unicode(config=True, help="The JupyterKernelSpec this kernel is launched from.")
    image = Unicode("", config=True, help="The kernelspec's own image (a KERNEL_IMAGE equal to it is no override).")

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.kernel_uid: str | None = None
        self.watch: KernelWatch | None = None
        self.exit_code: int | None = None

    # ------------------------------------------------------------------ settings

    @property
    def namespace(self) -> str:
        return kube().namespace

    @property
    def resource_name(self) -> str:
        return kernel_resource_name(self.kernel_id)

    # ------------------------------------------------------------------ state

    @property
    def has_process(self) -> bool:
        return self.kernel_uid is not None

    async def poll(self) -> int | None:
        if self.kernel_uid is None:
            return self.exit_code if self.exit_code is not None else 0
        state = self.watch.state if self.watch else KernelState(state=None)
        if state.state == "running" or state.state == "pending":
            return None
        return 0 if state.state == "succeeded" else 1

    async def wait(self) -> int | None:
        while True:
            if self.watch:
                self.watch.changed.clear()
            if await self.poll() is not None:
                break
            if self.watch:
                await self.watch.wait_change(1.0)
            else:
                await asyncio.sleep(0.5)
        return await self.poll()

    async def send_signal(self, signum: int) -> None:
        # There is no local process: interrupts go as messages (interrupt_mode "message"); a
        # terminating signal ends the kernel by deleting its JupyterKernel.
        if signum in (15, 9):
            await self._delete()
        elif signum != 0:
            self.log.warning(f"kernel {self.kernel_id}: signal {signum} is not sent to a remote kernel (interrupts use messages)")

    async def kill(self, restart: bool = False) -> None:
        await self._delete()

    async def terminate(self, restart: bool = False) -> None:
        await self._delete()

    async def cleanup(self, restart: bool = False) -> None:
        await self._delete()
        if self.watch:
            self.watch.stop()
            self.watch = None

    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        # A shutdown_request makes the kernel exit; the pod then ends and the status says so.
        return max(recommended, 10.0)

    def get_stable_start_time(self, recommended: float = 10.0) -> float:
        return recommended

    # ------------------------------------------------------------------ launch

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        kwargs = await super().pre_launch(**kwargs)
        kwargs["cmd"] = ["elastic-jupyter-direct"]  # nothing runs locally
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict:
        env: dict[str, str] = dict(kwargs.get("env") or {})
        api = kube()
        namespace = self.namespace
        notebook = os.environ.get("EJ_NOTEBOOK_NAME", "")
        try:
            ceiling = float(os.environ.get("EJ_DIRECT_LAUNCH_TIMEOUT") or "300")
            timeout = launch_timeout(env.get("KERNEL_LAUNCH_TIMEOUT"), ceiling)
            manifest = direct_kernel_manifest(
                kernel_id=self.kernel_id, kernel_spec=self.jupyter_kernel_spec, namespace=namespace, notebook=notebook,
                env=env, spec_image=self.image or None,
                owner_pod=(os.environ.get("EJ_NOTEBOOK_POD_NAME"), os.environ.get("EJ_NOTEBOOK_POD_UID")),
            )
        except LaunchRequestError as err:
            raise _http_error(400, str(err)) from None
        where = f"{namespace}/{self.resource_name}"
        try:
            created = await asyncio.to_thread(self._create_kernel, api, manifest)
            self.kernel_uid = created["metadata"]["uid"]
            self.exit_code = None
            self.watch = KernelWatch(api, namespace, self.resource_name, self.log)
            key = self.parent.session.key
            await asyncio.to_thread(self._create_secret, api, connection_secret_manifest(created, key))
        except ApiError as err:
            await self._delete()
            raise _http_error(403 if err.status == 403 else 500, f"creating JupyterKernel {where} failed: {err}") from None
        self.log.info(f"created JupyterKernel {where} (kernelspec {self.jupyter_kernel_spec})")

        deadline = time.monotonic() + timeout
        unschedulable_since: float | None = None
        while True:
            self.watch.changed.clear()
            state = self.watch.state
            if state.state == "running" and state.uid == self.kernel_uid:
                break
            if state.uid == self.kernel_uid and state.state in ("failed", "succeeded"):
                await self._delete()
                raise _http_error(http_status_for(state), f"Kernel {self.kernel_id} could not start: JupyterKernel {where} is {state.phase}: {state.explanation()}")
            if state.uid == self.kernel_uid and state.reason == "Unschedulable":
                unschedulable_since = unschedulable_since or time.monotonic()
                if UNSCHEDULABLE_GRACE > 0 and time.monotonic() - unschedulable_since >= UNSCHEDULABLE_GRACE:
                    await self._delete()
                    raise _http_error(503, f"Kernel {self.kernel_id} could not start: JupyterKernel {where} is {state.phase}: {state.explanation()}")
            else:
                unschedulable_since = None
            left = deadline - time.monotonic()
            if left <= 0:
                await self._delete()
                waited = f" (it was {state.phase}: {state.explanation()})" if state.phase else ""
                raise _http_error(503, f"Kernel {self.kernel_id} did not start within {timeout:g} s{waited}")
            await self.watch.wait_change(min(left, 1.0 if unschedulable_since else 5.0))
        self.log.info(f"JupyterKernel {where} is running at {state.pod_ip}")
        info = connection_info(state.pod_ip, self.parent.session.key, self.parent.session.signature_scheme, self.jupyter_kernel_spec)
        self.connection_info = info
        return info

    @staticmethod
    def _create_kernel(api: Kube, manifest: dict) -> dict:
        path = collection_path(manifest["metadata"]["namespace"], "jupyterkernels", GROUP, VERSION)
        name = manifest["metadata"]["name"]
        for _ in range(RECREATE_ATTEMPTS):
            try:
                return api.request("POST", path, manifest)
            except ApiError as err:
                if err.status != 409:
                    raise
            try:  # a kernel of the same id from before a restart: replace it
                api.request("DELETE", f"{path}/{name}", {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background", "gracePeriodSeconds": 0})
            except ApiError as err:
                if err.status != 404:
                    raise
            time.sleep(0.25)
        raise ApiError(409, f"JupyterKernel {name} still exists after {RECREATE_ATTEMPTS} attempts to replace it")

    @staticmethod
    def _create_secret(api: Kube, manifest: dict) -> None:
        path = collection_path(manifest["metadata"]["namespace"], "secrets")
        api.request("POST", path, manifest)

    async def _delete(self) -> None:
        if self.kernel_uid is None:
            return
        uid, self.kernel_uid = self.kernel_uid, None
        self.exit_code = 0
        path = collection_path(self.namespace, "jupyterkernels", GROUP, VERSION)
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background", "gracePeriodSeconds": 0,
                "preconditions": {"uid": uid}}
        try:
            await asyncio.to_thread(kube().request, "DELETE", f"{path}/{self.resource_name}", body)
            self.log.info(f"deleted JupyterKernel {self.namespace}/{self.resource_name}")
        except ApiError as err:
            if err.status not in (404, 409):  # gone already, or a newer kernel of the same id
                self.log.warning(f"deleting JupyterKernel {self.namespace}/{self.resource_name}: {err}")

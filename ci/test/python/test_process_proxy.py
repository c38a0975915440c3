"""JupyterKernelProcessProxy: our status in EG's vocabulary, and failed launches as clear HTTP
errors within seconds. EG's real proxy code runs; only the JupyterKernel reads are scripted here
(test_cluster.py reads real objects from a real API server)."""

from __future__ import annotations

import logging
import time
import types

import pytest
from elastic_jupyter import process_proxy
from elastic_jupyter.kernel_resource import KernelState, http_status_for, kernel_state
from elastic_jupyter.process_proxy import JupyterKernelProcessProxy
from tornado import web

KERNEL_ID = "0b7e4f5e-8d2a-4f7e-9c1d-2a3b4c5d6e7f"


def jk(phase=None, **status):
    resource = {"metadata": {"name": f"kernel-{KERNEL_ID}"}, "spec": {"kernelId": KERNEL_ID}}
    if phase or status:
        resource["status"] = {**({"phase": phase} if phase else {}), **status}
    return resource


@pytest.mark.parametrize(
    ("resource", "state"),
    [
        (None, None),
        (jk(), "pending"),  # the controller has not written status yet
        (jk("Pending", reason="Scheduling"), "pending"),
        (jk("Running"), "pending"),  # running but no IP yet: nothing to connect to
        (jk("Running", podIP="10.1.2.3", podName="p"), "running"),
        (jk("Failed", reason="PodFailed", message="exit 1"), "failed"),
        (jk("Succeeded", reason="KernelExited"), "succeeded"),
    ],
)
def test_kernel_state_maps_our_phases_to_egs(resource, state):
    assert kernel_state(resource).state == state


def test_failure_explanations_and_http_statuses():
    limit = kernel_state(jk("Failed", reason="GPULimitExceeded", message="requested 8 nvidia.com/gpu, but python-gpu allows at most 4"))
    assert limit.terminal and limit.explanation() == "GPULimitExceeded: requested 8 nvidia.com/gpu, but python-gpu allows at most 4"
    assert http_status_for(limit) == 400
    assert http_status_for(KernelState("pending", reason="Unschedulable")) == 503
    assert http_status_for(KernelState("failed", reason="PodFailed")) == 500
    assert http_status_for(KernelState("failed", reason="ImageNotAllowed")) == 403
    assert http_status_for(KernelState("failed", reason="PodPolicyViolation")) == 403
    assert KernelState("failed", phase="Failed").explanation() == "phase Failed"


@pytest.fixture
def proxy(response_manager, monkeypatch):
    """A real JupyterKernelProcessProxy (EG's constructors run, the response manager is EG's) whose
    JupyterKernel reads follow a script, and whose kill() is recorded instead of calling an API."""
    kernel_manager = types.SimpleNamespace(
        kernel_id=KERNEL_ID, connection_file=f"/tmp/kernel-{KERNEL_ID}.json", port_range="0..0",
        unauthorized_users=set(), authorized_users=set(), log=logging.getLogger("eg"), ip=None,
        kernel_spec=types.SimpleNamespace(language="python"), restarting=False,
    )
    p = JupyterKernelProcessProxy(kernel_manager, {})
    p.kernel_namespace, p.kernel_resource_name = "team-a", f"kernel-{KERNEL_ID}"
    p.start_time = type(p).get_current_time()
    p.script = []  # what successive reads return; an Exception instance is raised
    p.killed = 0

    def read_kernel():
        item = p.script.pop(0) if len(p.script) > 1 else p.script[0]
        if isinstance(item, Exception):
            raise item
        return item

    def kill():
        p.killed += 1
        p.container_name = None

    monkeypatch.setattr(p, "read_kernel", read_kernel)
    monkeypatch.setattr(p, "kill", kill)
    loop, _ = response_manager
    p.run = loop.run_until_complete
    return p


def test_identity(proxy):
    assert (proxy.group, proxy.version, proxy.plural) == ("kubeflow.tkestack.io", "v1alpha1", "jupyterkernels")


def test_running_gives_the_pod_ip_and_lets_kill_find_the_object(proxy):
    proxy.script = [None]
    assert proxy.get_container_status(1) is None and proxy.container_name == ""
    proxy.script = [jk("Pending", reason="Scheduling")]
    assert proxy.get_container_status(2) == "pending" and proxy.container_name == f"kernel-{KERNEL_ID}"
    assert not proxy.assigned_host
    proxy.script = [jk("Running", podIP="127.0.0.42", podName="kernel-pod")]
    assert proxy.get_container_status(3) == "running"
    assert (proxy.assigned_ip, proxy.assigned_host) == ("127.0.0.42", "kernel-pod")
    assert proxy.poll() is None  # EG's liveness: None means alive
    proxy.script = [jk("Succeeded", reason="KernelExited")]
    assert proxy.poll() is False


def test_an_api_error_is_not_a_dead_kernel(proxy):
    proxy.script = [jk("Running", podIP="127.0.0.42")]
    proxy.get_container_status(None)
    proxy.script = [RuntimeError("connection reset")]
    assert proxy.get_container_status(None) == "running"
    assert proxy.poll() is None


def test_a_bad_gpu_request_is_refused_before_anything_is_created(proxy):
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.launch_process("launcher", env={"KERNEL_GPUS": "lots"}))
    assert err.value.status_code == 400
    assert err.value.reason == "KERNEL_GPUS must be a non-negative integer (a GPU count), got 'lots'"


def test_another_namespace_is_refused_before_anything_is_created(proxy, monkeypatch):
    monkeypatch.setenv("EG_NAMESPACE", "team-b")
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.launch_process("launcher", env={"KERNEL_NAMESPACE": "team-a"}))
    assert err.value.status_code == 403
    assert err.value.reason == "KERNEL_NAMESPACE 'team-a' is not allowed: this gateway runs kernels only in its own namespace 'team-b'"


def test_a_refused_image_fails_the_launch_with_the_kernelspecs_words(proxy):
    message = "image evil.example/miner:1 (KERNEL_IMAGE) is not allowed by JupyterKernelSpec team-a/python: it runs registry.example/py:1 and its spec.allowedImages lets users choose no other image"
    proxy.script = [None, jk("Failed", reason="ImageNotAllowed", message=message)]
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.confirm_remote_startup())
    assert err.value.status_code == 403
    assert err.value.reason.endswith(f"is Failed: ImageNotAllowed: {message}")


def test_a_failed_kernel_fails_the_launch_at_once_with_the_controllers_words(proxy):
    message = "requested 8 nvidia.com/gpu, but kernelspec python-gpu allows at most 4 (set by spec.gpu.max)"
    proxy.script = [None, jk(), jk("Failed", reason="GPULimitExceeded", message=message)]
    started = time.monotonic()
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.confirm_remote_startup())
    assert time.monotonic() - started < 3  # three polls, not EG's 30 s launch timeout
    assert err.value.status_code == 400
    assert err.value.reason == (
        f"Kernel {KERNEL_ID} could not start: JupyterKernel team-a/kernel-{KERNEL_ID} is Failed: GPULimitExceeded: {message}"
    )
    assert proxy.killed == 1  # the doomed object is deleted


def test_an_unschedulable_kernel_fails_after_the_grace_period(proxy, monkeypatch):
    monkeypatch.setattr(process_proxy, "UNSCHEDULABLE_GRACE", 1.0)
    proxy.script = [jk("Pending", reason="Unschedulable", message="0/4 nodes are available: 2 Insufficient nvidia.com/gpu.")]
    started = time.monotonic()
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.confirm_remote_startup())
    assert 1.0 <= time.monotonic() - started < 3
    assert err.value.status_code == 503
    assert "is Pending: Unschedulable: 0/4 nodes are available: 2 Insufficient nvidia.com/gpu." in err.value.reason
    assert proxy.killed == 1


def test_a_launch_timeout_says_what_the_kernel_was_waiting_for(proxy, monkeypatch):
    monkeypatch.setattr(process_proxy, "UNSCHEDULABLE_GRACE", 0)  # disabled: wait for the timeout
    proxy.kernel_launch_timeout = 1
    proxy.script = [jk("Pending", reason="Unschedulable", message="0/4 nodes are available: 2 Insufficient nvidia.com/gpu.")]
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.confirm_remote_startup())
    assert "launch timeout" in err.value.reason
    assert err.value.reason.endswith("was Pending: Unschedulable: 0/4 nodes are available: 2 Insufficient nvidia.com/gpu.")
    assert proxy.killed == 1  # EG's own timeout path kills


@pytest.mark.parametrize(
    ("asked", "capped"),
    [(None, None), ("", None), ("20", None), ("60", None), ("61", "60"), ("3600", "60"), ("nan", "60")],
)
def test_a_clients_launch_timeout_is_capped_at_the_gateways(asked, capped):
    # EG lets the client's KERNEL_LAUNCH_TIMEOUT win (processproxy.py launch_process); the sidecar's
    # orphan grace relies on no launch outlasting the gateway's own timeout.
    from elastic_jupyter.kernel_resource import capped_launch_timeout

    assert capped_launch_timeout(asked, 60.0) == capped


def test_a_launch_timeout_that_is_no_number_is_refused_before_anything_is_created(proxy):
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.launch_process("launcher", env={"KERNEL_LAUNCH_TIMEOUT": "forever"}))
    assert err.value.status_code == 400
    assert err.value.reason == "KERNEL_LAUNCH_TIMEOUT must be a number of seconds, got 'forever'"

"""Against a real kube-apiserver with our CRDs: the launcher, run exactly as EG runs it, creates a
JupyterKernel the API server accepts unchanged (nothing pruned), and the process proxy reads real
status and deletes the object. The controller is not running here: the test writes the status a
controller would, through the status subresource. ci/test/python.sh starts the cluster."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
import types
import uuid

import pytest
from conftest import CRDS, GATEWAY_FILES
from kubernetes import client, config
from tornado import web

KUBECONFIG = os.environ.get("EJ_PY_CLUSTER_KUBECONFIG")
pytestmark = pytest.mark.skipif(not KUBECONFIG, reason="no cluster: ci/test/python.sh starts one (EJ_PY_CLUSTER_KUBECONFIG)")


def kubectl(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(["kubectl", "--kubeconfig", KUBECONFIG, *args], capture_output=True, text=True, input=input)
    if check and result.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)}: {result.stderr}")
    return result


@pytest.fixture(scope="module")
def namespace():
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} does not exist yet")
    kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
    kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/jupyterkernels.kubeflow.tkestack.io")
    name = f"py-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    config.load_kube_config(config_file=KUBECONFIG)  # the proxy uses the default client configuration
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


def launch(namespace: str, kernel_id: str, **env) -> subprocess.CompletedProcess:
    """Runs the launcher the way EG does: kernel.json argv, EG's environment, KUBECONFIG passed on."""
    argv = [
        sys.executable, "-m", "elastic_jupyter.launch_kernel", "--kernel-id", kernel_id,
        "--port-range", "40000..41000", "--response-address", "127.0.0.1:8877",
        "--public-key", "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC", "--kernel-spec", "python-gpu",
    ]
    full_env = {
        "PATH": os.environ["PATH"], "PYTHONPATH": str(GATEWAY_FILES), "PYTHONDONTWRITEBYTECODE": "1", "KUBECONFIG": KUBECONFIG,
        "KERNEL_ID": kernel_id, "KERNEL_LANGUAGE": "python", "KERNEL_NAMESPACE": namespace,
        "KERNEL_RESOURCE_NAME": f"alice-{kernel_id}", "KERNEL_USERNAME": "alice",
        "KERNEL_IMAGE": "quay.io/jupyter/pytorch-notebook:cuda12", **env,
    }
    return subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=60)


def get_kernel(namespace: str, name: str) -> dict | None:
    result = kubectl("get", "jupyterkernel", name, "-n", namespace, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def set_status(namespace: str, name: str, status: dict) -> None:
    kubectl("patch", "jupyterkernel", name, "-n", namespace, "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": status}))


def test_the_launcher_creates_a_jupyter_kernel_the_api_server_keeps_as_sent(namespace):
    kernel_id = str(uuid.uuid4())
    result = launch(namespace, kernel_id, KERNEL_GPUS="2", KERNEL_DATASET="imagenet")
    assert result.returncode == 0, result.stderr
    assert f"created JupyterKernel {namespace}/alice-{kernel_id} (credentials: KUBECONFIG" in result.stderr
    kernel = get_kernel(namespace, f"alice-{kernel_id}")
    # The schema pruned nothing and defaulted nothing we sent: the spec is exactly the launcher's.
    assert kernel["spec"] == {
        "kernelId": kernel_id, "kernelSpec": {"name": "python-gpu"}, "responseAddress": "127.0.0.1:8877",
        "publicKey": "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC", "portRange": "40000..41000", "language": "python",
        "username": "alice", "gpus": 2, "image": "quay.io/jupyter/pytorch-notebook:cuda12",
        "env": [{"name": "KERNEL_DATASET", "value": "imagenet"}],
    }
    assert kernel["metadata"]["labels"]["kernel_id"] == kernel_id
    listed = kubectl("get", "jupyterkernels", "-n", namespace, "-l", f"kernel_id={kernel_id}", "-o", "name").stdout
    assert listed.strip() == f"jupyterkernel.kubeflow.tkestack.io/alice-{kernel_id}"


def test_a_restart_with_the_same_kernel_id_replaces_the_object(namespace):
    kernel_id = str(uuid.uuid4())
    assert launch(namespace, kernel_id).returncode == 0
    first = get_kernel(namespace, f"alice-{kernel_id}")["metadata"]["uid"]
    result = launch(namespace, kernel_id)
    assert result.returncode == 0, result.stderr
    assert get_kernel(namespace, f"alice-{kernel_id}")["metadata"]["uid"] != first


def test_a_bad_gpu_count_creates_nothing(namespace):
    kernel_id = str(uuid.uuid4())
    result = launch(namespace, kernel_id, KERNEL_GPUS="1.5")
    assert result.returncode == 2
    assert "KERNEL_GPUS must be a non-negative integer (a GPU count), got '1.5'" in result.stderr
    assert get_kernel(namespace, f"alice-{kernel_id}") is None


@pytest.fixture
def proxy_for(response_manager):
    from elastic_jupyter.process_proxy import JupyterKernelProcessProxy

    loop, _ = response_manager

    def make(namespace: str, kernel_id: str) -> JupyterKernelProcessProxy:
        kernel_manager = types.SimpleNamespace(
            kernel_id=kernel_id, connection_file=f"/tmp/kernel-{kernel_id}.json", port_range="0..0",
            unauthorized_users=set(), authorized_users=set(), log=logging.getLogger("eg"), ip=None,
            kernel_spec=types.SimpleNamespace(language="python"), restarting=False,
        )
        proxy = JupyterKernelProcessProxy(kernel_manager, {})
        proxy.kernel_namespace, proxy.kernel_resource_name = namespace, f"alice-{kernel_id}"
        proxy.start_time = type(proxy).get_current_time()
        proxy.run = loop.run_until_complete
        return proxy

    return make


def test_the_proxy_follows_real_status_and_deletes_the_object_on_kill(namespace, proxy_for):
    kernel_id = str(uuid.uuid4())
    name = f"alice-{kernel_id}"
    proxy = proxy_for(namespace, kernel_id)
    assert proxy.get_container_status(1) is None  # not created yet
    assert launch(namespace, kernel_id).returncode == 0
    assert proxy.get_container_status(2) == "pending"  # no status written yet
    set_status(namespace, name, {"phase": "Running", "podIP": "127.0.0.42", "podName": name})
    assert proxy.get_container_status(3) == "running"
    assert (proxy.assigned_ip, proxy.assigned_host) == ("127.0.0.42", name)
    assert proxy.poll() is None
    assert proxy.kill() is None  # EG's contract: None once terminated
    assert get_kernel(namespace, name) is None
    assert proxy.poll() is False


def test_a_failed_kernel_is_a_clear_http_error_within_seconds_and_is_deleted(namespace, proxy_for):
    kernel_id = str(uuid.uuid4())
    name = f"alice-{kernel_id}"
    assert launch(namespace, kernel_id, KERNEL_GPUS="8").returncode == 0
    message = "requested 8 nvidia.com/gpu, but kernelspec python-gpu allows at most 4 (set by spec.gpu.max)"
    set_status(namespace, name, {"phase": "Failed", "reason": "GPULimitExceeded", "message": message})
    proxy = proxy_for(namespace, kernel_id)
    started = time.monotonic()
    with pytest.raises(web.HTTPError) as err:
        proxy.run(proxy.confirm_remote_startup())
    assert time.monotonic() - started < 5
    assert err.value.status_code == 400
    assert err.value.reason.endswith(f"JupyterKernel {namespace}/{name} is Failed: GPULimitExceeded: {message}")
    assert get_kernel(namespace, name) is None

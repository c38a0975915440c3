"""A real Enterprise Gateway process, our kernelspec (process proxy + launcher) and a real API server:
a client starts a kernel over the gateway's REST API, runs code over its websocket, interrupts and
shuts it down; bad GPU requests and failed kernels come back as clear HTTP errors within seconds.

What the controller and a kubelet would do is played here by `LocalKernelRunner`: it sees each
JupyterKernel, runs our bootstrap as a local process on its own loopback address (the "pod IP")
and writes the status a controller would. The controller's own tests and the e2e use the real
ones; this file tests the gateway side against EG's real code paths end to end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import types
import uuid
from pathlib import Path

import pytest
from conftest import BOOTSTRAP, CRDS, GATEWAY_FILES, free_port
from kubernetes import client, config
from tornado import httpclient, ioloop, websocket

KUBECONFIG = os.environ.get("EJ_PY_CLUSTER_KUBECONFIG")
pytestmark = pytest.mark.skipif(not KUBECONFIG, reason="no cluster: ci/test/python.sh starts one (EJ_PY_CLUSTER_KUBECONFIG)")
GROUP, VERSION, PLURAL = "kubeflow.tkestack.io", "v1alpha1", "jupyterkernels"
KERNELSPEC = "python-jk"


class LocalKernelRunner(threading.Thread):
    """Stands in for controller + kubelet: JupyterKernel -> bootstrap process + status."""

    def __init__(self, namespace: str, log_dir: Path, kernel_command: list[str] | None = None):
        super().__init__(daemon=True)
        self.namespace, self.log_dir = namespace, log_dir
        self.kernel_command = kernel_command  # what the bootstrap runs instead of ipykernel
        self.api = client.CustomObjectsApi()
        self.processes: dict[str, subprocess.Popen] = {}
        self.exit_codes: dict[str, int] = {}
        self.stopping = threading.Event()
        self.next_ip = 40

    def run(self):
        while not self.stopping.wait(0.1):
            try:
                items = self.api.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL)["items"]
            except Exception:
                continue
            uids = {item["metadata"]["uid"] for item in items}
            for item in items:
                if item["metadata"]["uid"] not in self.processes and not item.get("status"):
                    self.start_kernel(item)
            for uid, process in list(self.processes.items()):
                if uid not in uids and process.poll() is None:  # "pod" deleted with its kernel
                    process.send_signal(signal.SIGTERM)
                if process.poll() is not None:
                    self.exit_codes[uid] = process.returncode

    def start_kernel(self, item: dict):
        name, uid, spec = item["metadata"]["name"], item["metadata"]["uid"], item["spec"]
        gpus = spec.get("gpus", 0)
        if gpus > 4:  # the controller's GPU policy, as its status would say it
            self.set_status(name, {"phase": "Failed", "reason": "GPULimitExceeded",
                                   "message": f"requested {gpus} nvidia.com/gpu, but kernelspec {KERNELSPEC} allows at most 4"})
            self.processes[uid] = subprocess.Popen(["true"])
            return
        if gpus == 2:  # the controller's GPU queue: waiting past the unschedulable grace, then timing out
            queued = "waiting for GPUs, 2nd of 2 in namespace x's GPU queue: user dana holds 1 of the 1 nvidia.com/gpu"
            self.set_status(name, {"phase": "Pending", "reason": "Queued", "queuePosition": 2, "message": queued})
            timeout = {"phase": "Failed", "reason": "QueueTimeout", "message": f"waited 7 s for GPUs (gpuPolicy.queueTimeout 7 s) and was still {queued[18:]}"}
            threading.Timer(7, self.set_status, (name, timeout)).start()
            self.processes[uid] = subprocess.Popen(["true"])
            return
        if gpus == 3:  # the scheduler's verdict when no node has 3 GPUs free
            self.set_status(name, {"phase": "Pending", "reason": "Unschedulable",
                                   "message": "0/4 nodes are available: 2 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint."})
            self.processes[uid] = subprocess.Popen(["true"])
            return
        ip = f"127.0.0.{self.next_ip}"
        self.next_ip += 1
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "KERNEL_ID": spec["kernelId"],
               "KERNEL_LANGUAGE": spec["language"], "RESPONSE_ADDRESS": spec["responseAddress"],
               "PUBLIC_KEY": spec["publicKey"], "PORT_RANGE": spec["portRange"], "POD_IP": ip,
               **{e["name"]: e["value"] for e in spec.get("env", [])}}
        log = (self.log_dir / f"{name}-{uid}.log").open("w")
        command = [sys.executable, str(BOOTSTRAP), *(["--", *self.kernel_command] if self.kernel_command else [])]
        self.processes[uid] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.set_status(name, {"phase": "Running", "podIP": ip, "podName": name})

    def set_status(self, name: str, status: dict):
        self.api.patch_namespaced_custom_object_status(GROUP, VERSION, self.namespace, PLURAL, name, {"status": status})

    def stop(self):
        self.stopping.set()
        self.join(5)
        for process in self.processes.values():
            if process.poll() is None:  # TERM: the bootstrap stops its kernel; KILL if it hangs
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} does not exist yet")
    with running_gateway(tmp_path_factory.mktemp("gateway")) as gw:
        yield gw


@contextlib.contextmanager
def running_gateway(tmp: Path, kernel_command: list[str] | None = None):
    """A fresh Enterprise Gateway process, configured as the operator configures it, with a
    LocalKernelRunner in a namespace of its own; all of it gone on exit."""
    kubectl = ["kubectl", "--kubeconfig", KUBECONFIG]
    subprocess.run(kubectl + ["apply", "--server-side", "--force-conflicts", "-f", str(CRDS)], check=True, capture_output=True)
    namespace = f"py-eg-{uuid.uuid4().hex[:6]}"
    subprocess.run(kubectl + ["create", "namespace", namespace], check=True, capture_output=True)
    config.load_kube_config(config_file=KUBECONFIG)

    # The kernelspec as the operator would render it: our proxy class, our launcher.
    spec_dir = tmp / "share/jupyter/kernels" / KERNELSPEC
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "display_name": "Python on a JupyterKernel", "language": "python",
        "metadata": {"process_proxy": {"class_name": "elastic_jupyter.process_proxy.JupyterKernelProcessProxy",
                                       "config": {"image_name": "quay.io/jupyter/base-notebook:latest"}}},
        "env": {"PYTHONPATH": str(GATEWAY_FILES), "PYTHONDONTWRITEBYTECODE": "1"},
        "argv": ["python", "-m", "elastic_jupyter.launch_kernel", "--kernel-id", "{kernel_id}",
                 "--port-range", "{port_range}", "--response-address", "{response_address}",
                 "--public-key", "{public_key}", "--kernel-spec", KERNELSPEC,
                 "--spec-image", "quay.io/jupyter/base-notebook:latest"],
    }))
    port = free_port()
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": str(tmp),
        "PYTHONPATH": str(GATEWAY_FILES), "KUBECONFIG": KUBECONFIG, "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_PATH": str(tmp / "share/jupyter"), "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "EG_RESPONSE_IP": "127.0.0.1", "EG_RESPONSE_PORT": str(free_port()), "EG_INHERITED_ENVS": "PATH",
        # As the operator sets it (the pod's namespace): kernels run here and nowhere else.
        "EG_NAMESPACE": namespace, "EG_SHARED_NAMESPACE": "True",
        # As the operator configures the gateway: our config file, our kernelspec manager, its one directory.
        "JUPYTER_CONFIG_PATH": str(GATEWAY_FILES / "elastic_jupyter"),
        "EJ_GATEWAY_KERNELS_DIR": str(tmp / "share/jupyter/kernels"),
        "EG_DEFAULT_KERNEL_NAME": KERNELSPEC, "EG_KERNEL_LAUNCH_TIMEOUT": "30",
        "EJ_UNSCHEDULABLE_GRACE_SECONDS": "5",
    }
    log_path = tmp / "gateway.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "enterprise_gateway", "--ip=127.0.0.1", f"--port={port}", "--log-level=DEBUG"],
        env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    runner = LocalKernelRunner(namespace, tmp, kernel_command)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpclient.HTTPClient().fetch(f"{url}/api/kernelspecs")
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the gateway did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
        runner.start()
        yield types.SimpleNamespace(url=url, namespace=namespace, runner=runner, log=log_path)
    finally:
        runner.stop()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        subprocess.run(kubectl + ["delete", "namespace", namespace, "--wait=false"], capture_output=True)


def request(gateway, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
    try:
        response = httpclient.HTTPClient().fetch(
            gateway.url + path, method=method, body=None if body is None else json.dumps(body),
            request_timeout=120, allow_nonstandard_methods=True,
        )
        return response.code, json.loads(response.body) if response.body else None
    except httpclient.HTTPClientError as err:
        return err.code, json.loads(err.response.body) if err.response and err.response.body else None


def kernel_object(gateway, kernel_id: str) -> dict | None:
    items = client.CustomObjectsApi().list_namespaced_custom_object(
        GROUP, VERSION, gateway.namespace, PLURAL, label_selector=f"kernel_id={kernel_id}")["items"]
    return items[0] if items else None


async def execute(url: str, kernel_id: str, code: str, interrupt_after: float | None = None, gateway=None) -> dict:
    """Runs a cell over the gateway's websocket; returns the reply and the text it produced."""
    ws = await websocket.websocket_connect(f"{url.replace('http', 'ws')}/api/kernels/{kernel_id}/channels")
    msg_id = uuid.uuid4().hex
    await ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "alice", "session": uuid.uuid4().hex,
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False},
    }))
    if interrupt_after is not None:
        await ioloop.IOLoop.current().run_in_executor(None, time.sleep, interrupt_after)
        code_, _ = await ioloop.IOLoop.current().run_in_executor(
            None, request, gateway, "POST", f"/api/kernels/{kernel_id}/interrupt", {})
        assert code_ == 204
    result = {"text": "", "reply": None, "idle": False}
    deadline = time.monotonic() + 60
    while not (result["reply"] and result["idle"]) and time.monotonic() < deadline:
        raw = await ws.read_message()
        assert raw is not None, "websocket closed"
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            result["text"] += content["text"]
        elif kind == "execute_result":
            result["text"] += content["data"]["text/plain"]
        elif kind == "execute_reply":
            result["reply"] = content
        elif kind == "status" and content["execution_state"] == "idle":
            result["idle"] = True
    ws.close()
    return result


def test_the_gateway_offers_only_the_synced_kernelspecs(gateway):
    # The gateway's venv has ipykernel and its python3 kernelspec on Jupyter's data path; neither
    # that nor jupyter_client's "native" kernel may be offered (it would run inside the gateway).
    code, specs = request(gateway, "GET", "/api/kernelspecs")
    assert code == 200
    assert set(specs["kernelspecs"]) == {KERNELSPEC}
    assert specs["default"] == KERNELSPEC


def test_a_kernel_through_the_gateway_runs_code_interrupts_and_shuts_down(gateway):
    started = time.monotonic()
    code, model = request(gateway, "POST", "/api/kernels", {
        "name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": gateway.namespace, "KERNEL_USERNAME": "alice",
                                    "KERNEL_PROJECT": "vision"}})
    assert code == 201, (model, gateway.log.read_text()[-3000:])
    start_seconds = time.monotonic() - started
    kernel_id = model["id"]
    resource = kernel_object(gateway, kernel_id)
    name, uid = resource["metadata"]["name"], resource["metadata"]["uid"]
    assert name == f"alice-{kernel_id}"
    assert resource["spec"]["kernelSpec"] == {"name": KERNELSPEC} and "image" not in resource["spec"]
    assert {"name": "KERNEL_PROJECT", "value": "vision"} in resource["spec"]["env"]

    loop = ioloop.IOLoop.current()
    out = loop.run_sync(lambda: execute(gateway.url, kernel_id, "import os\nprint(os.environ['KERNEL_PROJECT'])\nanswer = 6 * 7\nanswer"))
    assert out["reply"]["status"] == "ok" and "vision" in out["text"] and "42" in out["text"], out

    out = loop.run_sync(lambda: execute(gateway.url, kernel_id, "import time\ntime.sleep(60)", interrupt_after=1.0, gateway=gateway))
    assert out["reply"]["status"] == "error" and out["reply"]["ename"] == "KeyboardInterrupt", out

    # A restart replaces the JupyterKernel (same kernel id and name, a new object) and its process.
    code, _ = request(gateway, "POST", f"/api/kernels/{kernel_id}/restart", {})
    assert code == 200, gateway.log.read_text()[-3000:]
    restarted = kernel_object(gateway, kernel_id)
    assert restarted["metadata"]["name"] == name and restarted["metadata"]["uid"] != uid
    wait_until(lambda: uid in gateway.runner.exit_codes)
    out = loop.run_sync(lambda: execute(gateway.url, kernel_id, "'answer' in dir()"))
    assert out["reply"]["status"] == "ok" and "False" in out["text"], out  # a fresh interpreter

    code, _ = request(gateway, "DELETE", f"/api/kernels/{kernel_id}")
    assert code == 204
    new_uid = restarted["metadata"]["uid"]
    wait_until(lambda: kernel_object(gateway, kernel_id) is None and new_uid in gateway.runner.exit_codes)
    assert gateway.runner.exit_codes[new_uid] == 0  # the kernel ended cleanly
    print(f"kernel start through the gateway: {start_seconds:.2f} s")


def wait_until(condition, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_bad_gpu_request_is_a_400_naming_kernel_gpus(gateway):
    started = time.monotonic()
    code, body = request(gateway, "POST", "/api/kernels", {
        "name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": gateway.namespace, "KERNEL_USERNAME": "bob", "KERNEL_GPUS": "two"}})
    assert code == 400
    assert "KERNEL_GPUS must be a non-negative integer (a GPU count), got 'two'" in json.dumps(body)
    assert time.monotonic() - started < 5


def test_a_kernel_in_another_namespace_is_a_403_and_nothing_is_created(gateway):
    code, body = request(gateway, "POST", "/api/kernels", {
        "name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": "team-a", "KERNEL_USERNAME": "mallory"}})
    assert code == 403, body
    assert f"KERNEL_NAMESPACE 'team-a' is not allowed: this gateway runs kernels only in its own namespace '{gateway.namespace}'" in json.dumps(body)
    remaining = client.CustomObjectsApi().list_namespaced_custom_object(GROUP, VERSION, gateway.namespace, PLURAL)["items"]
    assert [r for r in remaining if r["spec"].get("username") == "mallory"] == []


def test_a_kernel_the_controller_fails_is_an_error_within_seconds(gateway):
    started = time.monotonic()
    code, body = request(gateway, "POST", "/api/kernels", {
        "name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": gateway.namespace, "KERNEL_USERNAME": "bob", "KERNEL_GPUS": "8"}})
    elapsed = time.monotonic() - started
    assert code == 400, body
    assert "GPULimitExceeded: requested 8 nvidia.com/gpu, but kernelspec python-jk allows at most 4" in json.dumps(body)
    assert elapsed < 10  # not EG's 30 s launch timeout
    time.sleep(0.5)
    remaining = client.CustomObjectsApi().list_namespaced_custom_object(GROUP, VERSION, gateway.namespace, PLURAL)["items"]
    assert [r for r in remaining if r["spec"].get("gpus") == 8] == []  # the failed object was deleted


def test_an_unschedulable_kernel_is_a_503_after_the_grace_period(gateway):
    started = time.monotonic()
    code, body = request(gateway, "POST", "/api/kernels", {
        "name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": gateway.namespace, "KERNEL_USERNAME": "carol", "KERNEL_GPUS": "3"}})
    elapsed = time.monotonic() - started
    assert code == 503, body
    assert "Unschedulable: 0/4 nodes are available: 2 Insufficient nvidia.com/gpu" in json.dumps(body)
    assert 5 <= elapsed < 12  # EJ_UNSCHEDULABLE_GRACE_SECONDS=5, well before the 30 s launch timeout


def test_a_queued_kernel_waits_past_the_unschedulable_grace_and_its_timeout_is_a_503_with_the_queue(gateway):
    started = time.monotonic()
    code, body = request(gateway, "POST", "/api/kernels", {
        "name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": gateway.namespace, "KERNEL_USERNAME": "dana", "KERNEL_GPUS": "2"}})
    elapsed = time.monotonic() - started
    assert code == 503, body
    assert ("QueueTimeout: waited 7 s for GPUs (gpuPolicy.queueTimeout 7 s) and was still 2nd of 2 in namespace x's GPU queue: "
            "user dana holds 1 of the 1 nvidia.com/gpu") in json.dumps(body)
    assert 7 <= elapsed < 15  # not failed at the 5 s unschedulable grace, nor left to the 30 s launch timeout

"""The first kernel of a fresh gateway answers at once: a real Enterprise Gateway is started anew
for every try, its first kernel is started over REST, and an execute_request is sent the moment
the kernel's websocket opens, as JupyterLab sends its first messages. Directly against the gateway,
and through a notebook server (jupyter_server 2 with --gateway-url, as JupyterLab reaches it).
Any try whose reply takes longer than STALL_SECONDS is a stall (users saw 60 s, EG's
kernel_info_timeout). EJ_STALL_TRIES sets how many tries per path (CI runs a size that fits; a
local soak runs hundreds)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path

import pytest
from conftest import CRDS, free_port
from test_gateway import KERNELSPEC, KUBECONFIG, request, running_gateway
from tornado import gen, ioloop, websocket

pytestmark = pytest.mark.skipif(not KUBECONFIG, reason="no cluster: ci/test/python.sh starts one (EJ_PY_CLUSTER_KUBECONFIG)")
TRIES = int(os.environ.get("EJ_STALL_TRIES", "10"))
STALL_SECONDS = 15.0


async def execute_reply_seconds(ws_future, session: str, started: float, deadline: float) -> float:
    """Once the websocket opens, sends execute at once; the seconds from `started` to its reply (inf: none by `deadline`)."""
    msg_id = uuid.uuid4().hex
    try:
        ws = await gen.with_timeout(deadline, ws_future)
    except gen.TimeoutError:
        return float("inf")
    try:
        await ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "u", "session": session, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": "1+1", "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False},
        }))
        while True:
            raw = await gen.with_timeout(deadline, ws.read_message())
            if raw is None:
                return float("inf")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") == msg_id and msg["msg_type"] == "execute_reply":
                return time.monotonic() - started
    except gen.TimeoutError:
        return float("inf")
    finally:
        ws.close()


def channels_url(url: str, kernel_id: str, session: str) -> str:
    return f"{url.replace('http', 'ws')}/api/kernels/{kernel_id}/channels?session_id={session}"


async def first_reply_seconds(url: str, kernel_id: str) -> float:
    """Opens the kernel's websocket, sends execute at once, returns the seconds to its reply."""
    session = uuid.uuid4().hex
    started, deadline = time.monotonic(), ioloop.IOLoop.current().time() + STALL_SECONDS
    return await execute_reply_seconds(websocket.websocket_connect(channels_url(url, kernel_id, session)), session, started, deadline)


@contextlib.contextmanager
def notebook_server(gw, tmp: Path):
    """jupyter_server 2.x (the notebook venv) in front of the gateway, as the operator configures notebooks."""
    venv = os.environ.get("EJ_NOTEBOOK_VENV")
    if not venv:
        pytest.skip("EJ_NOTEBOOK_VENV not set; run ci/test/python.sh")
    port = free_port()
    env = {**os.environ, "JUPYTER_GATEWAY_URL": gw.url, "KERNEL_NAMESPACE": gw.namespace, "KERNEL_USERNAME": "u",
           "JUPYTER_CONFIG_DIR": str(tmp / "nb-config"), "JUPYTER_DATA_DIR": str(tmp / "nb-data"), "JUPYTER_RUNTIME_DIR": str(tmp / "nb-runtime")}
    log = tmp / "notebook.log"
    process = subprocess.Popen([f"{venv}/bin/jupyter-server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                                "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True", "--allow-root", "--ServerApp.root_dir", str(tmp)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(types.SimpleNamespace(url=url), "GET", "/api")[0] == 200:
                    break
            except OSError:  # not listening yet
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the notebook server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield types.SimpleNamespace(url=url, log=log)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("via", ["gateway", "notebook-server"])
def test_the_first_kernel_of_a_fresh_gateway_answers_its_first_execute_at_once(tmp_path, via):
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} does not exist yet")
    latencies, stalls = [], []
    for i in range(TRIES):
        tmp = tmp_path / f"try-{i}"
        with running_gateway(tmp) as gw, (notebook_server(gw, tmp) if via == "notebook-server" else contextlib.nullcontext(gw)) as server:
            code, model = request(server, "POST", "/api/kernels", {"name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": gw.namespace, "KERNEL_USERNAME": "u"}})
            assert code == 201, (model, gw.log.read_text()[-3000:])
            seconds = ioloop.IOLoop.current().run_sync(lambda: first_reply_seconds(server.url, model["id"]), timeout=STALL_SECONDS + 30)
            latencies.append(seconds)
            if seconds > STALL_SECONDS:
                logs = gw.log.read_text()[-4000:] + ("" if server is gw else "\n--- notebook server ---\n" + server.log.read_text()[-4000:])
                stalls.append((i, logs))
    finite = sorted(x for x in latencies if x != float("inf"))
    print(f"first kernels of fresh gateways via the {via}: {TRIES} tries, {len(stalls)} stalls; reply p50 {finite[len(finite) // 2]:.2f} s, max {finite[-1]:.2f} s" if finite else f"via the {via}: no replies")
    assert not stalls, f"{len(stalls)} of {TRIES} first executes got no reply within {STALL_SECONDS} s; logs of try {stalls[0][0]}:\n{stalls[0][1]}"


async def reopened_reply_seconds(url: str, kernel_id: str, hold_first: float) -> float:
    """As JupyterLab does: opens the kernel's websocket twice in a row with one session id, the
    second while the first is still opening, keeps the first open for `hold_first` seconds, and
    sends execute on the second the moment it opens. Returns the seconds to the execute's reply."""
    session = uuid.uuid4().hex
    started, deadline = time.monotonic(), ioloop.IOLoop.current().time() + STALL_SECONDS
    first = websocket.websocket_connect(channels_url(url, kernel_id, session))
    second = websocket.websocket_connect(channels_url(url, kernel_id, session))

    async def close_first_later():
        ws = await first
        await gen.sleep(hold_first)
        ws.close()

    ioloop.IOLoop.current().spawn_callback(close_first_later)
    return await execute_reply_seconds(second, session, started, deadline)


SLOW_START_KERNEL = [sys.executable, str(Path(__file__).parent / "slow_start_kernel.py"), "-f", "{connection_file}"]


@pytest.mark.parametrize("via", ["gateway", "notebook-server"])
@pytest.mark.parametrize("kernel", ["ipykernel", "slow-start"])
def test_a_kernel_websocket_opened_twice_in_a_row_answers_on_the_second(tmp_path, kernel, via):
    """JupyterLab opens a new kernel's websocket twice in a row with the same session id; the
    second connection must get its replies, every time. With a kernel that is slow to answer its
    first kernel_info requests, the first connection's nudge is still pending when the second
    replaces it, which is when Enterprise Gateway's restore of the buffered channels loses the
    second connection's messages (the stall users saw)."""
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} does not exist yet")
    latencies, stalls = [], []
    for i in range(TRIES):
        tmp = tmp_path / f"try-{i}"
        with running_gateway(tmp, SLOW_START_KERNEL if kernel == "slow-start" else None) as gw, \
                (notebook_server(gw, tmp) if via == "notebook-server" else contextlib.nullcontext(gw)) as server:
            code, model = request(server, "POST", "/api/kernels", {"name": KERNELSPEC, "env": {"KERNEL_NAMESPACE": gw.namespace, "KERNEL_USERNAME": "u"}})
            assert code == 201, (model, gw.log.read_text()[-3000:])
            seconds = ioloop.IOLoop.current().run_sync(lambda: reopened_reply_seconds(server.url, model["id"], hold_first=STALL_SECONDS + 10), timeout=STALL_SECONDS + 30)
            latencies.append(seconds)
            if seconds > STALL_SECONDS:
                logs = gw.log.read_text()[-5000:] + ("" if server is gw else "\n--- notebook server ---\n" + server.log.read_text()[-5000:])
                stalls.append((i, logs))
    finite = sorted(x for x in latencies if x != float("inf"))
    print(f"websockets opened twice: {TRIES} tries, {len(stalls)} stalls; reply p50 {finite[len(finite) // 2]:.2f} s" if finite else "opened twice: no replies")
    assert not stalls, f"{len(stalls)} of {TRIES} second connections got no reply within {STALL_SECONDS} s; gateway log of try {stalls[0][0]}:\n{stalls[0][1]}"

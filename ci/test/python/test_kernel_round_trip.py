"""A real kernel round trip without Kubernetes: EG's own response listener (ResponseManager, which
decrypts with the gateway's private key) receives what our bootstrap sends from a real ipykernel;
jupyter_client then executes code on that kernel with exactly the connection info EG decrypted, and
EG's own comm-port client interrupts and shuts it down."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path

import pytest
from conftest import BOOTSTRAP, kernel_pythons
from enterprise_gateway.services.processproxies.processproxy import RemoteProcessProxy, ResponseManager
from jupyter_client import BlockingKernelClient

POD_IP = "127.0.0.23"  # a loopback address of its own, as the test kubelet gives each pod
PORT_RANGE = (42000, 43000)


def start_bootstrap(python: str, manager: ResponseManager, kernel_id: str, log_path,
                    args: list[str] | None = None, **overrides) -> subprocess.Popen:
    """The bootstrap (or, with args, python running those args) with the settings a pod gets."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "KERNEL_ID": kernel_id,
        "KERNEL_LANGUAGE": "python",
        "RESPONSE_ADDRESS": manager.response_address,
        "PUBLIC_KEY": manager.public_key,
        "PORT_RANGE": f"{PORT_RANGE[0]}..{PORT_RANGE[1]}",
        "POD_IP": POD_IP,
        **overrides,
    }
    return subprocess.Popen([python, *(args or [str(BOOTSTRAP)])], env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)


async def receive_connection_info(manager: ResponseManager, kernel_id: str, process: subprocess.Popen, log_path) -> dict:
    deadline = time.monotonic() + 60
    while True:
        try:
            return await manager.get_connection_info(kernel_id)
        except asyncio.TimeoutError:
            if process.poll() is not None:
                pytest.fail(f"bootstrap exited {process.returncode} before responding:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"no connection info within 60 s:\n{log_path.read_text()}")
            await asyncio.sleep(0.05)


def stop(process: subprocess.Popen) -> None:
    """Cleanup after a failed test: TERM lets the bootstrap stop its kernel too; KILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def comm_client(info: dict, kernel_id: str):
    """EG's own comm-port client code (RemoteProcessProxy), bound to just the state it reads."""
    proxy = types.SimpleNamespace(
        comm_ip=POD_IP, comm_port=int(info["comm_port"]), kernel_id=kernel_id,
        log=logging.getLogger("eg"), tunnel_processes={},
    )
    proxy._send_listener_request = types.MethodType(RemoteProcessProxy._send_listener_request, proxy)
    return types.SimpleNamespace(
        send_signal=lambda signum: RemoteProcessProxy.send_signal(proxy, signum),
        shutdown_listener=lambda: RemoteProcessProxy.shutdown_listener(proxy),
    )


def shell_reply(kc: BlockingKernelClient, msg_id: str, timeout: float) -> dict:
    """The shell reply to msg_id. jupyter_client's wait_for_ready sends kernel_info_request again
    whenever a reply (or iopub) is slow, so a late kernel_info_reply may still be queued: skip
    those; any other reply is a failure."""
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["msg_type"] == "kernel_info_reply" and reply["parent_header"]["msg_id"] != msg_id:
            continue
        assert reply["parent_header"]["msg_id"] == msg_id, reply
        return reply


def run_cell(kc: BlockingKernelClient, code: str, timeout: float = 30) -> tuple[dict, str]:
    """Executes code; returns the shell reply content and everything printed or displayed."""
    msg_id = kc.execute(code)
    reply = shell_reply(kc, msg_id, timeout)
    output = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            output.append(content["text"])
        elif kind == "execute_result":
            output.append(content["data"]["text/plain"])
        elif kind == "status" and content["execution_state"] == "idle":
            return reply["content"], "".join(output)


@pytest.mark.parametrize(("kernel_python", "crypto"), kernel_pythons())
def test_kernel_round_trip_execute_interrupt_shutdown(response_manager, kernel_python, crypto, tmp_path):
    loop, manager = response_manager
    kernel_id = str(uuid.uuid4())
    manager.register_event(kernel_id)
    log_path = tmp_path / "bootstrap.log"
    started = time.monotonic()
    process = start_bootstrap(kernel_python, manager, kernel_id, log_path)
    kc = None
    try:
        info = loop.run_until_complete(receive_connection_info(manager, kernel_id, process, log_path))
        ready_seconds = time.monotonic() - started

        # What EG decrypted: the kernel's id, five ZMQ ports and a comm port inside the range.
        assert info["kernel_id"] == kernel_id
        ports = [info[name] for name in ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")]
        assert len(set(ports + [info["comm_port"]])) == 6
        assert all(PORT_RANGE[0] <= p <= PORT_RANGE[1] for p in ports + [info["comm_port"]]), info
        assert info["signature_scheme"] == "hmac-sha256" and info["transport"] == "tcp" and info["key"]
        assert isinstance(info["pid"], int) and info["pid"] > 0

        # EG replaces ip with the pod IP and pops pid/pgid before loading the info; do the same.
        connection = {k: v for k, v in info.items() if k not in ("pid", "pgid", "comm_port", "kernel_id")}
        connection["ip"] = POD_IP
        kc = BlockingKernelClient()
        kc.load_connection_info(connection)
        kc.start_channels()
        kc.wait_for_ready(timeout=30)

        reply, output = run_cell(kc, "import os\nanswer = 6 * 7\nprint('pid', os.getpid())\nanswer")
        assert reply["status"] == "ok", reply
        assert f"pid {info['pid']}" in output and "42" in output

        # Interrupt through the comm port, as EG does for a kernel with interrupt_mode "signal".
        comm = comm_client(info, kernel_id)
        msg_id = kc.execute("import time\ntime.sleep(120)")
        busy = kc.get_iopub_msg(timeout=10)
        while not (busy["msg_type"] == "status" and busy["content"]["execution_state"] == "busy"):
            busy = kc.get_iopub_msg(timeout=10)
        time.sleep(0.3)  # let the cell reach the sleep
        interrupted_at = time.monotonic()
        assert comm.send_signal(signal.SIGINT) is None  # None: delivered through the comm port
        reply = shell_reply(kc, msg_id, 20)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - interrupted_at < 10

        # The kernel survives the interrupt and keeps its state. (ipykernel aborts requests that
        # arrive while it is still clearing its queue after the error: retry those.)
        for _ in range(20):
            reply, output = run_cell(kc, "answer + 1")
            if reply["status"] != "aborted":
                break
            time.sleep(0.1)
        assert reply["status"] == "ok" and "43" in output

        # Shutdown the way EG does: a shutdown_request on the control channel, then the listener's.
        kc.shutdown()
        comm.shutdown_listener()
        assert process.wait(timeout=15) == 0, log_path.read_text()
        assert f"connection info sent to {manager.response_address} ({crypto})" in log_path.read_text()
        print(f"kernel ready (connection info received) in {ready_seconds:.2f} s")
    finally:
        if kc is not None:
            kc.stop_channels()
        stop(process)


def test_shutdown_request_alone_stops_a_busy_kernel(response_manager, tmp_path):
    """A kernel that ignores the control channel (busy in C code, hung) still goes when EG's listener
    shutdown arrives: the bootstrap terminates it and exits 0 so the pod ends Succeeded."""
    loop, manager = response_manager
    kernel_id = str(uuid.uuid4())
    manager.register_event(kernel_id)
    log_path = tmp_path / "bootstrap.log"
    process = start_bootstrap(sys.executable, manager, kernel_id, log_path)
    try:
        info = loop.run_until_complete(receive_connection_info(manager, kernel_id, process, log_path))
        comm_client(info, kernel_id).shutdown_listener()
        assert process.wait(timeout=15) == 0, log_path.read_text()
        assert "shutdown requested by the gateway" in log_path.read_text()
    finally:
        stop(process)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"PUBLIC_KEY": ""}, "missing environment variable(s): PUBLIC_KEY"),
        ({"PUBLIC_KEY": "bm90IGEga2V5"}, "PUBLIC_KEY is not a base64 DER RSA public key"),
        ({"PORT_RANGE": "40000-41000"}, "PORT_RANGE must look like '40000..41000'"),
        ({"PORT_RANGE": "80..90"}, "1024 <= lo <= hi <= 65535"),
        ({"RESPONSE_ADDRESS": "gateway"}, "RESPONSE_ADDRESS must be 'host:port'"),
        ({"KERNEL_LANGUAGE": "r"}, "KERNEL_LANGUAGE 'r' needs a kernel command"),
        ({"POD_IP": "fd00::7"}, "POD_IP must be an IPv4 address"),
    ],
)
def test_bad_settings_fail_at_once_naming_the_variable(response_manager, tmp_path, overrides, expected):
    _, manager = response_manager
    log_path = tmp_path / "bootstrap.log"
    started = time.monotonic()
    termination_log = tmp_path / "termination-log"
    termination_log.touch()  # the kubelet creates it in a pod
    process = start_bootstrap(sys.executable, manager, str(uuid.uuid4()), log_path,
                              KERNEL_BOOTSTRAP_TERMINATION_LOG=str(termination_log), **overrides)
    assert process.wait(timeout=20) == 1
    assert time.monotonic() - started < 10
    assert expected in log_path.read_text()
    assert expected in termination_log.read_text()  # what the pod's status will say


def test_eg_prefixed_settings_are_accepted(response_manager, tmp_path):
    loop, manager = response_manager
    kernel_id = str(uuid.uuid4())
    manager.register_event(kernel_id)
    log_path = tmp_path / "bootstrap.log"
    process = start_bootstrap(
        sys.executable, manager, kernel_id, log_path,
        RESPONSE_ADDRESS="", PUBLIC_KEY="", PORT_RANGE="",
        EG_RESPONSE_ADDRESS=manager.response_address, EG_PUBLIC_KEY=manager.public_key, EG_PORT_RANGE="0..0",
    )
    try:
        info = loop.run_until_complete(receive_connection_info(manager, kernel_id, process, log_path))
        assert info["kernel_id"] == kernel_id
        comm_client(info, kernel_id).shutdown_listener()
        assert process.wait(timeout=15) == 0, log_path.read_text()
        assert "shutdown requested by the gateway" in log_path.read_text()
    finally:
        stop(process)


def test_a_request_sent_as_soon_as_the_gateway_has_the_connection_info_is_served(response_manager, tmp_path):
    """EG may send a shutdown (or interrupt) the moment it has decrypted the connection info. The comm
    port must already accept connections then: EG ignores ECONNREFUSED, so a refused request is
    silently lost and the kernel pod keeps running (and holding its GPU). A bootstrap descheduled
    between responding and serving makes the window wide enough to hit every time."""
    loop, manager = response_manager
    kernel_id = str(uuid.uuid4())
    manager.register_event(kernel_id)
    log_path = tmp_path / "bootstrap.log"
    slow_to_serve = (
        "import sys, time; sys.path.insert(0, sys.argv[1]); import bootstrap\n"
        "serve = bootstrap.KernelSupervisor.serve\n"
        "bootstrap.KernelSupervisor.serve = lambda self, sock: (time.sleep(2), serve(self, sock))[1]\n"
        "sys.exit(bootstrap.main([]))\n"
    )
    process = start_bootstrap(sys.executable, manager, kernel_id, log_path, args=["-c", slow_to_serve, str(BOOTSTRAP.parent)])
    try:
        info = loop.run_until_complete(receive_connection_info(manager, kernel_id, process, log_path))
        comm_client(info, kernel_id).shutdown_listener()
        assert process.wait(timeout=15) == 0, log_path.read_text()
        assert "shutdown requested by the gateway" in log_path.read_text()
    finally:
        stop(process)


def test_a_pod_deletion_sigterm_stops_kernel_and_bootstrap_cleanly(response_manager, tmp_path):
    loop, manager = response_manager
    kernel_id = str(uuid.uuid4())
    manager.register_event(kernel_id)
    log_path = tmp_path / "bootstrap.log"
    process = start_bootstrap(sys.executable, manager, kernel_id, log_path)
    try:
        info = loop.run_until_complete(receive_connection_info(manager, kernel_id, process, log_path))
        process.send_signal(signal.SIGTERM)  # what the kubelet does first when the pod is deleted
        assert process.wait(timeout=15) == 0, log_path.read_text()
        with pytest.raises(ProcessLookupError):
            os.kill(info["pid"], 0)  # the kernel went with it
    finally:
        stop(process)


def test_a_custom_kernel_command_gets_the_connection_file(response_manager, tmp_path):
    """Non-Python kernels (or a custom launch) give their command after '--'."""
    loop, manager = response_manager
    kernel_id = str(uuid.uuid4())
    manager.register_event(kernel_id)
    log_path = tmp_path / "bootstrap.log"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "KERNEL_ID": kernel_id,
           "KERNEL_LANGUAGE": "r", "RESPONSE_ADDRESS": manager.response_address, "PUBLIC_KEY": manager.public_key,
           "POD_IP": POD_IP}
    command = [sys.executable, str(BOOTSTRAP), "--", sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    process = subprocess.Popen(command, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    try:
        info = loop.run_until_complete(receive_connection_info(manager, kernel_id, process, log_path))
        kc = BlockingKernelClient()
        kc.load_connection_info({**info, "ip": POD_IP})
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=30)
            reply, output = run_cell(kc, "print('custom')")
            assert reply["status"] == "ok" and "custom" in output
        finally:
            kc.stop_channels()
        comm_client(info, kernel_id).shutdown_listener()
        assert process.wait(timeout=15) == 0
    finally:
        stop(process)


def zombie_children(pid: int) -> list[int]:
    zombies = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            zombies.append(int(stat.parent.name))
    return zombies


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare for a PID namespace")
def test_as_pid_1_of_a_container_it_keeps_the_kernel_reaps_orphans_and_stops_on_sigterm(response_manager, tmp_path):
    """In a pod the bootstrap is PID 1: the kernel must not mistake that for a dead parent, orphans
    of the kernel land on the bootstrap and must be reaped, and SIGTERM must still stop it."""
    loop, manager = response_manager
    kernel_id = str(uuid.uuid4())
    manager.register_event(kernel_id)
    log_path = tmp_path / "bootstrap.log"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "KERNEL_ID": kernel_id,
           "RESPONSE_ADDRESS": manager.response_address, "PUBLIC_KEY": manager.public_key, "POD_IP": POD_IP}
    process = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", sys.executable, str(BOOTSTRAP)],
                               env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    kc = None
    try:
        info = loop.run_until_complete(receive_connection_info(manager, kernel_id, process, log_path))
        bootstrap_pid = int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])
        kc = BlockingKernelClient()
        kc.load_connection_info({**info, "ip": POD_IP})
        kc.start_channels()
        kc.wait_for_ready(timeout=30)
        reply, output = run_cell(kc, "import os, subprocess, time\n"
                                     "subprocess.run(['sh', '-c', 'sleep 0.2 & exit 0'])\n"
                                     "time.sleep(2.5)\nprint('parent', os.getppid())")
        assert reply["status"] == "ok" and "parent 1" in output  # alive for seconds as PID 1's child
        assert zombie_children(bootstrap_pid) == []  # the orphaned sleep was reaped
        kc.stop_channels()
        kc = None
        os.kill(bootstrap_pid, signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log_path.read_text()
    finally:
        if kc is not None:
            kc.stop_channels()
        stop(process)


def test_an_image_without_ipykernel_says_so(response_manager, tmp_path):
    _, manager = response_manager
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    termination_log = tmp_path / "termination-log"
    termination_log.touch()
    log_path = tmp_path / "bootstrap.log"
    process = start_bootstrap(str(bare / "bin/python"), manager, str(uuid.uuid4()), log_path,
                              KERNEL_BOOTSTRAP_TERMINATION_LOG=str(termination_log))
    assert process.wait(timeout=20) == 1
    assert f"ipykernel is not installed for {bare}/bin/python; the kernel image needs it" in termination_log.read_text()

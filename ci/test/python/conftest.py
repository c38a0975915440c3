"""Shared setup for the Python tests (run with the gateway venv's pytest: ci/test/python.sh)."""

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
GATEWAY_FILES = REPO / "charts/elastic-jupyter/files/gateway"
BOOTSTRAP = REPO / "charts/elastic-jupyter/files/kernel/bootstrap.py"
CRDS = REPO / "charts/elastic-jupyter/files/crds"
sys.path[:0] = [str(GATEWAY_FILES), str(BOOTSTRAP.parent)]


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


# EG reads these when its modules are imported: bind the response listener on loopback, on a port
# of our own so parallel runs (and a real gateway on 8877) do not collide.
os.environ.setdefault("EG_RESPONSE_IP", "127.0.0.1")
os.environ.setdefault("EG_RESPONSE_PORT", str(free_port()))

# Importing EG's k8s.py needs credentials. Outside a pod our fallback reads KUBECONFIG; without a
# cluster at hand a kubeconfig for an unreachable server is enough (loading it makes no request).
if not os.environ.get("KUBECONFIG"):
    unreachable = Path(os.environ.get("TMPDIR", "/tmp")) / f"ej-pytest-{os.getpid()}.kubeconfig"
    unreachable.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: none\n"
        "clusters: [{name: none, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: none, user: {token: none}}]\n"
        "contexts: [{name: none, context: {cluster: none, user: none}}]\n"
    )
    os.environ["KUBECONFIG"] = str(unreachable)


def kernel_pythons():
    """The interpreters a kernel image might have: the gateway venv's own (ipykernel 6 and
    pycryptodomex) and the notebook venv's (ipykernel 7, no crypto library at all)."""
    pythons = [pytest.param(sys.executable, "pycryptodomex", id="ipykernel6-pycryptodomex")]
    notebook_venv = os.environ.get("EJ_NOTEBOOK_VENV")
    if notebook_venv:
        pythons.append(pytest.param(str(Path(notebook_venv) / "bin/python"), "pure-python", id="ipykernel7-purepython"))
    else:
        pythons.append(pytest.param(None, None, id="ipykernel7-purepython",
                                    marks=pytest.mark.skip(reason="EJ_NOTEBOOK_VENV not set; run ci/test/python.sh")))
    return pythons


@pytest.fixture
def response_manager():
    """EG's singleton response listener (key pair + socket), fresh for each test: it binds itself
    to the event loop current when it is created."""
    from enterprise_gateway.services.processproxies.processproxy import ResponseManager

    async def create():
        return ResponseManager.instance()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    manager = loop.run_until_complete(create())
    yield loop, manager
    manager._response_socket.close()
    manager.stop_response_manager()
    ResponseManager.clear_instance()
    loop.close()
    asyncio.set_event_loop(None)

"""A minimal Kubernetes API client for the notebook server's direct mode, on the standard library.

Credentials: the pod's service account (KUBERNETES_SERVICE_HOST/PORT and the token, CA and
namespace under /var/run/secrets/kubernetes.io/serviceaccount; the token is re-read on every
request since the kubelet rotates it). Calls are blocking; async callers run them in a thread.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.request

SA_DIR = os.environ.get("EJ_SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")


class ApiError(Exception):
    def __init__(self, status: int, body: str):
        self.status = status
        self.body = body
        try:
            message = json.loads(body).get("message", body)
        except ValueError:
            message = body
        super().__init__(f"{status}: {message}")
        self.message = message


class Kube:
    def __init__(self, server: str | None = None, sa_dir: str = SA_DIR):
        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        if server is None:
            if not host:
                raise RuntimeError("not in a pod: KUBERNETES_SERVICE_HOST is unset")
            server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
        self.server = server.rstrip("/")
        self.sa_dir = sa_dir
        self.context = ssl.create_default_context(cafile=os.path.join(sa_dir, "ca.crt"))

    @property
    def namespace(self) -> str:
        with open(os.path.join(self.sa_dir, "namespace")) as f:
            return f.read().strip()

    def _token(self) -> str:
        with open(os.path.join(self.sa_dir, "token")) as f:
            return f.read().strip()

    def open(self, method: str, path: str, body: dict | None = None, timeout: float = 30, content_type: str = "application/json"):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self._token()}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            return urllib.request.urlopen(req, timeout=timeout, context=self.context)
        except urllib.error.HTTPError as err:
            raise ApiError(err.code, err.read().decode(errors="replace")) from None

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 30) -> dict:
        with self.open(method, path, body, timeout) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else {}

    def watch(self, path: str, resource_version: str, timeout_s: int = 60):
        """Yields watch events (dicts with type and object) until the server ends the stream."""
        sep = "&" if "?" in path else "?"
        url = f"{path}{sep}watch=1&allowWatchBookmarks=false&timeoutSeconds={timeout_s}&resourceVersion={resource_version}"
        with self.open("GET", url, timeout=timeout_s + 15) as resp:
            for line in resp:
                if line.strip():
                    yield json.loads(line)


def collection_path(namespace: str, plural: str, group: str | None = None, version: str = "v1") -> str:
    if group:
        return f"/apis/{group}/{version}/namespaces/{namespace}/{plural}"
    return f"/api/{version}/namespaces/{namespace}/{plural}"

"""The notebook server's kernelspecs in direct mode: the JupyterKernelSpecs of its namespace that it
may use (JupyterKernelSpecManager.kernels; empty: all), each a kernel.json launched by our
provisioner. Read from the API server (cached for a few seconds), so kernelspecs come and go
without a restart; the image's own kernelspecs and the native python3 are never offered (they
would run users' code in the notebook pod, outside any kernel pod, GPU policy or culling)."""

from __future__ import annotations

import os
import tempfile
import time

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
from traitlets import Float, List, Unicode

from elastic_jupyter_direct import GROUP, VERSION
from elastic_jupyter_direct.kube import Kube, collection_path
from elastic_jupyter_direct.resource import selected_kernelspecs


class JupyterKernelSpecManager(KernelSpecManager):
    kernels = List(Unicode(), config=True, help="JupyterKernelSpec names the notebook may use; empty: all in its namespace.")
    cache_seconds = Float(5.0, config=True, help="How long a read of the JupyterKernelSpecs is reused.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._cached: dict[str, dict] = {}
        self._cached_at = 0.0
        self._kube: Kube | None = None
        # jupyter_server looks for logos and kernel.js in a kernelspec's resource_dir; ours have
        # none, and "" would make it look in the server's working directory (the user's files).
        self._resource_dir = tempfile.mkdtemp(prefix="elastic-jupyter-kernelspecs-")

    def _specs(self) -> dict[str, dict]:
        if time.monotonic() - self._cached_at < self.cache_seconds:
            return self._cached
        self._kube = self._kube or Kube()
        try:
            listed = self._kube.request("GET", collection_path(self._kube.namespace, "jupyterkernelspecs", GROUP, VERSION))
            self._cached = selected_kernelspecs(listed.get("items") or [], list(self.kernels))
            self._cached_at = time.monotonic()
        except Exception as err:  # noqa: BLE001 - keep offering what we knew during an API blip
            self.log.warning(f"listing JupyterKernelSpecs: {err}")
        return self._cached

    def find_kernel_specs(self) -> dict[str, str]:
        return {name: self._resource_dir for name in self._specs()}

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        spec = self._specs().get(kernel_name)
        if spec is None:
            raise NoSuchKernel(kernel_name)
        return KernelSpec(resource_dir=self._resource_dir, **spec)

    def get_all_specs(self) -> dict:
        return {name: {"resource_dir": self._resource_dir, "spec": spec} for name, spec in self._specs().items()}

    def remove_kernel_spec(self, name: str) -> str:
        raise NotImplementedError("kernelspecs are JupyterKernelSpecs: delete the custom resource")

    def install_kernel_spec(self, *args, **kwargs):
        raise NotImplementedError("kernelspecs are JupyterKernelSpecs: create a custom resource")

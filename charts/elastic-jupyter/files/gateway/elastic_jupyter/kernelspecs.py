"""The gateway's kernelspec manager: only the kernelspecs the sidecar syncs from JupyterKernelSpecs.

jupyter_client's KernelSpecManager searches every directory on Jupyter's data path (the image's own
kernelspecs live there) and adds a "native" python3 kernelspec whenever ipykernel is importable.
Either would run users' code inside the gateway pod, outside any kernel pod, GPU request or
culling. Its `kernel_dirs` is not configurable in the jupyter_client EG 3.x pins, hence a subclass.
"""
import os

from jupyter_client.kernelspec import KernelSpecManager
from traitlets import Bool, Unicode, default

DEFAULT_KERNELS_DIR = "/usr/local/share/jupyter/kernels"


class SyncedKernelSpecManager(KernelSpecManager):
    kernels_dir = Unicode(config=True, help="The one directory kernelspecs are read from (env EJ_GATEWAY_KERNELS_DIR).")
    ensure_native_kernel = Bool(False, config=True, help="Never offer the gateway's own Python as a kernel.")

    @default("kernels_dir")
    def _kernels_dir_default(self):
        return os.environ.get("EJ_GATEWAY_KERNELS_DIR", DEFAULT_KERNELS_DIR)

    # The parent's default method, by name: jupyter_client 6 (EG 3.x) uses traitlets' magic names.
    def _kernel_dirs_default(self):
        return [self.kernels_dir]

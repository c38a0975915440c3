"""Elastic Jupyter's additions to a stock Jupyter Enterprise Gateway (3.x).

The chart mounts this package into the gateway container and puts its parent directory on
PYTHONPATH; nothing else in the gateway image changes.

  process_proxy.JupyterKernelProcessProxy  kernel.json `metadata.process_proxy.class_name`
  launch_kernel                            kernel.json `argv`: creates the JupyterKernel and exits
  kernelspecs.SyncedKernelSpecManager      the gateway's kernelspec manager (set by
                                           jupyter_enterprise_gateway_config.py, found through
                                           JUPYTER_CONFIG_PATH): the synced kernelspecs only

A kernel.json that uses them (what the operator renders for a JupyterKernelSpec):

  {"display_name": "...", "language": "python",
   "metadata": {"process_proxy": {
       "class_name": "elastic_jupyter.process_proxy.JupyterKernelProcessProxy",
       "config": {"image_name": "<spec.image>"}}},
   "env": {"PYTHONPATH": "<where this package's parent is mounted>"},
   "argv": ["python", "-m", "elastic_jupyter.launch_kernel", "--kernel-id", "{kernel_id}",
            "--port-range", "{port_range}", "--response-address", "{response_address}",
            "--public-key", "{public_key}", "--kernel-spec", "<JupyterKernelSpec name>",
            "--spec-image", "<spec.image>"]}

Why each part: jupyter_client replaces argv[0] "python" with the gateway's own interpreter, so no
PATH is needed; EG gives the launcher only the inherited, kernelspec and KERNEL_* variables (plus
KUBECONFIG* / KUBERNETES_SERVICE_*), so PYTHONPATH must come from the kernelspec `env` (or
EG_INHERITED_ENVS); `--spec-image` lets the launcher tell a user's KERNEL_IMAGE override from the
kernelspec's own image, which EG always puts in KERNEL_IMAGE. Gateway setting of ours:
EJ_UNSCHEDULABLE_GRACE_SECONDS (default 5) - how long a kernel may stay Unschedulable before its
launch fails with the scheduler's message (0: wait for EG's launch timeout).
Rendering of kernel pods belongs to the controller; this package only creates the request and
reads its status.
"""

GROUP = "kubeflow.tkestack.io"
VERSION = "v1alpha1"
PLURAL = "jupyterkernels"
KIND = "JupyterKernel"

"""Elastic Jupyter's direct mode: a stock Jupyter server (jupyter_client >= 8) starts its kernels as
JupyterKernel pods itself, with no gateway in between (docs/direct-mode.md).

The operator mounts this package (and its `elastic_jupyter_direct-1.0.dist-info`, whose
entry_points.txt registers the provisioner with importlib.metadata) into the notebook container and
puts the directory on PYTHONPATH; nothing is pip-installed.

  provisioner.JupyterKernelProvisioner  jupyter_client.kernel_provisioners entry point
                                        "elastic-jupyter-direct"
  kernelspecs.JupyterKernelSpecManager  ServerApp.kernel_spec_manager_class: the JupyterKernelSpecs
                                        the notebook may use, as kernel.json pointing at the provisioner
  kube                                  a small in-cluster API client (the standard library only:
                                        notebook images have no kubernetes package)
  resource                              pure functions: manifests, states, kernel.json
"""

GROUP = "kubeflow.tkestack.io"
VERSION = "v1alpha1"
PROVISIONER_NAME = "elastic-jupyter-direct"

"""Enterprise Gateway configuration, found because the operator sets JUPYTER_CONFIG_PATH to this
directory: kernelspecs come only from what the sidecar syncs (see kernelspecs.py), and kernel
websockets are served by our handler (see channels.py)."""

from elastic_jupyter import channels

channels.install()

c = get_config()  # noqa: F821 (traitlets provides it to config files)
c.EnterpriseGatewayApp.kernel_spec_manager_class = "elastic_jupyter.kernelspecs.SyncedKernelSpecManager"

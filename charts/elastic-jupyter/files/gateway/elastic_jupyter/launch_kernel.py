"""The kernelspec launcher Enterprise Gateway runs (kernel.json argv): creates the JupyterKernel.

  python -m elastic_jupyter.launch_kernel --kernel-id {kernel_id} --port-range {port_range}
      --response-address {response_address} --public-key {public_key} --kernel-spec NAME
      [--kernel-spec-namespace NS] [--kernel-namespace NS] [--spec-image IMAGE]

It exits 0 once the object exists; the controller makes the pod and EG's process proxy polls the
object's status. The rest comes from the environment EG gives it: KERNEL_NAMESPACE,
KERNEL_RESOURCE_NAME, KERNEL_LANGUAGE, KERNEL_USERNAME, KERNEL_GPUS, KERNEL_IMAGE and the user's
other KERNEL_* variables. Exit status 2: bad request, 1: the API server refused or failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if not __package__:  # run as a file path rather than with -m: make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kubernetes import client  # noqa: E402

from elastic_jupyter import GROUP, PLURAL, VERSION  # noqa: E402
from elastic_jupyter.kernel_resource import LaunchRequestError, jupyter_kernel_manifest  # noqa: E402
from elastic_jupyter.kube_config import load_credentials  # noqa: E402

RECREATE_ATTEMPTS = 20  # a restart reuses the kernel id, so the old object may still be going away


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="launch_kernel", description=__doc__.split("\n")[0])
    parser.add_argument("--kernel-id", required=True)
    parser.add_argument("--port-range", default="0..0")
    parser.add_argument("--response-address", required=True)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--kernel-spec", required=True, help="name of the JupyterKernelSpec")
    parser.add_argument("--kernel-spec-namespace", help="namespace of the JupyterKernelSpec")
    parser.add_argument("--kernel-namespace", help="namespace of the JupyterKernel (default: KERNEL_NAMESPACE)")
    parser.add_argument("--spec-image", help="the kernelspec's own image: KERNEL_IMAGE equal to it is no override")
    return parser.parse_args(argv)


def manifest_from(args: argparse.Namespace, env: dict[str, str]) -> dict:
    return jupyter_kernel_manifest(
        kernel_id=args.kernel_id,
        kernel_spec=args.kernel_spec,
        kernel_spec_namespace=args.kernel_spec_namespace,
        namespace=args.kernel_namespace or env.get("KERNEL_NAMESPACE", ""),
        response_address=args.response_address,
        public_key=args.public_key,
        port_range=args.port_range,
        spec_image=args.spec_image,
        env=env,
    )


def create(manifest: dict) -> None:
    """Creates the object; an old one of the same name (same kernel id) is replaced."""
    api = client.CustomObjectsApi()
    name, namespace = manifest["metadata"]["name"], manifest["metadata"]["namespace"]
    for _ in range(RECREATE_ATTEMPTS):
        try:
            api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest)
            return
        except client.ApiException as err:
            if err.status != 409:
                raise
        try:
            api.delete_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, name, grace_period_seconds=0, propagation_policy="Background"
            )
        except client.ApiException as err:
            if err.status != 404:
                raise
        time.sleep(0.25)
    raise RuntimeError(f"JupyterKernel {namespace}/{name} still exists after {RECREATE_ATTEMPTS} attempts to replace it")


def main(argv: list[str], env: dict[str, str]) -> int:
    args = parse_args(argv)
    try:
        manifest = manifest_from(args, env)
    except LaunchRequestError as err:
        print(f"launch_kernel: {err}", file=sys.stderr)
        return 2
    where = f"{manifest['metadata']['namespace']}/{manifest['metadata']['name']}"
    try:
        source = load_credentials()
        create(manifest)
    except client.ApiException as err:
        print(f"launch_kernel: creating JupyterKernel {where} failed: {err.status} {err.reason}: {err.body}", file=sys.stderr)
        return 1
    except Exception as err:  # credentials, connection refused, ...
        print(f"launch_kernel: creating JupyterKernel {where} failed: {err}", file=sys.stderr)
        return 1
    print(f"launch_kernel: created JupyterKernel {where} (credentials: {source})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], dict(os.environ)))

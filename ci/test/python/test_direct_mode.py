"""Direct mode's Python side (docs/direct-mode.md): the provisioner package's pure functions, its
entry point found without pip (a dist-info directory on PYTHONPATH, as the operator mounts it),
and the kernel bootstrap's direct mode with a real ipykernel and jupyter_client 8."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BOOTSTRAP, REPO

NOTEBOOK_FILES = REPO / "charts/elastic-jupyter/files/notebook"
sys.path.insert(0, str(NOTEBOOK_FILES))

from elastic_jupyter_direct import resource  # noqa: E402

KERNEL_ID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"


def manifest(env=None, **kw):
    args = dict(kernel_id=KERNEL_ID, kernel_spec="python-gpu", namespace="team-a", notebook="alice", env=env or {})
    args.update(kw)
    return resource.direct_kernel_manifest(**args)


def test_the_jupyterkernel_carries_the_kernelspec_the_notebook_as_user_and_only_the_users_kernel_variables():
    m = manifest(
        {"KERNEL_GPUS": "2", "KERNEL_IMAGE": "team/img:1", "KERNEL_EXTRA": "x", "KERNEL_USERNAME": "mallory",
         "KERNEL_NAMESPACE": "kube-system", "KERNEL_CONNECTION_KEY": "k", "PATH": "/bin", "LD_PRELOAD": "/x.so"},
        owner_pod=("alice-abc", "uid-1"),
    )
    assert m["metadata"]["name"] == f"kernel-{KERNEL_ID}"
    assert m["metadata"]["namespace"] == "team-a"
    assert m["metadata"]["labels"] == {"kernel_id": KERNEL_ID, "kubeflow.tkestack.io/kernelspec": "python-gpu",
                                       "kubeflow.tkestack.io/notebook": "alice", "app.kubernetes.io/managed-by": "elastic-jupyter-notebook"}
    assert m["metadata"]["ownerReferences"] == [{"apiVersion": "v1", "kind": "Pod", "name": "alice-abc", "uid": "uid-1"}]
    assert m["spec"] == {"kernelId": KERNEL_ID, "kernelSpec": {"name": "python-gpu"}, "connectionMode": "Direct", "username": "alice",
                         "gpus": 2, "image": "team/img:1", "env": [{"name": "KERNEL_EXTRA", "value": "x"}]}
    # No key, no gateway settings: nothing secret in the custom resource.
    assert "k" not in json.dumps(m["spec"]["env"])
    # The kernelspec's own image is no override.
    assert "image" not in manifest({"KERNEL_IMAGE": "spec/img:1"}, spec_image="spec/img:1")["spec"]


@pytest.mark.parametrize("env, error", [
    ({"KERNEL_GPUS": "two"}, "KERNEL_GPUS must be a non-negative integer"),
    ({"KERNEL_GPUS": "-1"}, "KERNEL_GPUS must be a non-negative integer"),
])
def test_bad_user_settings_are_refused_before_anything_is_created(env, error):
    with pytest.raises(resource.LaunchRequestError, match=error):
        manifest(env)
    with pytest.raises(resource.LaunchRequestError, match="UUID"):
        manifest(kernel_id="not-a-uuid")


def test_launch_timeout_is_the_users_only_when_shorter_than_the_notebooks():
    assert resource.launch_timeout(None, 300) == 300
    assert resource.launch_timeout("30", 300) == 30
    assert resource.launch_timeout("9999", 300) == 300
    assert resource.launch_timeout("nan", 300) == 300
    with pytest.raises(resource.LaunchRequestError):
        resource.launch_timeout("soon", 300)


def test_the_key_lives_in_a_secret_owned_by_the_jupyterkernel():
    kernel = dict(manifest(), metadata=dict(manifest()["metadata"], uid="kuid"))
    s = resource.connection_secret_manifest(kernel, b"s3cret")
    assert s["metadata"]["name"] == f"kernel-{KERNEL_ID}-connection-kuid"
    assert s["metadata"]["ownerReferences"] == [{"apiVersion": "kubeflow.tkestack.io/v1alpha1", "kind": "JupyterKernel", "name": f"kernel-{KERNEL_ID}", "uid": "kuid"}]
    assert s["data"] == {"key": "czNjcmV0"}


def test_kernel_states_as_the_provisioner_reads_them():
    assert resource.kernel_state(None).state is None
    assert resource.kernel_state({"status": {}}).state == "pending"
    assert resource.kernel_state({"status": {"phase": "Running"}}).state == "pending"  # no IP yet
    running = resource.kernel_state({"metadata": {"uid": "u"}, "status": {"phase": "Running", "podIP": "10.0.0.7"}})
    assert (running.state, running.pod_ip, running.uid) == ("running", "10.0.0.7", "u")
    failed = resource.kernel_state({"status": {"phase": "Failed", "reason": "GPUQuotaExceeded", "message": "user alice holds 1"}})
    assert failed.terminal and failed.explanation() == "GPUQuotaExceeded: user alice holds 1"
    assert resource.http_status_for(failed) == 503
    assert resource.http_status_for(resource.kernel_state({"status": {"phase": "Failed", "reason": "DirectKernelNotAllowed"}})) == 403


def test_kernelspecs_become_provisioner_kernel_json_filtered_by_the_notebooks_list():
    items = [
        {"metadata": {"name": "python-gpu"}, "spec": {"language": "Python", "displayName": "GPU", "image": "img:1", "cullIdleTimeout": 600}},
        {"metadata": {"name": "python-cpu"}, "spec": {"language": "python", "image": "img:1"}},
        {"metadata": {"name": "going", "deletionTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"language": "python", "image": "img:1"}},
    ]
    assert set(resource.selected_kernelspecs(items, [])) == {"python-gpu", "python-cpu"}
    specs = resource.selected_kernelspecs(items, ["python-gpu"])
    assert specs == {"python-gpu": {
        "argv": ["elastic-jupyter-direct", "{connection_file}"], "display_name": "GPU", "language": "python",
        "interrupt_mode": "message", "env": {},
        "metadata": {"kernel_provisioner": {"provisioner_name": "elastic-jupyter-direct", "config": {"jupyter_kernel_spec": "python-gpu", "image": "img:1"}},
                     "cull_idle_timeout": 600},
    }}


def notebook_python():
    venv = os.environ.get("EJ_NOTEBOOK_VENV")
    if not venv:
        pytest.fail("EJ_NOTEBOOK_VENV is not set: run ci/test/python.sh")
    return str(Path(venv) / "bin/python")


def mounted_layout(tmp_path):
    """The notebook-files directory as the operator's ConfigMap items lay it out in the pod."""
    root = tmp_path / "notebook"
    shutil.copytree(NOTEBOOK_FILES / "elastic_jupyter_direct", root / "elastic_jupyter_direct")
    shutil.copytree(NOTEBOOK_FILES / "dist-info", root / "elastic_jupyter_direct-1.0.dist-info")
    return root


def test_jupyter_client_finds_the_provisioner_through_the_mounted_dist_info_without_pip(tmp_path):
    root = mounted_layout(tmp_path)
    script = (
        "from jupyter_client.provisioning.factory import KernelProvisionerFactory as F\n"
        "from jupyter_client.kernelspec import KernelSpec\n"
        "from elastic_jupyter_direct.resource import kernel_json\n"
        "f = F.instance()\n"
        "spec = KernelSpec(resource_dir='', **kernel_json({'metadata': {'name': 'py'}, 'spec': {'language': 'python', 'image': 'i'}}))\n"
        "assert f.is_provisioner_available(spec), sorted(f.provisioners)\n"
        "p = f.create_provisioner_instance('k1', spec, None)\n"
        "print(type(p).__module__ + '.' + type(p).__name__, p.jupyter_kernel_spec, p.image)\n"
    )
    out = subprocess.run([notebook_python(), "-c", script], env=dict(os.environ, PYTHONPATH=str(root)), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["elastic_jupyter_direct.provisioner.JupyterKernelProvisioner", "py", "i"]
    # Without the mount, the provisioner is unknown: the dist-info is what registers it.
    missing = subprocess.run([notebook_python(), "-c", "from jupyter_client.provisioning.factory import KernelProvisionerFactory as F; print('elastic-jupyter-direct' in F.instance().provisioners)"],
                             env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, capture_output=True, text=True, timeout=120)
    assert missing.stdout.strip() == "False", missing.stderr


def test_the_bootstrap_in_direct_mode_serves_a_real_ipykernel_on_the_fixed_ports_with_the_key(tmp_path):
    pod_ip = "127.0.0.251"  # a loopback address of its own: the fixed ports are the pod's
    out = subprocess.run([notebook_python(), str(Path(__file__).parent / "direct_kernel_client.py"), str(NOTEBOOK_FILES), str(BOOTSTRAP), pod_ip],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["status"] == "ok"
    assert len(seen["stdout"].strip()) == 36  # the kernel's KERNEL_ID
    assert seen["interrupted"] == "KeyboardInterrupt"
    assert seen["wrong_key_answered"] is False
    assert seen["exit"] == 0
    assert "ready (direct mode): ports [52700, 52701, 52702, 52703, 52704] on 127.0.0.251" in out.stderr


def test_direct_mode_needs_the_key_and_no_response_address():
    import bootstrap
    assert bootstrap.direct_mode({"KERNEL_CONNECTION_KEY": "k"})
    assert not bootstrap.direct_mode({"KERNEL_CONNECTION_KEY": "k", "RESPONSE_ADDRESS": "gw:8877"})
    assert not bootstrap.direct_mode({})
    with pytest.raises(bootstrap.BootstrapError, match="KERNEL_ID"):
        bootstrap.direct_settings_from_env({"KERNEL_CONNECTION_KEY": "k"})
    assert bootstrap.direct_settings_from_env({"KERNEL_CONNECTION_KEY": "k", "KERNEL_ID": "i", "POD_IP": "10.1.2.3"})["bind_ip"] == "10.1.2.3"

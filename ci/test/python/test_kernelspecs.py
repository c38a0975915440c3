"""The gateway's kernelspec manager offers the synced directory's kernelspecs and nothing else."""

import json

from elastic_jupyter.kernelspecs import SyncedKernelSpecManager
from jupyter_client.kernelspec import KernelSpecManager, NATIVE_KERNEL_NAME


def write_spec(root, name):
    (root / name).mkdir(parents=True)
    (root / name / "kernel.json").write_text(json.dumps({"argv": ["python"], "display_name": name, "language": "python"}))


def test_only_the_synced_directory_and_no_native_kernel(tmp_path, monkeypatch):
    synced, other = tmp_path / "synced", tmp_path / "other/kernels"
    write_spec(synced, "python-remote")
    write_spec(other, "image-builtin")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "other"))
    # The stock manager would offer both the other directory's kernelspec and the native one.
    stock = KernelSpecManager().find_kernel_specs()
    assert {"image-builtin", NATIVE_KERNEL_NAME} <= set(stock)

    ours = SyncedKernelSpecManager(kernels_dir=str(synced))
    assert set(ours.find_kernel_specs()) == {"python-remote"}
    assert ours.get_kernel_spec("python-remote").display_name == "python-remote"


def test_the_directory_comes_from_the_environment_the_operator_sets(tmp_path, monkeypatch):
    write_spec(tmp_path, "gpu")
    monkeypatch.setenv("EJ_GATEWAY_KERNELS_DIR", str(tmp_path))
    assert set(SyncedKernelSpecManager().find_kernel_specs()) == {"gpu"}

"""The launcher's JupyterKernel: what EG's environment becomes in the manifest, and bad requests."""

import uuid

import pytest
from elastic_jupyter import launch_kernel
from elastic_jupyter.kernel_resource import LaunchRequestError, forwarded_env, jupyter_kernel_manifest, parse_gpus

KERNEL_ID = "6f1c1b9e-5a0e-4c8e-9a52-0f3a1c2d3e4f"

# The launcher's environment as EG builds it for a user who sent KERNEL_GPUS and two variables.
EG_ENV = {
    "PATH": "/usr/bin",
    "KERNEL_ID": KERNEL_ID,
    "KERNEL_LANGUAGE": "python",
    "KERNEL_USERNAME": "alice",
    "KERNEL_NAMESPACE": "team-a",
    "KERNEL_RESOURCE_NAME": f"alice-{KERNEL_ID}",
    "KERNEL_POD_NAME": f"alice-{KERNEL_ID}",
    "KERNEL_CRD_GROUP": "kubeflow.tkestack.io",
    "KERNEL_CRD_VERSION": "v1alpha1",
    "KERNEL_CRD_PLURAL": "jupyterkernels",
    "KERNEL_IMAGE": "jupyter/base-notebook:2024",
    "KERNEL_EXECUTOR_IMAGE": "jupyter/base-notebook:2024",
    "KERNEL_SERVICE_ACCOUNT_NAME": "default",
    "KERNEL_UID": "1000",
    "KERNEL_GID": "100",
    "KERNEL_GATEWAY": "1",
    "KERNEL_LAUNCH_TIMEOUT": "40",
    "KERNEL_GPUS": "2",
    "KERNEL_DATASET": "imagenet",
    "KERNEL_WANDB_PROJECT": "vision",
    "EG_MIN_PORT_RANGE_SIZE": "1000",
}
ARGV = [
    "--kernel-id", KERNEL_ID, "--port-range", "40000..41000", "--response-address", "10.0.0.5:8877",
    "--public-key", "MIGfMA0GCSqGSIb3DQEB", "--kernel-spec", "python-gpu",
]


def manifest(argv=ARGV, **env_changes):
    env = {**EG_ENV, **env_changes}
    env = {k: v for k, v in env.items() if v is not None}
    return launch_kernel.manifest_from(launch_kernel.parse_args(argv), env)


def test_manifest_carries_the_launch():
    m = manifest()
    assert m["apiVersion"] == "kubeflow.tkestack.io/v1alpha1" and m["kind"] == "JupyterKernel"
    assert m["metadata"] == {
        "name": f"alice-{KERNEL_ID}",  # KERNEL_RESOURCE_NAME: the name EG's proxy reads back
        "namespace": "team-a",
        "labels": {
            "kernel_id": KERNEL_ID,
            "kubeflow.tkestack.io/kernelspec": "python-gpu",
            "app.kubernetes.io/managed-by": "jupyter-enterprise-gateway",
        },
    }
    assert manifest(EJ_GATEWAY_NAME="gpu-gateway")["metadata"]["labels"]["kubeflow.tkestack.io/gateway"] == "gpu-gateway"
    assert m["spec"] == {
        "kernelId": KERNEL_ID,
        "kernelSpec": {"name": "python-gpu"},
        "responseAddress": "10.0.0.5:8877",
        "publicKey": "MIGfMA0GCSqGSIb3DQEB",
        "portRange": "40000..41000",
        "language": "python",
        "username": "alice",
        "gpus": 2,
        "image": "jupyter/base-notebook:2024",
        "env": [
            {"name": "KERNEL_DATASET", "value": "imagenet"},
            {"name": "KERNEL_GID", "value": "100"},
            {"name": "KERNEL_UID", "value": "1000"},
            {"name": "KERNEL_WANDB_PROJECT", "value": "vision"},
        ],
    }


def test_only_the_users_kernel_variables_are_forwarded():
    names = [e["name"] for e in forwarded_env(EG_ENV)]
    assert names == ["KERNEL_DATASET", "KERNEL_GID", "KERNEL_UID", "KERNEL_WANDB_PROJECT"]
    assert forwarded_env({"PATH": "/bin", "EG_X": "1", "KERNEL_ID": KERNEL_ID}) == []


def test_defaults_when_eg_sets_little():
    m = manifest(KERNEL_RESOURCE_NAME=None, KERNEL_USERNAME=None, KERNEL_GPUS=None, KERNEL_DATASET=None,
                 KERNEL_WANDB_PROJECT=None, KERNEL_UID=None, KERNEL_GID=None)
    assert m["metadata"]["name"] == f"kernel-{KERNEL_ID}"
    assert "username" not in m["spec"] and "gpus" not in m["spec"] and "env" not in m["spec"]


def test_image_is_recorded_only_when_it_overrides_the_kernelspecs():
    same = manifest(ARGV + ["--spec-image", "jupyter/base-notebook:2024"])
    assert "image" not in same["spec"]
    other = manifest(ARGV + ["--spec-image", "jupyter/base-notebook:2023"])
    assert other["spec"]["image"] == "jupyter/base-notebook:2024"


def test_namespaces_from_flags():
    m = manifest(ARGV + ["--kernel-namespace", "gpu-team", "--kernel-spec-namespace", "platform"])
    assert m["metadata"]["namespace"] == "gpu-team"
    assert m["spec"]["kernelSpec"] == {"name": "python-gpu", "namespace": "platform"}


@pytest.mark.parametrize(("value", "count"), [("0", 0), ("4", 4), (" 8 ", 8), ("", None), (None, None)])
def test_gpu_counts(value, count):
    assert parse_gpus(value) == count


@pytest.mark.parametrize("value", ["-1", "1.5", "two", "0x2", "²", "1e3"])
def test_bad_gpu_counts_name_the_variable(value):
    with pytest.raises(LaunchRequestError, match=r"KERNEL_GPUS must be a non-negative integer.*got"):
        parse_gpus(value)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (ARGV, {"KERNEL_GPUS": "many"}, "KERNEL_GPUS must be a non-negative integer (a GPU count), got 'many'"),
        (ARGV, {"KERNEL_NAMESPACE": None}, "KERNEL_NAMESPACE is required"),
        (["--kernel-id", "nope"] + ARGV[2:], {}, "--kernel-id must be a UUID, got 'nope'"),
        (ARGV[:2] + ["--port-range", "40000-41000"] + ARGV[4:], {}, "--port-range must look like"),
        (ARGV[:-1] + ["Python GPU"], {}, "--kernel-spec 'Python GPU' is not a valid Kubernetes name"),
    ],
)
def test_bad_requests_exit_2_with_a_clear_message(argv, env, message, capsys):
    full_env = {k: v for k, v in {**EG_ENV, **env}.items() if v is not None}
    assert launch_kernel.main(argv, full_env) == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_api_server_is_a_clear_failure(capsys, monkeypatch, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setattr(launch_kernel, "RECREATE_ATTEMPTS", 1)
    assert launch_kernel.main(ARGV, dict(EG_ENV)) == 1
    assert f"creating JupyterKernel team-a/alice-{KERNEL_ID} failed" in capsys.readouterr().err


def test_manifest_rejects_a_missing_spec_name():
    with pytest.raises(LaunchRequestError, match="--kernel-spec is required"):
        jupyter_kernel_manifest(kernel_id=str(uuid.uuid4()), kernel_spec="", namespace="ns", response_address="a:1",
                                public_key="k", port_range="0..0", env={})

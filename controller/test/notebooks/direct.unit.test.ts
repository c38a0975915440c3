// A direct-mode JupyterNotebook's rendering (controller/src/notebooks/direct.ts): what its pod gets
// so a stock notebook image starts kernels as JupyterKernels, and the narrow ServiceAccount.
import { expect } from "chai";
import type { JupyterNotebook } from "@elastic-jupyter/api";
import { DEFAULT_NOTEBOOK_FILES_DIR, DEFAULT_KERNEL_FILES_DIR, readKernelFiles, readNotebookFiles } from "../../src/gateways/files.ts";
import { grantedPermissions } from "../../src/gateways/rbac.ts";
import { DEFAULT_NOTEBOOK_IMAGE, desiredNotebookDeployment, notebookServerConfig } from "../../src/notebooks/deployment.ts";
import { NOTEBOOK_FILES_DIR, desiredDirectBootstrapConfigMap, desiredNotebookFilesConfigMap, desiredNotebookRole, desiredNotebookRoleBinding, isDirectNotebook } from "../../src/notebooks/direct.ts";

const notebookFiles = readNotebookFiles(DEFAULT_NOTEBOOK_FILES_DIR);
const kernelFiles = readKernelFiles(DEFAULT_KERNEL_FILES_DIR);
const opts = { notebookImage: DEFAULT_NOTEBOOK_IMAGE, notebookFiles, kernelFiles };
const nb = (spec: JupyterNotebook["spec"]): JupyterNotebook => ({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterNotebook", metadata: { name: "alice", namespace: "team-a", uid: "uid-a" }, spec });

describe("direct-mode notebook rendering", () => {
  const direct = nb({ direct: { kernels: ["python", "python-gpu"], cullIdleTimeout: 1800, cullInterval: 30, launchTimeout: 120 } });

  it("runs the stock image with the provisioner package on PYTHONPATH (package and dist-info from a ConfigMap) and its own ServiceAccount's token", () => {
    expect(isDirectNotebook(direct)).to.equal(true);
    const d = desiredNotebookDeployment(direct, undefined, opts);
    const pod = d.spec!.template.spec!;
    expect(pod.serviceAccountName).to.equal("alice-notebook");
    expect(pod.automountServiceAccountToken).to.equal(true);
    const c = pod.containers[0]!;
    expect(c.image).to.equal(DEFAULT_NOTEBOOK_IMAGE);
    expect(c.command).to.equal(undefined);
    const env = Object.fromEntries(c.env!.map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env).to.deep.include({
      PYTHONPATH: NOTEBOOK_FILES_DIR, EJ_NOTEBOOK_NAME: "alice", EJ_DIRECT_LAUNCH_TIMEOUT: "120",
      EJ_NOTEBOOK_POD_NAME: { fieldRef: { fieldPath: "metadata.name" } }, EJ_NOTEBOOK_POD_UID: { fieldRef: { fieldPath: "metadata.uid" } },
    });
    expect(env.JUPYTER_GATEWAY_URL).to.equal(undefined);
    expect(c.volumeMounts).to.deep.include({ name: "notebook-files", mountPath: NOTEBOOK_FILES_DIR, readOnly: true });
    const items = pod.volumes!.find((v) => v.name === "notebook-files")!.configMap!.items!;
    expect(items).to.deep.include({ key: "dist-info.entry_points.txt", path: "elastic_jupyter_direct-1.0.dist-info/entry_points.txt" });
    expect(items).to.deep.include({ key: "provisioner.py", path: "elastic_jupyter_direct/provisioner.py" });
    expect(Object.keys(desiredNotebookFilesConfigMap(direct, notebookFiles).data!).sort()).to.deep.equal(items.map((i) => i.key).sort());
    expect(desiredDirectBootstrapConfigMap(direct, kernelFiles).metadata!.name).to.equal("alice-notebook-kernel-bootstrap");
    expect(desiredDirectBootstrapConfigMap(direct, kernelFiles).data!["bootstrap.py"]).to.contain("run_direct");
  });

  it("server config: our kernelspec manager with the notebook's list, jupyter_server's culler with the notebook's defaults", () => {
    expect(notebookServerConfig(direct)).to.deep.equal({
      ServerApp: { ip: "0.0.0.0", kernel_spec_manager_class: "elastic_jupyter_direct.kernelspecs.JupyterKernelSpecManager" },
      JupyterKernelSpecManager: { kernels: ["python", "python-gpu"] },
      MappingKernelManager: { cull_idle_timeout: 1800, cull_interval: 30, cull_connected: false, default_kernel_name: "python" },
    });
    expect(notebookServerConfig(nb({ direct: {} }))).to.deep.include({ MappingKernelManager: { cull_idle_timeout: 3600, cull_interval: 60, cull_connected: false } });
  });

  it("a new provisioner file restarts the server (Python imports it once)", () => {
    const a = desiredNotebookDeployment(direct, undefined, opts).spec!.template.metadata!.annotations!;
    const b = desiredNotebookDeployment(direct, undefined, { ...opts, notebookFiles: { ...notebookFiles, "provisioner.py": "# changed" } }).spec!.template.metadata!.annotations!;
    expect(a).to.not.deep.equal(b);
  });

  it("its Role: kernels and their key Secrets (create only) and listing kernelspecs, in its namespace, nothing else", () => {
    const role = desiredNotebookRole(direct);
    expect(role.metadata!.namespace).to.equal("team-a");
    expect(grantedPermissions(role.rules!)).to.deep.equal([
      "/secrets:create",
      "kubeflow.tkestack.io/jupyterkernels:create", "kubeflow.tkestack.io/jupyterkernels:delete", "kubeflow.tkestack.io/jupyterkernels:get",
      "kubeflow.tkestack.io/jupyterkernels:list", "kubeflow.tkestack.io/jupyterkernels:watch",
      "kubeflow.tkestack.io/jupyterkernelspecs:list",
    ]);
    expect(desiredNotebookRoleBinding(direct).subjects).to.deep.equal([{ kind: "ServiceAccount", name: "alice-notebook", namespace: "team-a" }]);
  });

  it("gateway mode is unchanged: no token, no provisioner, and a notebook cannot ask for both", () => {
    const gw = nb({ gateway: { name: "gw" } });
    expect(isDirectNotebook(gw)).to.equal(false);
    expect(isDirectNotebook(nb({ gateway: { name: "gw" }, direct: {} }))).to.equal(false); // the CRD refuses it too
    const pod = desiredNotebookDeployment(gw, undefined, opts).spec!.template.spec!;
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.serviceAccountName).to.equal("default"); // named, so a template that was direct loses its account
    expect(pod.volumes!.map((v) => v.name)).to.deep.equal(["server-config"]);
  });
});

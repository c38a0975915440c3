// Direct mode for a JupyterNotebook (spec.direct; docs/direct-mode.md): what the notebook pod needs
// so a stock Jupyter server image starts kernels as JupyterKernel pods itself. Pure: the reconciler
// applies what these return.
//   - the provisioner package (files/notebook) in a ConfigMap, mounted on PYTHONPATH with its
//     dist-info, so importlib.metadata finds the jupyter_client.kernel_provisioners entry point;
//   - the kernel bootstrap in a ConfigMap its kernel pods mount (as a gateway's kernels do);
//   - a ServiceAccount whose Role allows only what the provisioner and kernelspec manager do, in
//     the notebook's namespace: the notebook's users hold this token (JupyterLab has a terminal).
import type { ConfigMap, EnvVar, ServiceAccount, Volume, VolumeMount } from "kubernetes-types/core/v1.js";
import type { Role, RoleBinding } from "kubernetes-types/rbac/v1.js";
import type { JupyterNotebook } from "@elastic-jupyter/api";
import { GROUP, KIND, LABELS, PLURAL } from "../api.ts";
import { notebookFilePath, type FileSet } from "../gateways/files.ts";
import { MANAGED_BY, ownedMeta } from "../gateways/owned.ts";
import { policyRules, type ExplainedRule } from "../gateways/rbac.ts";
import { directBootstrapConfigMapName } from "../kernels/direct.ts";

export const DIRECT_DEFAULTS = { cullIdleTimeout: 3600, cullInterval: 60, launchTimeout: 300 } as const;
/** Where the provisioner package is mounted (PYTHONPATH). */
export const NOTEBOOK_FILES_DIR = "/opt/elastic-jupyter/notebook";

export function isDirectNotebook(nb: JupyterNotebook): boolean {
  return nb.spec.direct !== undefined && !nb.spec.gateway;
}

export const NOTEBOOK_DIRECT_RULES: readonly ExplainedRule[] = [
  {
    apiGroups: [GROUP], resources: [PLURAL.kernel], verbs: ["create", "delete", "get", "list", "watch"],
    why: "The direct-mode provisioner creates each kernel's JupyterKernel (replacing a stale one of the same kernel id), follows its status with a list and watch on its name, and deletes it on shutdown.",
  },
  { apiGroups: [""], resources: ["secrets"], verbs: ["create"], why: "The provisioner creates each kernel's connection-key Secret (owned by the JupyterKernel); it never reads Secrets." },
  { apiGroups: [GROUP], resources: [PLURAL.kernelSpec], verbs: ["list"], why: "The notebook server's kernelspec manager lists the JupyterKernelSpecs it offers." },
];

export function notebookServiceAccountName(nb: JupyterNotebook): string {
  return `${nb.metadata!.name!}-notebook`;
}

export function notebookFilesConfigMapName(nb: JupyterNotebook): string {
  return `${nb.metadata!.name!}-notebook-files`;
}

function meta(nb: JupyterNotebook, name: string, component: string) {
  return ownedMeta({ ...nb, kind: KIND.notebook }, name, { ...MANAGED_BY, [LABELS.notebook]: nb.metadata!.name!, "app.kubernetes.io/component": component });
}

export function desiredNotebookServiceAccount(nb: JupyterNotebook): ServiceAccount {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(nb, notebookServiceAccountName(nb), "notebook") };
}

export function desiredNotebookRole(nb: JupyterNotebook): Role {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta(nb, notebookServiceAccountName(nb), "notebook"), rules: policyRules(NOTEBOOK_DIRECT_RULES) };
}

export function desiredNotebookRoleBinding(nb: JupyterNotebook): RoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: meta(nb, notebookServiceAccountName(nb), "notebook"),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: notebookServiceAccountName(nb) },
    subjects: [{ kind: "ServiceAccount", name: notebookServiceAccountName(nb), namespace: nb.metadata!.namespace! }],
  };
}

export function desiredNotebookFilesConfigMap(nb: JupyterNotebook, files: FileSet): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: meta(nb, notebookFilesConfigMapName(nb), "notebook-files"), data: { ...files } };
}

export function desiredDirectBootstrapConfigMap(nb: JupyterNotebook, kernelFiles: FileSet): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: meta(nb, directBootstrapConfigMapName(nb.metadata!.name!), "kernel-bootstrap"), data: { ...kernelFiles } };
}

/** jupyter_server settings of direct mode (merged into the notebook's server config). */
export function directServerConfig(nb: JupyterNotebook): Record<string, unknown> {
  const d = nb.spec.direct ?? {};
  const defaultKernel = d.defaultKernel ?? d.kernels?.[0];
  return {
    ServerApp: { kernel_spec_manager_class: "elastic_jupyter_direct.kernelspecs.JupyterKernelSpecManager" },
    JupyterKernelSpecManager: { kernels: d.kernels ?? [] },
    // jupyter_server's own culler; a kernelspec's cullIdleTimeout reaches it as kernel.json
    // metadata.cull_idle_timeout (jupyter_server >= 2.9), so culling stays per kernelspec.
    MappingKernelManager: {
      cull_idle_timeout: d.cullIdleTimeout ?? DIRECT_DEFAULTS.cullIdleTimeout,
      cull_interval: d.cullInterval ?? DIRECT_DEFAULTS.cullInterval,
      cull_connected: false,
      ...(defaultKernel ? { default_kernel_name: defaultKernel } : {}),
    },
  };
}

export function directNotebookEnv(nb: JupyterNotebook): EnvVar[] {
  return [
    { name: "PYTHONPATH", value: NOTEBOOK_FILES_DIR },
    { name: "EJ_NOTEBOOK_NAME", value: nb.metadata!.name! },
    // The notebook pod owns its kernels' JupyterKernels: when it goes, they go (no orphans).
    { name: "EJ_NOTEBOOK_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "EJ_NOTEBOOK_POD_UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
    { name: "EJ_DIRECT_LAUNCH_TIMEOUT", value: String(nb.spec.direct?.launchTimeout ?? DIRECT_DEFAULTS.launchTimeout) },
  ];
}

export function directNotebookVolume(nb: JupyterNotebook, files: FileSet): Volume {
  return {
    name: "notebook-files",
    configMap: { name: notebookFilesConfigMapName(nb), items: Object.keys(files).sort().map((key) => ({ key, path: notebookFilePath(key) })) },
  };
}

export const directNotebookMount: VolumeMount = { name: "notebook-files", mountPath: NOTEBOOK_FILES_DIR, readOnly: true };

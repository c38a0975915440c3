// Direct mode (docs/direct-mode.md): a notebook server's kernel provisioner creates JupyterKernels
// itself, with the notebook's ServiceAccount, which a notebook user holds (JupyterLab has a
// terminal). So a direct kernel gets no more than the gateway's launcher would ever write: its
// kernelspec (one the notebook offers), the notebook as user, and the user's KERNEL_* variables as
// plain values. Everything else is refused before any pod exists. Pure, unit-tested.
import type { EnvVar, Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterNotebook } from "@elastic-jupyter/api";
import { LABELS } from "../api.ts";

/** The kernel bootstrap's direct-mode ports (files/kernel/bootstrap.py, and the provisioner's resource.py). */
export const DIRECT_PORT_BASE = 52700;
/** The Secret holding a direct kernel's connection key (created by the provisioner, owned by the kernel). */
export const CONNECTION_SECRET_KEY = "key";
export const DIRECT_REFUSED = "DirectKernelNotAllowed";

/** Why a kernel that no notebook label makes the operator's cannot be served as a gateway's. */
export function unlabelledDirectKernelProblem(kernel: JupyterKernel): string | undefined {
  if (kernel.spec.connectionMode !== "Direct" || directKernelNotebook(kernel) !== undefined) return undefined;
  return `spec.connectionMode Direct: a direct kernel needs the label ${LABELS.notebook} naming the JupyterNotebook that starts it; a gateway's kernel leaves connectionMode unset`;
}

/** The ConfigMap of bootstrap.py the operator renders beside each direct-mode notebook, for its kernel pods. */
export function directBootstrapConfigMapName(notebook: string): string {
  return `${notebook}-notebook-kernel-bootstrap`;
}

/** One Secret per JupyterKernel incarnation (its uid): a restart recreates the kernel under the same
 *  name while the garbage collector may still be deleting the old kernel's Secret. */
export function connectionSecretName(kernel: JupyterKernel): string {
  return `${kernel.metadata!.name!}-connection-${(kernel.metadata!.uid ?? "").slice(0, 8)}`;
}

/** The kernel container's env that direct mode adds: the key, from the Secret, never the CR. */
export function directConnectionEnv(kernel: JupyterKernel): EnvVar[] {
  return [{ name: "KERNEL_CONNECTION_KEY", valueFrom: { secretKeyRef: { name: connectionSecretName(kernel), key: CONNECTION_SECRET_KEY } } }];
}

/** KERNEL_* names that are plumbing or have a field of their own; a user may not set them in spec.env. */
const RESERVED_ENV = new Set([
  "KERNEL_ID", "KERNEL_LANGUAGE", "KERNEL_USERNAME", "KERNEL_GPUS", "KERNEL_IMAGE", "KERNEL_EXECUTOR_IMAGE",
  "KERNEL_NAMESPACE", "KERNEL_POD_NAME", "KERNEL_RESOURCE_NAME", "KERNEL_CRD_GROUP", "KERNEL_CRD_VERSION",
  "KERNEL_CRD_PLURAL", "KERNEL_GATEWAY", "KERNEL_LAUNCH_TIMEOUT", "KERNEL_SERVICE_ACCOUNT_NAME", "KERNEL_CONNECTION_KEY",
]);

/** The notebook a direct kernel says it belongs to (its label). */
export function directKernelNotebook(kernel: JupyterKernel): string | undefined {
  return kernel.metadata?.labels?.[LABELS.notebook];
}

/**
 * Why a direct kernel is refused, or undefined when it asks only for what its notebook may have.
 * `notebook` is the JupyterNotebook its label names, in the kernel's namespace (undefined: none).
 */
export function directKernelProblem(kernel: JupyterKernel, notebook: JupyterNotebook | undefined): string | undefined {
  const s = kernel.spec;
  const nbName = directKernelNotebook(kernel);
  const problems: string[] = [];
  if (!nbName) problems.push(`a direct kernel needs the label ${LABELS.notebook} naming its JupyterNotebook`);
  else if (!notebook) problems.push(`JupyterNotebook ${kernel.metadata?.namespace}/${nbName} does not exist`);
  else if (!notebook.spec.direct) problems.push(`JupyterNotebook ${nbName} does not use direct mode (spec.direct is unset)`);
  if (s.connectionMode !== "Direct") problems.push("spec.connectionMode must be Direct for a kernel of a direct-mode notebook");
  if (!s.kernelSpec) problems.push("spec.kernelSpec is required");
  else {
    if (s.kernelSpec.namespace && s.kernelSpec.namespace !== kernel.metadata?.namespace) problems.push(`spec.kernelSpec must be in the kernel's own namespace, not ${s.kernelSpec.namespace}`);
    const allowed = notebook?.spec.direct?.kernels ?? [];
    if (notebook?.spec.direct && allowed.length && !allowed.includes(s.kernelSpec.name)) {
      problems.push(`kernelspec ${s.kernelSpec.name} is not one notebook ${nbName} offers (spec.direct.kernels: ${allowed.join(", ")})`);
    }
  }
  if (s.template) problems.push("spec.template is not allowed (the kernelspec's template applies)");
  if (s.kernelTemplate) problems.push("spec.kernelTemplate is not allowed (the kernelspec's template applies)");
  for (const f of ["responseAddress", "publicKey", "portRange"] as const) if (s[f] !== undefined) problems.push(`spec.${f} is a gateway setting, not allowed in direct mode`);
  if (nbName && s.username !== nbName) problems.push(`spec.username must be the notebook's name ${nbName}, got ${JSON.stringify(s.username ?? "")}`);
  for (const e of s.env ?? []) {
    if (!e.name.startsWith("KERNEL_") || RESERVED_ENV.has(e.name)) problems.push(`spec.env ${e.name} is not allowed (only the user's KERNEL_* variables)`);
    else if (e.valueFrom) problems.push(`spec.env ${e.name} must be a plain value, not valueFrom`);
  }
  return problems.length ? `refused: ${problems.join("; ")}` : undefined;
}

/** The notebook pod's server container (notebooks/deployment.ts). */
export const NOTEBOOK_CONTAINER = "notebook";
/** API server and node clocks may differ; a server needs seconds to start before it can launch a kernel. */
const CLOCK_SKEW_MS = 2000;

/**
 * Why a direct kernel is an orphan though its notebook pod lives, or undefined: the pod's server
 * container ended after the kernel was created (it crashed, was OOM-killed or failed its liveness
 * probe). The restarted server does not know the kernel, so nothing would cull it or free its GPUs.
 * `notebookPod` is the pod that owns the kernel (its ownerReference), from the cache.
 */
export function orphanedByServerRestart(kernel: JupyterKernel, notebookPod: Pod | undefined): string | undefined {
  const owner = kernel.metadata?.ownerReferences?.find((o) => o.kind === "Pod");
  if (!owner || notebookPod?.metadata?.uid !== owner.uid) return undefined;
  const c = notebookPod.status?.containerStatuses?.find((s) => s.name === NOTEBOOK_CONTAINER);
  const ended = c?.state?.terminated ?? c?.lastState?.terminated;
  const endedMs = Date.parse(ended?.finishedAt ?? "");
  const createdMs = Date.parse(kernel.metadata?.creationTimestamp ?? "");
  if (!(endedMs > createdMs + CLOCK_SKEW_MS)) return undefined;
  const how = ended!.reason ? `${ended!.reason}, exit code ${ended!.exitCode}` : `exit code ${ended!.exitCode}`;
  return `its notebook server (container ${NOTEBOOK_CONTAINER} of pod ${owner.name}) ended at ${ended!.finishedAt} (${how}), after the kernel started; the restarted server does not know this kernel`;
}

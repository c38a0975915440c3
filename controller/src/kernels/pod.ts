// JupyterKernel -> kernel Pod: the desired pod, computed from the kernel, its kernelspec and its
// kernel template. Pure: no I/O, so every rule here is unit-tested.
import type { Container, EnvVar, Pod, PodTemplateSpec, Toleration, Volume } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterKernelSpec, JupyterKernelTemplate } from "@elastic-jupyter/api";
import { API_VERSION, KIND, LABELS } from "../api.ts";
import type { KubeObject } from "../runtime/client.ts";
import { RESTRICTED_KERNEL_POD_POLICY, imageOverrideProblem, podPolicyViolations, withRestrictedDefaults, type KernelPodPolicy } from "./policy.ts";
import { GPU_COUNT_RESOURCES, KAI_GPU_FRACTION, KAI_GPU_MEMORY, podGpuUsage, totalGpus, type ClaimTemplateLookup, type GpuUsage } from "./gpus.ts";
import { directConnectionEnv } from "./direct.ts";

/** Where the kernel bootstrap (files/kernel/bootstrap.py of the chart) is mounted in kernel pods. */
export const BOOTSTRAP_DIR = "/opt/elastic-jupyter/kernel";
// python3, not python: Debian-based images ship only python3; conda and venv images have both.
export const BOOTSTRAP_COMMAND = ["python3", `${BOOTSTRAP_DIR}/bootstrap.py`];
export const DEFAULT_GPU_RESOURCE = "nvidia.com/gpu";
const KERNEL_CONTAINER = "kernel";

export interface KernelPodOptions {
  /** ConfigMap (in the kernel's namespace) holding bootstrap.py; mounted when the default command is used. */
  bootstrapConfigMap: string;
  /** What a kernel template may ask for beyond restricted. Unset: nothing. */
  policy?: KernelPodPolicy;
  /** The namespace's DRA ResourceClaimTemplates (the sidecar's cache), to count a kernel's DRA GPUs. */
  claimTemplate?: ClaimTemplateLookup;
}

/** Why a kernel cannot get a pod: a CamelCase reason for scripts, a message for people. */
export interface KernelPodError { reason: string; message: string }

export type KernelPodResult = { pod: Pod; gpus: number; gpuUsage: GpuUsage } | { error: KernelPodError };

/** The pod name is the kernel's name: deterministic, so two writers can never create two pods. */
export function kernelPodName(kernel: JupyterKernel): string {
  return kernel.metadata!.name!;
}

/**
 * The kernelspec's GPUs in one meaning, however they were written: `gpu`, or a GPU-count resource
 * in `resources.limits` (how other charts write it). `gpu` wins where both say something.
 */
export function kernelspecGpu(spec: JupyterKernelSpec | undefined): { resourceName?: string; count?: number; max?: number } | undefined {
  const limits = spec?.spec?.resources?.limits ?? {};
  const inLimits = Object.keys(limits).find((r) => GPU_COUNT_RESOURCES.test(r));
  const gpu = spec?.spec?.gpu;
  if (!gpu && !inLimits) return undefined;
  const fromLimits = inLimits ? { resourceName: inLimits, count: Number(limits[inLimits]) || 0 } : {};
  const merged = { ...fromLimits, ...gpu };
  return { ...merged, count: merged.count ?? 1 };
}

/** The kernel's id: spec.kernelId, or (the original operator's shape) KERNEL_ID in its template's kernel container. */
export function kernelIdOf(kernel: JupyterKernel): string | undefined {
  if (kernel.spec.kernelId) return kernel.spec.kernelId;
  const containers = kernel.spec.template?.spec?.containers ?? [];
  const main = containers.find((c) => c.name === KERNEL_CONTAINER) ?? containers[0];
  const id = main?.env?.find((e) => e.name === "KERNEL_ID")?.value;
  return id && KERNEL_ID.test(id) ? id : undefined;
}
const KERNEL_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** GPUs the kernel asks for, checked against what its kernelspec allows. */
export function kernelGpus(kernel: JupyterKernel, spec: JupyterKernelSpec | undefined): { count: number; resource: string } | { error: KernelPodError } | undefined {
  const gpu = kernelspecGpu(spec);
  if (kernel.spec.gpus === undefined && gpu === undefined) return undefined; // the template decides
  const resource = gpu?.resourceName ?? DEFAULT_GPU_RESOURCE;
  const count = kernel.spec.gpus ?? gpu?.count ?? 0;
  const max = gpu?.max ?? gpu?.count ?? 0;
  if (kernel.spec.gpus !== undefined && count > max) {
    const who = spec ? `kernelspec ${spec.metadata?.name}` : "a kernel without a kernelspec";
    return { error: { reason: "GPULimitExceeded", message: `requested ${count} ${resource}, but ${who} allows at most ${max} (set by spec.gpu.max)` } };
  }
  return { count, resource };
}

/**
 * The kernel pod. The pod template comes from the kernel itself (spec.template) or else the
 * kernel template; the kernelspec supplies image, command, env, resources and GPUs; the kernel
 * supplies its identity and connection settings, which always win.
 */
export function desiredKernelPod(kernel: JupyterKernel, spec: JupyterKernelSpec | undefined, template: JupyterKernelTemplate | undefined, opts: KernelPodOptions): KernelPodResult {
  const kernelId = kernelIdOf(kernel);
  if (!kernelId) return { error: { reason: "NoKernelId", message: "spec.kernelId is unset and the template's kernel container has no KERNEL_ID env holding a UUID" } };
  const gpus = kernelGpus(kernel, spec);
  if (gpus && "error" in gpus) return gpus;
  const imageProblem = imageOverrideProblem(kernel, spec);
  if (imageProblem) return { error: { reason: "ImageNotAllowed", message: imageProblem } };
  const base: PodTemplateSpec = structuredClone(kernel.spec.template ?? template?.spec?.template ?? {});
  const podSpec = base.spec ?? { containers: [] };
  const containers = podSpec.containers ?? [];
  let main = containers.find((c) => c.name === KERNEL_CONTAINER) ?? containers[0];
  if (!main) { main = { name: KERNEL_CONTAINER }; containers.push(main); }

  const image = kernel.spec.image ?? spec?.spec?.image ?? main.image;
  if (!image) return { error: { reason: "NoImage", message: "no kernel image: set spec.image on the JupyterKernelSpec or an image on the template's kernel container" } };
  main.image = image;

  const volumes: Volume[] = podSpec.volumes ?? [];
  if (!main.command) {
    if (spec?.spec?.kernelCommand?.length) {
      main.command = spec.spec.kernelCommand;
    } else {
      main.command = BOOTSTRAP_COMMAND;
      volumes.push({ name: "elastic-jupyter-bootstrap", configMap: { name: opts.bootstrapConfigMap } });
      main.volumeMounts = [...(main.volumeMounts ?? []), { name: "elastic-jupyter-bootstrap", mountPath: BOOTSTRAP_DIR, readOnly: true }];
    }
  }
  main.env = mergeEnv(main.env, spec?.spec?.env, kernel.spec.env, connectionEnv(kernel, kernelId, spec));
  applyResources(main, spec, gpus);

  // Scheduling and pull Secrets from the kernelspec, so a kernelspec needs no template for them.
  const s = spec?.spec;
  if (s?.nodeSelector) podSpec.nodeSelector = { ...podSpec.nodeSelector, ...s.nodeSelector };
  if (s?.affinity) podSpec.affinity = s.affinity;
  if (s?.imagePullSecrets?.length) {
    const names = new Set((podSpec.imagePullSecrets ?? []).map((r) => r.name));
    podSpec.imagePullSecrets = [...(podSpec.imagePullSecrets ?? []), ...s.imagePullSecrets.filter((r) => !names.has(r.name))];
  }
  const tolerations: Toleration[] = [...(podSpec.tolerations ?? []), ...(s?.tolerations ?? [])];
  const annotations = { ...base.metadata?.annotations };
  const usage = podGpuUsage({ metadata: { namespace: kernel.metadata!.namespace!, annotations }, spec: { ...podSpec, containers } }, opts.claimTemplate);
  // The kernelspec's GPU resource is tolerated even where it is no GPU count (HAMi's gpumem).
  tolerations.push(...gpuTolerations([...Object.keys(usage), ...(gpus && gpus.count > 0 ? [gpus.resource] : [])], tolerations));

  const name = kernelPodName(kernel);
  const pod: Pod = withRestrictedDefaults({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: kernel.metadata!.namespace!,
      labels: { ...legacyMetadataLabels(base.metadata), ...base.metadata?.labels, ...kernelPodLabels(kernel, spec, kernelId) },
      annotations,
      ownerReferences: [{
        apiVersion: API_VERSION, kind: KIND.kernel, name: kernel.metadata!.name!, uid: kernel.metadata!.uid!,
        controller: true, blockOwnerDeletion: true,
      }],
    },
    spec: {
      ...podSpec,
      containers,
      ...(volumes.length ? { volumes } : {}),
      ...(tolerations.length ? { tolerations } : {}),
      // A kernel that exits is over: the gateway restarts kernels through its own API, and a pod
      // restarted in place would come back on new ports the gateway does not know.
      restartPolicy: "Never",
      // Kernels run users' code; they get no API credentials unless a template asks for them.
      automountServiceAccountToken: podSpec.automountServiceAccountToken ?? false,
    },
  });
  const violations = podPolicyViolations(pod, opts.policy ?? RESTRICTED_KERNEL_POD_POLICY);
  if (violations.length) {
    return { error: { reason: "PodPolicyViolation", message: `the kernel pod would break the kernel pod policy: ${violations.join("; ")}` } };
  }
  return { pod, gpus: totalGpus(usage), gpuUsage: usage };
}

/**
 * Tolerations a pod using these GPUs needs beyond those it has. GPU nodes are tainted with the
 * resource name (what the ExtendedResourceToleration admission plugin tolerates, in clusters that
 * enable it) or, as the NVIDIA GPU operator's docs and our local cluster do, with `nvidia.com/gpu`
 * whatever NVIDIA resource they offer (MIG profiles, shared GPUs, KAI's fractions of one). DRA
 * devices carry no such convention: a template using them brings its own tolerations.
 */
export function gpuTolerations(resources: string[], existing: Toleration[]): Toleration[] {
  const keys = new Set<string>();
  for (const r of resources) {
    if (r.includes(".deviceclass.resource.k8s.io/")) continue;
    keys.add(r);
    if (r.startsWith("nvidia.com/")) keys.add("nvidia.com/gpu");
  }
  const tolerated = (key: string) => existing.some((t) => t.key === key || (t.operator === "Exists" && !t.key));
  return [...keys].filter((k) => !tolerated(k)).map((key) => ({ key, operator: "Exists", effect: "NoSchedule" }));
}

/** Kernel pods carry component=kernel (kernelPodLabels); controllers cache and count them by it. */
export const KERNEL_POD_SELECTOR = "component=kernel";
export const isKernelPod = (pod: Pod): boolean => pod.metadata?.labels?.component === "kernel";

/** The labels Enterprise Gateway finds kernel pods by, plus ours. */
export function kernelPodLabels(kernel: JupyterKernel, spec: JupyterKernelSpec | undefined, kernelId = kernelIdOf(kernel) ?? ""): Record<string, string> {
  return {
    kernel_id: kernelId,
    component: "kernel",
    app: "enterprise-gateway",
    [LABELS.kernel]: kernel.metadata!.name!,
    ...(spec?.metadata?.name ? { [LABELS.kernelSpec]: spec.metadata.name } : {}),
    "app.kubernetes.io/managed-by": "elastic-jupyter",
  };
}

/**
 * SEED.md's template sample puts `app: ...` and `component: ...` straight under metadata (the
 * original operator's mistake). They were meant as labels, so string values there become labels.
 */
function legacyMetadataLabels(metadata: PodTemplateSpec["metadata"]): Record<string, string> {
  const known = new Set(["name", "namespace", "labels", "annotations", "generateName", "uid", "resourceVersion", "finalizers", "ownerReferences", "creationTimestamp", "generation", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) if (!known.has(k) && typeof v === "string") out[k] = v;
  return out;
}

/** What the kernel bootstrap needs to connect back to the gateway (both EG spellings). */
function connectionEnv(kernel: JupyterKernel, kernelId: string, spec: JupyterKernelSpec | undefined): EnvVar[] {
  const s = kernel.spec;
  const env: EnvVar[] = [
    { name: "KERNEL_ID", value: kernelId },
    { name: "KERNEL_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
  ];
  const language = s.language ?? spec?.spec?.language;
  if (language) env.push({ name: "KERNEL_LANGUAGE", value: language.toLowerCase() });
  if (s.connectionMode === "Direct") {
    env.push(...directConnectionEnv(kernel));
    if (s.username) env.push({ name: "KERNEL_USERNAME", value: s.username });
    return env;
  }
  if (s.responseAddress) env.push({ name: "RESPONSE_ADDRESS", value: s.responseAddress }, { name: "EG_RESPONSE_ADDRESS", value: s.responseAddress });
  if (s.publicKey) env.push({ name: "PUBLIC_KEY", value: s.publicKey }, { name: "EG_PUBLIC_KEY", value: s.publicKey });
  if (s.portRange) env.push({ name: "PORT_RANGE", value: s.portRange }, { name: "EG_PORT_RANGE", value: s.portRange });
  if (s.username) env.push({ name: "KERNEL_USERNAME", value: s.username });
  return env;
}

/** Later lists override earlier ones by name; order of first appearance is kept (stable pods). */
export function mergeEnv(...lists: (EnvVar[] | undefined)[]): EnvVar[] {
  const byName = new Map<string, EnvVar>();
  for (const list of lists) for (const e of list ?? []) byName.set(e.name, e);
  return [...byName.values()];
}

function applyResources(main: Container, spec: JupyterKernelSpec | undefined, gpus: { count: number; resource: string } | undefined): void {
  const fromSpec = spec?.spec?.resources;
  const limits: Record<string, string> = { ...main.resources?.limits, ...fromSpec?.limits };
  const requests: Record<string, string> = { ...main.resources?.requests, ...fromSpec?.requests };
  if (gpus) {
    // Extended resources are limits only (the API server copies them to requests).
    delete requests[gpus.resource];
    if (gpus.count > 0) limits[gpus.resource] = String(gpus.count);
    else delete limits[gpus.resource];
  }
  const resources: Container["resources"] = { ...main.resources };
  delete resources.limits;
  delete resources.requests;
  if (Object.keys(limits).length) resources.limits = limits;
  if (Object.keys(requests).length) resources.requests = requests;
  main.resources = resources;
}

/**
 * What the sidecar's cache keeps of a kernel pod: only what planKernel, statusFromPod and the GPU
 * metrics read. A pod from the API server is ~6 KB of JSON (managedFields, env, volumes, probes,
 * tolerations); thousands of them are most of the controller's memory.
 */
export function kernelPodForCache(obj: KubeObject): KubeObject {
  const pod = obj as Pod;
  const m = pod.metadata ?? {};
  const s = pod.status;
  return {
    apiVersion: pod.apiVersion, kind: pod.kind,
    metadata: {
      name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion,
      ...(m.labels ? { labels: m.labels } : {}),
      ...(gpuAnnotations(m.annotations) ? { annotations: gpuAnnotations(m.annotations) } : {}),
      ...(m.ownerReferences ? { ownerReferences: m.ownerReferences } : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    spec: {
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      containers: (pod.spec?.containers ?? []).map(limitsOnly),
      ...(pod.spec?.initContainers ? { initContainers: pod.spec.initContainers.map(limitsOnly) } : {}),
      ...(pod.spec?.resourceClaims ? { resourceClaims: pod.spec.resourceClaims } : {}),
    },
    ...(s ? {
      status: {
        phase: s.phase, reason: s.reason, message: s.message, podIP: s.podIP, startTime: s.startTime,
        conditions: s.conditions?.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
        // lastState: a direct notebook's server container that ended orphans its kernels (direct.ts).
        containerStatuses: s.containerStatuses?.map((c) => ({ name: c.name, state: c.state, ...(c.lastState?.terminated ? { lastState: { terminated: c.lastState.terminated } } : {}) })),
      },
    } : {}),
  } as Pod as KubeObject;
}

const limitsOnly = (c: Container): Container => ({
  name: c.name, ...(c.restartPolicy ? { restartPolicy: c.restartPolicy } : {}), ...(c.resources?.limits ? { resources: { limits: c.resources.limits } } : {}),
});

/** The annotations podGpuUsage reads (KAI's), if the pod has any. */
function gpuAnnotations(a: Record<string, string> | undefined): Record<string, string> | undefined {
  const kept = Object.entries(a ?? {}).filter(([k]) => k === KAI_GPU_FRACTION || k === KAI_GPU_MEMORY);
  return kept.length ? Object.fromEntries(kept) : undefined;
}

// What a kernel pod holds of the cluster's GPUs, by kind. One place decides what counts as a GPU,
// for the kernel's status, the GPU policy's limits and the metrics (docs/gpus.md says how each
// kind is counted).
import type { Container, Pod } from "kubernetes-types/core/v1.js";

/** GPU amounts by kind, keyed as ResourceQuota keys them (e.g. `nvidia.com/gpu`, `nvidia.com/mig-1g.10gb`). */
export type GpuUsage = Record<string, number>;

/** Resources that count whole (or shared) GPUs, as opposed to GPU memory or cores. */
export const GPU_COUNT_RESOURCES = /^(nvidia\.com\/(gpu|gpu\.shared|mig-.+)|amd\.com\/gpu|volcano\.sh\/vgpu-number|aliyun\.com\/gpu-count)$/;

/** KAI scheduler (and Run:ai) GPU sharing: a pod annotation, no extended resource. */
export const KAI_GPU_FRACTION = "gpu-fraction";
export const KAI_GPU_MEMORY = "gpu-memory";
/** The key a KAI fraction counts under: a part of one `nvidia.com/gpu`. */
export const KAI_FRACTION_RESOURCE = "nvidia.com/gpu";
/** A `gpu-memory` pod holds part of one GPU of a size we cannot know: one shared GPU. */
export const KAI_MEMORY_RESOURCE = "nvidia.com/gpu.shared";

/** DRA device classes that hand out GPUs (gpu.nvidia.com, mig.nvidia.com, gpu.example.com...). */
export const DRA_GPU_CLASSES = /(^|[.-])(gpu|mig|vgpu)s?([.-]|$)/i;

/** ResourceQuota's key for DRA devices of a class (quota counts them per DeviceClass). */
export function draResource(deviceClassName: string): string {
  return `${deviceClassName}.deviceclass.resource.k8s.io/devices`;
}

/** What podGpuUsage reads of a resource.k8s.io/v1 ResourceClaimTemplate (kubernetes-types predates v1). */
export interface ResourceClaimTemplate {
  metadata?: { name?: string; namespace?: string };
  spec?: { spec?: { devices?: { requests?: DeviceRequest[] } } };
}
interface ExactDeviceRequest { deviceClassName?: string; allocationMode?: string; count?: number }
interface DeviceRequest { name?: string; exactly?: ExactDeviceRequest; firstAvailable?: ExactDeviceRequest[] }

/** A ResourceClaimTemplate by namespace and name (the sidecar's cache), if known. */
export type ClaimTemplateLookup = (namespace: string, name: string) => ResourceClaimTemplate | undefined;

/** A pod's resource claim as API servers >= 1.31 serve it (kubernetes-types still has the alpha `source` shape). */
interface PodResourceClaim { name: string; resourceClaimName?: string; resourceClaimTemplateName?: string; source?: { resourceClaimTemplateName?: string } }

/**
 * A pod's GPUs by kind:
 * - GPU-count extended resources (whole GPUs, MIG profiles, time-sliced and HAMi vGPUs) by
 *   resource name, from the limits, as the scheduler sums them (init containers by their maximum);
 * - KAI's `gpu-fraction` annotation as that part of one `nvidia.com/gpu`, and its `gpu-memory`
 *   annotation as one `nvidia.com/gpu.shared`;
 * - DRA claims made from a ResourceClaimTemplate, per GPU device class, keyed as ResourceQuota
 *   keys them (`<class>.deviceclass.resource.k8s.io/devices`), from the template's requests
 *   (`claimTemplate` finds it; unknown templates and pre-made claims count nothing).
 */
export function podGpuUsage(pod: Pod, claimTemplate?: ClaimTemplateLookup): GpuUsage {
  const spec = pod.spec;
  let usage = limitsUsage(spec?.containers ?? []);
  // An init container runs before the others, so the pod needs the larger of the two; sidecar
  // init containers (restartPolicy Always) run beside them and add up.
  const init = spec?.initContainers ?? [];
  usage = addUsage(usage, limitsUsage(init.filter((c) => c.restartPolicy === "Always")));
  for (const c of init.filter((c) => c.restartPolicy !== "Always")) {
    for (const [k, v] of Object.entries(limitsUsage([c]))) usage[k] = Math.max(usage[k] ?? 0, v);
  }
  const annotations = pod.metadata?.annotations ?? {};
  const fraction = Number(annotations[KAI_GPU_FRACTION]);
  if (fraction > 0) usage = addUsage(usage, { [KAI_FRACTION_RESOURCE]: fraction });
  else if (annotations[KAI_GPU_MEMORY]) usage = addUsage(usage, { [KAI_MEMORY_RESOURCE]: 1 });
  const ns = pod.metadata?.namespace ?? "";
  for (const claim of (spec?.resourceClaims ?? []) as PodResourceClaim[]) {
    const name = claim.resourceClaimTemplateName ?? claim.source?.resourceClaimTemplateName;
    const template = name && claimTemplate ? claimTemplate(ns, name) : undefined;
    if (template) usage = addUsage(usage, claimTemplateUsage(template));
  }
  return usage;
}

/** GPU devices one claim from this template asks for. `firstAvailable` counts its first choice;
 *  allocationMode All counts one (how many it gets is known only once allocated). */
export function claimTemplateUsage(t: ResourceClaimTemplate): GpuUsage {
  const usage: GpuUsage = {};
  for (const r of t.spec?.spec?.devices?.requests ?? []) {
    const req = r.exactly ?? r.firstAvailable?.[0];
    if (!req?.deviceClassName || !DRA_GPU_CLASSES.test(req.deviceClassName)) continue;
    const n = req.allocationMode === "All" ? 1 : req.count ?? 1;
    const key = draResource(req.deviceClassName);
    usage[key] = (usage[key] ?? 0) + n;
  }
  return usage;
}

function limitsUsage(containers: Container[]): GpuUsage {
  const usage: GpuUsage = {};
  for (const c of containers) {
    for (const [name, q] of Object.entries(c.resources?.limits ?? {})) {
      if (GPU_COUNT_RESOURCES.test(name)) usage[name] = (usage[name] ?? 0) + (Number(q) || 0);
    }
  }
  return usage;
}

/** GPUs a pod asks for, all kinds together (the kernel's status.gpus). */
export function podGpus(pod: Pod, claimTemplate?: ClaimTemplateLookup): number {
  return totalGpus(podGpuUsage(pod, claimTemplate));
}

export function totalGpus(u: GpuUsage): number {
  let n = 0;
  for (const v of Object.values(u)) n += v;
  return n;
}

/** a + sign*b, dropping kinds that reach zero. */
export function addUsage(a: GpuUsage, b: GpuUsage, sign = 1): GpuUsage {
  const out: GpuUsage = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const n = (out[k] ?? 0) + sign * v;
    if (Math.abs(n) < 1e-9) delete out[k];
    else out[k] = n;
  }
  return out;
}

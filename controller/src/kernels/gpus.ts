// What a kernel pod holds of the cluster's GPUs, by kind. One place decides what counts as a GPU,
// for the kernel's status, the GPU policy's limits and the metrics.
import type { Pod } from "kubernetes-types/core/v1.js";

/** GPU amounts by kind, keyed as ResourceQuota keys them (e.g. `nvidia.com/gpu`, `nvidia.com/mig-1g.10gb`). */
export type GpuUsage = Record<string, number>;

/** Resources that count whole (or shared) GPUs, as opposed to GPU memory or cores. */
export const GPU_COUNT_RESOURCES = /^(nvidia\.com\/(gpu|gpu\.shared|mig-.+)|amd\.com\/gpu|volcano\.sh\/vgpu-number|aliyun\.com\/gpu-count)$/;

/** A pod's GPUs by kind: every GPU-count extended resource limit over its containers. */
export function podGpuUsage(pod: Pod): GpuUsage {
  const usage: GpuUsage = {};
  for (const c of pod.spec?.containers ?? []) {
    for (const [name, q] of Object.entries(c.resources?.limits ?? {})) {
      if (GPU_COUNT_RESOURCES.test(name)) usage[name] = (usage[name] ?? 0) + (Number(q) || 0);
    }
  }
  return usage;
}

/** GPUs a pod asks for, all kinds together (the kernel's status.gpus). */
export function podGpus(pod: Pod): number {
  return totalGpus(podGpuUsage(pod));
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

// The kernel reconciler (sidecar role): reads a JupyterKernel, its pod, kernelspec and template
// from the cache, asks planKernel() what to do, and does it. All decisions live in plan.ts.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterKernelSpec, JupyterKernelTemplate } from "@elastic-jupyter/api";
import { API_VERSION, FIELD_MANAGER, KIND } from "../api.ts";
import { applyStatus } from "../runtime/apply.ts";
import type { Cache } from "../runtime/cache.ts";
import { KubeApiError, isConflict, splitKey, type GroupVersionKind, type KubeClient } from "../runtime/client.ts";
import type { Logger } from "../runtime/log.ts";
import { planKernel, planRefusedPod, type KernelPlan } from "./plan.ts";
import type { KernelPodOptions } from "./pod.ts";
import { sameStatus } from "./status.ts";

export const KERNEL_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.kernel };
export const KERNELSPEC_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.kernelSpec };
export const KERNEL_TEMPLATE_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.kernelTemplate };
export const POD_GVK: GroupVersionKind = { apiVersion: "v1", kind: "Pod" };

export interface KernelReconcilerDeps {
  cache: Cache;
  client: KubeClient;
  log: Logger;
  podOptions: KernelPodOptions;
  now?: () => Date;
}

export interface ReconcileResult { requeueAfterMs?: number }

export async function reconcileKernel(deps: KernelReconcilerDeps, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const kernel = deps.cache.get<JupyterKernel>(KERNEL_GVK, namespace, name);
  if (!kernel) return {}; // deleted: its pod is garbage-collected through the owner reference
  const ns = kernel.metadata!.namespace!;
  const specRef = kernel.spec.kernelSpec;
  const kernelSpec = specRef ? deps.cache.get<JupyterKernelSpec>(KERNELSPEC_GVK, specRef.namespace ?? ns, specRef.name) : undefined;
  const templateRef = kernel.spec.kernelTemplate ?? kernelSpec?.spec?.template;
  const kernelTemplate = templateRef
    ? deps.cache.get<JupyterKernelTemplate>(KERNEL_TEMPLATE_GVK, templateRef.namespace ?? (kernel.spec.kernelTemplate ? ns : kernelSpec?.metadata?.namespace ?? ns), templateRef.name)
    : undefined;
  const pod = deps.cache.get<Pod>(POD_GVK, ns, name);

  const now = (deps.now ?? (() => new Date()))();
  let plan: KernelPlan = planKernel({ kernel, pod, kernelSpec, kernelTemplate, now }, deps.podOptions);
  const log = deps.log.with({ kernel: key });

  if (plan.deletePod) {
    log.info("deleting evicted kernel pod", { pod: plan.deletePod.name });
    await deps.client.delete(POD_GVK, ns, plan.deletePod.name, { uid: plan.deletePod.uid });
  }
  if (plan.createPod) {
    try {
      await deps.client.create(plan.createPod, { fieldManager: FIELD_MANAGER });
      log.info("created kernel pod", { pod: plan.createPod.metadata?.name, gpus: plan.status?.gpus ?? 0 });
    } catch (e) {
      // The pod exists but the cache has not seen it yet: the pod event will requeue us.
      if (isConflict(e)) return {};
      const refused = e instanceof KubeApiError ? planRefusedPod(kernel, e, now) : undefined;
      if (!refused) throw e;
      log.warn("the API server refused the kernel pod", { status: e instanceof KubeApiError ? e.statusCode : undefined, reason: refused.status?.reason, message: (e as Error).message });
      plan = refused;
    }
  }
  if (plan.status && !sameStatus(kernel.status, plan.status)) {
    await applyStatus(deps.client, kernel, plan.status);
    if (plan.status.phase !== kernel.status?.phase || plan.status.reason !== kernel.status?.reason) {
      log.info("kernel status", { phase: plan.status.phase, reason: plan.status.reason, message: plan.status.message });
    }
  }
  return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
}

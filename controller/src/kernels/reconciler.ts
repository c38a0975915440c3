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
  /** The reconciler's memory between calls (see KernelWriteState). */
  state: KernelWriteState;
  now?: () => Date;
}

/** A Pending status changes several times in a pod's first second (scheduled, container
 *  creating...), and most kernels are Running by the end of it. Pending statuses are therefore
 *  written once a kernel has been pending this long, and then at most this often; every other
 *  status (Running, Failed, Succeeded) at once. Keeps a kernel's life at ~3 writes. */
export const PENDING_STATUS_INTERVAL_MS = 1000;

/**
 * What the kernel reconciler remembers between calls, for speed only (a restart loses nothing
 * that matters: pending kernels are written a second later, orphaned pods left to the garbage
 * collector):
 * - when each pending kernel's status may next be written;
 * - the uids of kernels seen deleted, so their pods are deleted at once rather than when the
 *   garbage collector gets to them (it verifies each owner with a GET, at its own QPS).
 */
export class KernelWriteState {
  readonly pendingWriteAt = new Map<string, number>();
  private readonly deleted = new Map<string, number>();
  /** The kernel informer saw this uid deleted. */
  kernelDeleted(uid: string, now = Date.now()): void {
    this.deleted.set(uid, now);
    // Forget old tombstones: by then the garbage collector has deleted any pod we did not.
    if (this.deleted.size > 10_000) for (const [u, at] of this.deleted) if (now - at > 600_000 || this.deleted.size > 10_000) this.deleted.delete(u);
  }
  wasDeleted(uid: string | undefined): boolean { return uid !== undefined && this.deleted.has(uid); }
}

export interface ReconcileResult { requeueAfterMs?: number }

export async function reconcileKernel(deps: KernelReconcilerDeps, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const kernel = deps.cache.get<JupyterKernel>(KERNEL_GVK, namespace, name);
  const cachedPod = deps.cache.get<Pod>(POD_GVK, namespace, name);
  const owner = cachedPod?.metadata?.ownerReferences?.find((o) => o.controller && o.kind === KIND.kernel);
  if (cachedPod && !cachedPod.metadata?.deletionTimestamp && owner && owner.uid !== kernel?.metadata?.uid && deps.state.wasDeleted(owner.uid)) {
    // Its kernel is gone: delete the pod now (the garbage collector would, later). The uid
    // precondition never touches a pod created since for a new kernel of the same name.
    await deps.client.delete(POD_GVK, namespace, name, { uid: cachedPod.metadata!.uid! });
    deps.log.with({ kernel: key }).info("deleted the pod of a deleted kernel", { pod: name });
    return {}; // a kernel of the same name gets its pod when this one's deletion is seen
  }
  if (!kernel) { deps.state.pendingWriteAt.delete(key); return {}; }
  const ns = kernel.metadata!.namespace!;
  const specRef = kernel.spec.kernelSpec;
  const kernelSpec = specRef ? deps.cache.get<JupyterKernelSpec>(KERNELSPEC_GVK, specRef.namespace ?? ns, specRef.name) : undefined;
  const templateRef = kernel.spec.kernelTemplate ?? kernelSpec?.spec?.template;
  const kernelTemplate = templateRef
    ? deps.cache.get<JupyterKernelTemplate>(KERNEL_TEMPLATE_GVK, templateRef.namespace ?? (kernel.spec.kernelTemplate ? ns : kernelSpec?.metadata?.namespace ?? ns), templateRef.name)
    : undefined;
  const pod = cachedPod;

  const now = (deps.now ?? (() => new Date()))();
  let plan: KernelPlan = planKernel({ kernel, pod, kernelSpec, kernelTemplate, now }, deps.podOptions);
  const log = deps.log.with({ kernel: key });

  if (plan.deletePod) {
    log.info("deleting evicted kernel pod", { pod: plan.deletePod.name });
    await deps.client.delete(POD_GVK, ns, plan.deletePod.name, { uid: plan.deletePod.uid });
  }
  let refused = false;
  if (plan.createPod) {
    try {
      await deps.client.create(plan.createPod, { fieldManager: FIELD_MANAGER });
      log.info("created kernel pod", { pod: plan.createPod.metadata?.name, gpus: plan.status?.gpus ?? 0 });
    } catch (e) {
      // The pod exists but the cache has not seen it yet: the pod event will requeue us.
      if (isConflict(e)) return {};
      const refusal = e instanceof KubeApiError ? planRefusedPod(kernel, e, now) : undefined;
      if (!refusal) throw e;
      log.warn("the API server refused the kernel pod", { status: e instanceof KubeApiError ? e.statusCode : undefined, reason: refusal.status?.reason, message: (e as Error).message });
      plan = refusal;
      refused = true;
    }
  }
  let requeueAfterMs = plan.requeueAfterMs;
  if (plan.status && !sameStatus(kernel.status, plan.status)) {
    // A refused pod is news the notebook user waits for: written at once.
    const wait = refused ? 0 : pendingWriteDelay(deps.state, key, kernel, plan, now.getTime());
    if (wait > 0) return { requeueAfterMs: Math.min(wait, requeueAfterMs ?? Infinity) };
    await applyStatus(deps.client, kernel, plan.status);
    if (plan.status.phase !== kernel.status?.phase || plan.status.reason !== kernel.status?.reason) {
      log.info("kernel status", { phase: plan.status.phase, reason: plan.status.reason, message: plan.status.message });
    }
  }
  return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
}

/** How long to hold a status write back (0: write now); see PENDING_STATUS_INTERVAL_MS. */
export function pendingWriteDelay(state: KernelWriteState, key: string, kernel: JupyterKernel, plan: KernelPlan, now: number): number {
  const pendingToPending = plan.status?.phase === "Pending" && (kernel.status?.phase ?? "Pending") === "Pending";
  if (!pendingToPending) { state.pendingWriteAt.delete(key); return 0; }
  const at = state.pendingWriteAt.get(key);
  if (at === undefined) { state.pendingWriteAt.set(key, now + PENDING_STATUS_INTERVAL_MS); return PENDING_STATUS_INTERVAL_MS; }
  if (at > now) return at - now;
  state.pendingWriteAt.set(key, now + PENDING_STATUS_INTERVAL_MS);
  return 0;
}

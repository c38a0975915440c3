// The culler's reconcile: one key, the sidecar's own JupyterGateway. Each pass reads the policy
// from the cache (the gateway and its namespace's kernelspecs), asks the gateway for its kernels,
// shuts down the idle ones plan.ts picks, ends the orphans orphans.ts picks, records idle GPUs, and
// comes back after the gateway's cullInterval. Whether the gateway answered is the gateway's
// `Culling` condition, written under a field manager of its own so the operator's status writes
// (Ready, SidecarCurrent) and this one never take each other's conditions away.
import type { JupyterGateway, JupyterKernel, JupyterKernelSpec } from "@elastic-jupyter/api";
import type { Cache } from "../runtime/cache.ts";
import { splitKey, type KubeClient, type KubeObject } from "../runtime/client.ts";
import type { ReconcileResult } from "../runtime/controller.ts";
import type { Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { applyStatus, setCondition, type NewCondition } from "../runtime/apply.ts";
import { GATEWAY_GVK } from "../kernelspecs/sync.ts";
import { KERNEL_GVK, KERNELSPEC_GVK } from "../kernels/reconciler.ts";
import { kernelIdOf } from "../kernels/pod.ts";
import { failedStatus } from "../kernels/status.ts";
import { LABELS } from "../api.ts";
import { cullingFailure, type GatewayApi } from "./gateway-api.ts";
import { cullPolicy, cullsAnything, idleGpuSecondsSince, idleGpusByKernelspec, kernelsToCull, type GatewayKernel, type IdleGpuSample } from "./plan.ts";
import { orphanGraceS, planOrphans } from "./orphans.ts";

/** The sidecar's own field manager for the gateway's Culling condition. */
export const CULLING_FIELD_MANAGER = "elastic-jupyter-sidecar";
export const CULLING_CONDITION = "Culling";

/** What one culler remembers between passes (in memory: a new leader starts afresh, which only
 *  delays an orphan's end). */
export class CullState {
  /** JupyterKernel uid -> first pass that saw its kernel missing from the gateway's list (ms). */
  absentSince = new Map<string, number>();
  idleSample: IdleGpuSample | undefined;
  /** Label sets of the idle-GPU gauge set by the last pass, to zero those that went away. */
  idleGauge = new Set<string>();
}

export interface CullDeps {
  cache: Cache;
  client: KubeClient;
  log: Logger;
  gateway: GatewayApi;
  metrics: Metrics;
  state: CullState;
  /** Whether this sidecar's gateway serves a kernel (sidecar.ts servedBy). */
  servedBy: (k: JupyterKernel) => boolean;
  now?: () => Date;
}

export async function reconcileCulling(deps: CullDeps, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const gw = namespace ? deps.cache.get<JupyterGateway & KubeObject>(GATEWAY_GVK, namespace, name) : undefined;
  if (!gw) return {};
  const policy = cullPolicy(gw, deps.cache.list<JupyterKernelSpec>(KERNELSPEC_GVK, { namespace }));
  const graceS = orphanGraceS(gw);
  // Nothing to cull and no orphans to end: no polling until the gateway or a kernelspec changes (which requeues).
  if (!cullsAnything(policy) && graceS === 0) return {};
  const next = { requeueAfterMs: policy.intervalS * 1000 };
  const now = deps.now?.() ?? new Date();
  const kernelsHere = deps.cache.list<JupyterKernel & KubeObject>(KERNEL_GVK, { namespace });

  let listed: GatewayKernel[];
  try {
    listed = await deps.gateway.listKernels();
  } catch (e) {
    const f = cullingFailure(e);
    deps.log.warn("culling: cannot list the gateway's kernels; nothing is culled or ended this pass", { reason: f.reason, err: f.message });
    deps.metrics.cullingFailures.inc({ reason: f.reason });
    deps.state.idleSample = undefined; // no integration across a pass that saw nothing
    await setCullingCondition(deps, gw, { type: CULLING_CONDITION, status: "False", reason: f.reason, message: f.message }, now);
    return next;
  }
  await setCullingCondition(deps, gw, { type: CULLING_CONDITION, status: "True", reason: "GatewayAnswered", message: "the sidecar reads the gateway's kernels to cull idle and orphaned ones" }, now);

  recordIdleGpus(deps, namespace!, listed, kernelsHere, now);

  if (cullsAnything(policy)) {
    for (const d of kernelsToCull(listed, policy, now)) {
      try {
        if (await deps.gateway.shutdownKernel(d.id)) {
          deps.log.info("culled idle kernel", { kernel: d.id, kernelspec: d.kernelspec, idleSeconds: d.idleS, cullIdleTimeout: d.timeoutS });
          deps.metrics.kernelsCulled.inc({ kernelspec: d.kernelspec, reason: "idle" });
        }
      } catch (e) {
        deps.log.warn("culling: shutting down an idle kernel failed", { kernel: d.id, err: (e as Error).message });
      }
    }
  }

  const plan = planOrphans({ servedBy: deps.servedBy, kernels: kernelsHere, known: new Set(listed.map((k) => k.id)), absentSince: deps.state.absentSince, graceS, now });
  deps.state.absentSince = plan.absentSince;
  for (const o of plan.orphans) {
    const k = o.kernel as JupyterKernel & KubeObject;
    const kernelspec = k.spec.kernelSpec?.name ?? k.metadata?.labels?.[LABELS.kernelSpec] ?? "";
    try {
      // Failed first, so whoever watches the kernel (its user, kubectl, the gateway's proxy) reads why it went.
      await applyStatus(deps.client, k, failedStatus(k, "Orphaned", o.message, now.toISOString().replace(/\.\d{3}Z$/, "Z")));
      await deps.client.delete(KERNEL_GVK, k.metadata!.namespace, k.metadata!.name!, { uid: k.metadata!.uid!, propagationPolicy: "Background" });
      deps.state.absentSince.delete(k.metadata!.uid!);
      deps.log.warn("ended orphaned kernel", { kernel: `${k.metadata!.namespace}/${k.metadata!.name}`, kernelId: o.kernelId, kernelspec, absentSeconds: o.absentS, gpus: k.status?.gpus ?? 0 });
      deps.metrics.kernelsCulled.inc({ kernelspec, reason: "orphaned" });
    } catch (e) {
      deps.log.warn("culling: ending an orphaned kernel failed", { kernel: `${k.metadata!.namespace}/${k.metadata!.name}`, err: (e as Error).message });
    }
  }
  return next;
}

/** The idle-GPU gauge from this pass, and the GPU-seconds held idle since the previous one. */
function recordIdleGpus(deps: CullDeps, namespace: string, listed: readonly GatewayKernel[], kernels: readonly JupyterKernel[], now: Date): void {
  const gpusById = new Map<string, number>();
  for (const k of kernels) {
    const id = kernelIdOf(k);
    if (id && deps.servedBy(k) && !k.metadata?.deletionTimestamp) gpusById.set(id, k.status?.gpus ?? 0);
  }
  for (const [kernelspec, s] of idleGpuSecondsSince(deps.state.idleSample, now.getTime())) {
    if (s > 0) deps.metrics.idleGpuSeconds.inc({ namespace, kernelspec }, s);
  }
  const byKernelspec = idleGpusByKernelspec(listed, (id) => gpusById.get(id) ?? 0);
  deps.state.idleSample = { atMs: now.getTime(), byKernelspec };
  for (const kernelspec of deps.state.idleGauge) if (!byKernelspec.has(kernelspec)) deps.metrics.idleGpus.set({ namespace, kernelspec }, 0);
  for (const [kernelspec, gpus] of byKernelspec) deps.metrics.idleGpus.set({ namespace, kernelspec }, gpus);
  deps.state.idleGauge = new Set(byKernelspec.keys());
}

/** Writes the Culling condition when it says something new (a failure's message names the error). */
async function setCullingCondition(deps: CullDeps, gw: JupyterGateway & KubeObject, next: NewCondition, now: Date): Promise<void> {
  const gen = gw.metadata?.generation;
  const prev = gw.status?.conditions?.find((c) => c.type === next.type);
  if (prev && prev.status === next.status && prev.reason === next.reason && prev.message === next.message && prev.observedGeneration === gen) return;
  try {
    await applyStatus(deps.client, gw, { conditions: setCondition(prev ? [prev] : [], next, gen, now) }, { fieldManager: CULLING_FIELD_MANAGER });
  } catch (e) {
    deps.log.warn("culling: cannot write the gateway's Culling condition", { err: (e as Error).message });
  }
}

// The kernel reconciler (sidecar role): reads a JupyterKernel, its pod, kernelspec and template
// from the cache, asks planKernel() what to do, and does it. All decisions live in plan.ts.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterGateway, JupyterKernel, JupyterKernelSpec, JupyterKernelStatus, JupyterKernelTemplate, JupyterNotebook } from "@elastic-jupyter/api";
import { API_VERSION, FIELD_MANAGER, KIND, LABELS } from "../api.ts";
import { applyStatus } from "../runtime/apply.ts";
import type { Cache } from "../runtime/cache.ts";
import { KubeApiError, isConflict, splitKey, type GroupVersionKind, type KubeClient, type KubeObject } from "../runtime/client.ts";
import { connectionSecretName, directKernelNotebook } from "./direct.ts";
import { DIRECT_DEFAULTS } from "../notebooks/direct.ts";
import type { EventRecorder } from "../runtime/events.ts";
import type { Logger } from "../runtime/log.ts";
import { decideAdmission, effectivePolicy, type GpuHolder, type GpuRequest } from "./admission.ts";
import { RECORD_TTL_MS, readRecord, recordedHolders, withAdmission, writeRecord, type AdmissionRecord } from "./admission-record.ts";
import { podGpuUsage, totalGpus, type GpuUsage } from "./gpus.ts";
import { planKernel, planRefusedPod, type KernelPlan } from "./plan.ts";
import { isKernelPod, type KernelPodOptions } from "./pod.ts";
import { failedStatus, isTerminal, pendingStatus, sameStatus } from "./status.ts";

export const KERNEL_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.kernel };
export const KERNELSPEC_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.kernelSpec };
export const KERNEL_TEMPLATE_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.kernelTemplate };
export const POD_GVK: GroupVersionKind = { apiVersion: "v1", kind: "Pod" };
export const GATEWAY_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.gateway };
export const NOTEBOOK_GVK: GroupVersionKind = { apiVersion: API_VERSION, kind: KIND.notebook };
const SECRET_GVK: GroupVersionKind = { apiVersion: "v1", kind: "Secret" };

export interface KernelReconcilerDeps {
  cache: Cache;
  client: KubeClient;
  log: Logger;
  podOptions: KernelPodOptions;
  /** The reconciler's memory between calls (see KernelWriteState). */
  state: KernelWriteState;
  /** The sidecar's own JupyterGateway (its gpuPolicy and launchTimeout apply to every kernel). */
  gateway?: string;
  events?: EventRecorder;
  /** Direct-mode kernels (the operator's direct-kernels controller): checked against their notebook, pods wait for the connection Secret. */
  direct?: boolean;
  /** A kernel got its GPUs, after waiting this long (s) in the queue or not at all. */
  onAdmitted?: (waitedS: number, queued: boolean) => void;
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
  /** Kernels asking for GPUs under a gpuPolicy that have no pod yet, by key: the GPU queue. */
  readonly gpuQueue = new Map<string, GpuRequest>();
  /** Kernels admitted whose pod the cache has not shown yet (they hold their GPUs already). */
  readonly gpuAdmitted = new Map<string, GpuHolder & { uid: string }>();
  /** When each user (by namespace) last had a kernel admitted: fairness between equal holdings. */
  readonly lastAdmittedMs = new Map<string, number>();
  /** Keys of the queued kernels of a namespace: woken when GPUs there may have freed. */
  queuedIn(namespace: string): string[] {
    const out: string[] = [];
    for (const key of this.gpuQueue.keys()) if (key.startsWith(`${namespace}/`)) out.push(key);
    return out;
  }
  private readonly deleted = new Map<string, number>();
  /** The kernel informer saw this uid deleted. */
  kernelDeleted(uid: string, now = Date.now()): void {
    this.deleted.set(uid, now);
    // Forget old tombstones: by then the garbage collector has deleted any pod we did not.
    if (this.deleted.size > 10_000) for (const [u, at] of this.deleted) if (now - at > 600_000 || this.deleted.size > 10_000) this.deleted.delete(u);
  }
  wasDeleted(uid: string | undefined): boolean { return uid !== undefined && this.deleted.has(uid); }

  /** Pod deletions in flight (by pod uid), and those waiting for a slot. */
  private readonly reaping = new Set<string>();
  private readonly reapWaiting: Array<() => void> = [];
  private reapRunning = 0;
  /** At most this many pods of deleted kernels are deleted at once. */
  reapLimit = 16;
  /** Deletes a deleted kernel's pod without holding a worker: when many kernels go at once, each
   *  DELETE waits on a busy API server, and with the workers held the garbage collector deletes
   *  most pods first, after a GET of each kernel. A failure is left to the garbage collector,
   *  which deletes the pod in any case (the kernel owns it); this only makes it sooner. */
  reapPod(podUid: string, del: () => Promise<void>, onError: (e: unknown) => void): void {
    if (this.reaping.has(podUid)) return;
    this.reaping.add(podUid);
    const run = (): void => {
      this.reapRunning++;
      del().catch(onError).finally(() => {
        this.reapRunning--;
        this.reaping.delete(podUid);
        this.reapWaiting.shift()?.();
      });
    };
    if (this.reapRunning < this.reapLimit) run();
    else this.reapWaiting.push(run);
  }
  /** When a pod of each kernel (by uid) was first seen: a recorded admission whose pod has been
   *  seen no longer counts (admission-record.ts). Fed by the pod informer (watchKernelPodsSeen). */
  private readonly podsSeen = new Map<string, number>();
  private prunePodsSeenAt = 1000;
  podSeen(pod: Pod, now = Date.now()): void {
    const owner = pod.metadata?.ownerReferences?.find((o) => o.controller && o.kind === KIND.kernel)?.uid;
    if (!owner || this.podsSeen.has(owner)) return;
    this.podsSeen.set(owner, now);
    if (this.podsSeen.size > this.prunePodsSeenAt) {
      for (const [uid, at] of this.podsSeen) if (now - at > RECORD_TTL_MS) this.podsSeen.delete(uid);
      this.prunePodsSeenAt = Math.max(1000, this.podsSeen.size * 2);
    }
  }
  sawPodOf(kernelUid: string): boolean { return this.podsSeen.has(kernelUid); }
}

/** Feeds KernelWriteState.podSeen from the kernel pod informer the controller already runs. */
export function watchKernelPodsSeen(cache: Cache, state: KernelWriteState, pods: { labelSelector: string; transform: (o: KubeObject) => KubeObject }): void {
  cache.informerFor<Pod>(POD_GVK, pods).on((e) => state.podSeen(e.object));
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
    const uid = cachedPod.metadata!.uid!;
    const log = deps.log.with({ kernel: key });
    deps.state.reapPod(uid, async () => {
      await deps.client.delete(POD_GVK, namespace, name, { uid });
      log.info("deleted the pod of a deleted kernel", { pod: name });
    }, (e) => log.warn("could not delete the pod of a deleted kernel; the garbage collector will", { pod: name, error: e }));
    return {}; // a kernel of the same name gets its pod when this one's deletion is seen
  }
  if (!kernel) {
    deps.state.pendingWriteAt.delete(key);
    deps.state.gpuQueue.delete(key);
    deps.state.gpuAdmitted.delete(key);
    return {};
  }
  const ns = kernel.metadata!.namespace!;
  const specRef = kernel.spec.kernelSpec;
  const kernelSpec = specRef ? deps.cache.get<JupyterKernelSpec>(KERNELSPEC_GVK, specRef.namespace ?? ns, specRef.name) : undefined;
  const templateRef = kernel.spec.kernelTemplate ?? kernelSpec?.spec?.template;
  const kernelTemplate = templateRef
    ? deps.cache.get<JupyterKernelTemplate>(KERNEL_TEMPLATE_GVK, templateRef.namespace ?? (kernel.spec.kernelTemplate ? ns : kernelSpec?.metadata?.namespace ?? ns), templateRef.name)
    : undefined;
  const pod = cachedPod;

  const now = (deps.now ?? (() => new Date()))();
  const direct = deps.direct ? { notebook: notebookOf(deps, kernel) } : undefined;
  let plan: KernelPlan = planKernel({ kernel, pod, kernelSpec, kernelTemplate, now, ...(direct ? { direct } : {}) }, deps.podOptions);
  const log = deps.log.with({ kernel: key });
  const planned = plan;
  let admission: Admitted | undefined;
  ({ plan, admission } = admitGpus(deps, key, kernel, kernelSpec, pod, planned, now));
  // The cache alone decides a queue or a refusal: other admitters' records only add holders. An
  // admission under a limit they share is decided again, counting what they recorded.
  let record: AdmissionRecord | undefined;
  if (admission && sharesLimits(admission.request)) {
    record = await readRecord(deps.client, ns);
    ({ plan, admission } = admitGpus(deps, key, kernel, kernelSpec, pod, planned, now, record, admission.wasQueued));
  }

  if (plan.deletePod) {
    log.info("deleting evicted kernel pod", { pod: plan.deletePod.name });
    await deps.client.delete(POD_GVK, ns, plan.deletePod.name, { uid: plan.deletePod.uid });
  }
  let refused = false;
  if (plan.createPod && deps.direct) {
    // The provisioner creates the key's Secret just after the kernel (it must own it): the pod
    // waits for it, or the kubelet would fail the container on a missing Secret.
    const waiting = await connectionSecretMissing(deps, kernel, now);
    if (waiting) {
      admission = undefined; // not admitted yet: it decides again once its Secret is there
      if (!waiting.status) return waiting;
      plan = waiting;
    }
  }
  if (admission && plan.createPod) {
    const { request } = admission;
    if (record) {
      const entry = { name, uid: kernel.metadata!.uid!, user: request.user, ...(request.kernelSpec ? { kernelSpec: request.kernelSpec } : {}), usage: request.usage, at: now.getTime() };
      if (!(await writeRecord(deps.client, record, withAdmission(record, name, entry, now.getTime()), admitterName(deps)))) {
        // Another admitter wrote first: decide again, counting what it admitted.
        if (!admission.wasQueued) deps.state.gpuQueue.delete(key);
        log.info("the namespace's GPU admission record changed meanwhile: deciding again");
        return { requeueAfterMs: RECORD_RETRY_MS };
      }
    }
    commitAdmission(deps, key, kernel, admission, now);
  }
  if (plan.createPod) {
    try {
      await deps.client.create(plan.createPod, { fieldManager: FIELD_MANAGER });
      log.info("created kernel pod", { pod: plan.createPod.metadata?.name, gpus: plan.status?.gpus ?? 0 });
    } catch (e) {
      // The pod exists but the cache has not seen it yet: the pod event will requeue us.
      if (isConflict(e)) return {};
      deps.state.gpuAdmitted.delete(key);
      if (admission && record) await forgetAdmission(deps, ns, name, now);
      const refusal = e instanceof KubeApiError ? planRefusedPod(kernel, e, now) : undefined;
      if (!refusal) throw e;
      log.warn("the API server refused the kernel pod", { status: e instanceof KubeApiError ? e.statusCode : undefined, reason: refusal.status?.reason, message: (e as Error).message });
      plan = quotaUnderPolicy(deps, kernel, kernelSpec, refusal, now);
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

/** How long a direct kernel's pod waits for its connection Secret before the kernel fails. */
export const CONNECTION_SECRET_WAIT_MS = 30_000;

/** undefined when the kernel's connection Secret exists and is the kernel's; else a requeue, or a failure after the wait. */
async function connectionSecretMissing(deps: KernelReconcilerDeps, kernel: JupyterKernel, now: Date): Promise<KernelPlan | undefined> {
  const secret = await deps.client.get<KubeObject>(SECRET_GVK, kernel.metadata!.namespace!, connectionSecretName(kernel));
  const owned = secret?.metadata?.ownerReferences?.some((o) => o.kind === KIND.kernel && o.uid === kernel.metadata!.uid);
  if (owned) return undefined;
  const waitedMs = now.getTime() - (Date.parse(kernel.metadata?.creationTimestamp ?? "") || now.getTime());
  if (waitedMs < CONNECTION_SECRET_WAIT_MS) return { requeueAfterMs: 100 };
  const why = secret ? "exists but is not owned by this JupyterKernel" : "does not exist";
  return { status: failedStatus(kernel, "NoConnectionSecret", `Secret ${connectionSecretName(kernel)} (the kernel's connection key) ${why} after ${CONNECTION_SECRET_WAIT_MS / 1000} s`, now.toISOString()) };
}

/** The JupyterNotebook a direct kernel's label names, in the kernel's namespace. */
function notebookOf(deps: KernelReconcilerDeps, kernel: JupyterKernel): JupyterNotebook | undefined {
  const name = directKernelNotebook(kernel);
  return name ? deps.cache.get<JupyterNotebook & KubeObject>(NOTEBOOK_GVK, kernel.metadata!.namespace!, name) : undefined;
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

/** How soon a kernel whose admission lost the race for the namespace's record decides again. */
const RECORD_RETRY_MS = 20;

function admitterName(deps: KernelReconcilerDeps): string {
  return deps.gateway ? `sidecar of JupyterGateway ${deps.gateway}` : deps.direct ? "operator (direct kernels)" : "elastic-jupyter";
}

/** Whether a GPU kernel's policy has limits other admitters share (per user, per namespace), which
 *  the namespace's admission record (admission-record.ts) guards. */
function sharesLimits(request: GpuRequest): boolean {
  return request.policies.some((p) => Object.keys(p.policy.maxPerUser ?? {}).length + Object.keys(p.policy.maxPerNamespace ?? {}).length > 0);
}

/** A kernel admitted in the record whose pod was refused stops counting there (best effort: else it
 *  counts until RECORD_TTL_MS). */
async function forgetAdmission(deps: KernelReconcilerDeps, ns: string, name: string, now: Date): Promise<void> {
  try {
    const record = await readRecord(deps.client, ns);
    if (record.admissions.some((a) => a.name === name)) await writeRecord(deps.client, record, withAdmission(record, name, undefined, now.getTime()), admitterName(deps));
  } catch (e) {
    deps.log.with({ kernel: `${ns}/${name}` }).warn("could not remove a refused kernel from the GPU admission record", { error: String(e) });
  }
}

/** A kernel the GPU policy admits; committed (commitAdmission) once its admission is recorded. */
interface Admitted { request: GpuRequest; waitedS: number; wasQueued: boolean }

/** The admission takes effect: the kernel holds its GPUs (until its pod shows), leaves the queue, and says so. */
function commitAdmission(deps: KernelReconcilerDeps, key: string, kernel: JupyterKernel, a: Admitted, now: Date): void {
  const ns = kernel.metadata!.namespace!;
  deps.state.gpuQueue.delete(key);
  deps.state.gpuAdmitted.set(key, { key, user: a.request.user, ...(a.request.kernelSpec ? { kernelSpec: a.request.kernelSpec } : {}), usage: a.request.usage, uid: kernel.metadata!.uid! });
  deps.state.lastAdmittedMs.set(`${ns}/${a.request.user}`, now.getTime());
  deps.onAdmitted?.(a.waitedS, a.wasQueued);
  if (a.wasQueued) deps.events?.record(kernel, "Normal", "Admitted", `got its GPUs after ${Math.round(a.waitedS)} s in the queue`);
}

/** Where a kernel stands under the GPU policy: the plan with the pod's creation held back (queued)
 *  or refused, or unchanged, and the admission if admitted. Kernels asking for no GPUs, or under no
 *  gpuPolicy, pass untouched. `record`: the namespace's admission record, whose admissions count as
 *  holders too; `wasQueued`: whether it was queued before this reconcile (a second decision in one
 *  reconcile passes the first's, since the first puts it in the queue). */
function admitGpus(deps: KernelReconcilerDeps, key: string, kernel: JupyterKernel, kernelSpec: JupyterKernelSpec | undefined, pod: Pod | undefined, plan: KernelPlan, now: Date, record?: AdmissionRecord, wasQueuedBefore?: boolean): { plan: KernelPlan; admission?: Admitted } {
  const { state } = deps;
  const ns = kernel.metadata!.namespace!;
  const usage = plan.createPod ? podGpuUsage(plan.createPod, deps.podOptions.claimTemplate) : pod ? podGpuUsage(pod, deps.podOptions.claimTemplate) : {};
  const policy = totalGpus(usage) > 0 ? kernelPolicy(deps, kernel, kernelSpec) : undefined;
  if (!policy || kernel.metadata?.deletionTimestamp || isTerminal(kernel.status?.phase)) {
    state.gpuQueue.delete(key);
    return { plan: withoutQueuePosition(plan) };
  }
  const user = kernel.spec.username ?? "";
  const createdMs = Date.parse(kernel.metadata?.creationTimestamp ?? "") || now.getTime();
  const at = now.toISOString();

  if (!plan.createPod) {
    state.gpuQueue.delete(key);
    // Admitted, and its pod waits for a node: in Queue mode that is the head of the queue, and it
    // gives up at the same timeout (deleting its pod, so it stops holding the scheduler's place).
    if (pod && plan.status?.reason === "Unschedulable" && policy.whenFull === "Queue") {
      const leftMs = createdMs + policy.queueTimeoutS * 1000 - now.getTime();
      const why = `no node has a free ${Object.keys(usage).join(", ")} (${plan.status.message ?? "unschedulable"})`;
      if (leftMs <= 0) {
        deps.events?.record(kernel, "Warning", "QueueTimeout", `gave up waiting for GPUs after ${policy.queueTimeoutS} s: ${why}`);
        return { plan: { deletePod: { name: pod.metadata!.name!, uid: pod.metadata!.uid! }, status: failedStatus(kernel, "QueueTimeout", `waited ${policy.queueTimeoutS} s for GPUs (gpuPolicy.queueTimeout) and was still 1st in namespace ${ns}'s GPU queue: ${why}`, at) } };
      }
      return { plan: { status: pendingStatus(kernel, "Queued", `waiting for GPUs, 1st in namespace ${ns}'s GPU queue: ${why}; gives up in ${Math.ceil(leftMs / 1000)} s`, at, { queuePosition: 1 }), requeueAfterMs: leftMs } };
    }
    return { plan: withoutQueuePosition(plan) };
  }

  const request: GpuRequest = { key, user, ...(kernel.spec.kernelSpec?.name ? { kernelSpec: kernel.spec.kernelSpec.name } : {}), usage, createdMs, ...policy };
  const wasQueued = wasQueuedBefore ?? (kernel.status?.reason === "Queued" || state.gpuQueue.has(key));
  state.gpuQueue.set(key, request);
  // Admissions other admitters recorded whose pods this one has not seen yet hold GPUs too.
  const holders = gpuHolders(deps, ns);
  const held = new Set(holders.map((h) => h.key));
  const recorded = record
    ? recordedHolders(record, kernel.metadata!.name!, (a) => deps.state.sawPodOf(a.uid) || deps.cache.get<Pod>(POD_GVK, ns, a.name) !== undefined, now.getTime()).filter((h) => !held.has(h.key))
    : [];
  const decision = decideAdmission(request, {
    holders: [...holders, ...recorded],
    waiting: [...state.gpuQueue.values()].filter((w) => w.key.startsWith(`${ns}/`)),
    clusterFull: unschedulableGpus(deps, ns),
    lastAdmittedMs: new Map([...state.lastAdmittedMs].filter(([u]) => u.startsWith(`${ns}/`)).map(([u, t]) => [u.slice(ns.length + 1), t])),
    namespace: ns,
    now,
  });
  switch (decision.kind) {
    case "admit":
      return { plan: withoutQueuePosition(plan), admission: { request, waitedS: decision.waitedS, wasQueued } };
    case "fail":
      state.gpuQueue.delete(key);
      deps.events?.record(kernel, "Warning", decision.reason, decision.message);
      return { plan: { status: failedStatus(kernel, decision.reason, decision.message, at) } };
    case "queue":
      if (!wasQueued) deps.events?.record(kernel, "Normal", "Queued", decision.message);
      // Woken when a recorded admission stops counting, too (its pod may never show).
      return { plan: { status: pendingStatus(kernel, "Queued", decision.message, at, { queuePosition: decision.position }), requeueAfterMs: Math.min(decision.retryAfterMs, ...recorded.map((h) => h.expiresAtMs - now.getTime())) } };
  }
}

/** A ResourceQuota refused a GPU kernel's pod. Under a gpuPolicy that is one more full limit:
 *  whenFull Fail ends the kernel at once, Queue lets it wait (retrying) until its queueTimeout. */
function quotaUnderPolicy(deps: KernelReconcilerDeps, kernel: JupyterKernel, kernelSpec: JupyterKernelSpec | undefined, refusal: KernelPlan, now: Date): KernelPlan {
  const policy = refusal.status?.reason === "QuotaExceeded" ? kernelPolicy(deps, kernel, kernelSpec) : undefined;
  if (!policy) return refusal;
  const at = now.toISOString();
  const message = refusal.status!.message ?? "a ResourceQuota is full";
  if (policy.whenFull === "Fail") return { status: failedStatus(kernel, "QuotaExceeded", message, at) };
  const leftMs = (Date.parse(kernel.metadata?.creationTimestamp ?? "") || now.getTime()) + policy.queueTimeoutS * 1000 - now.getTime();
  if (leftMs <= 0) return { status: failedStatus(kernel, "QueueTimeout", `waited ${policy.queueTimeoutS} s (gpuPolicy.queueTimeout) for a ResourceQuota to allow the kernel pod: ${message}`, at) };
  return { ...refusal, requeueAfterMs: Math.min(refusal.requeueAfterMs ?? leftMs, leftMs) };
}

/** The gpuPolicy that governs this kernel, if any: its gateway's (a direct kernel: every gateway's
 *  of its namespace) and its kernelspec's. */
function kernelPolicy(deps: KernelReconcilerDeps, kernel: JupyterKernel, kernelSpec: JupyterKernelSpec | undefined) {
  const ns = kernel.metadata!.namespace!;
  const gateways = deps.direct
    ? deps.cache.list<JupyterGateway>(GATEWAY_GVK, { namespace: ns }).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))
    : [deps.gateway ? deps.cache.get<JupyterGateway>(GATEWAY_GVK, ns, deps.gateway) : undefined].filter((g) => g !== undefined);
  const launch = deps.direct
    ? notebookOf(deps, kernel)?.spec.direct?.launchTimeout ?? DIRECT_DEFAULTS.launchTimeout
    : Number(kernel.spec.env?.find((e) => e.name === "KERNEL_LAUNCH_TIMEOUT")?.value);
  return effectivePolicy(
    gateways.map((gw) => ({ name: gw.metadata!.name!, ...(gw.spec.gpuPolicy ? { policy: gw.spec.gpuPolicy } : {}), ...(gw.spec.launchTimeout ? { launchTimeoutS: gw.spec.launchTimeout } : {}) })),
    kernelSpec ? { name: kernelSpec.metadata!.name!, ...(kernelSpec.spec.gpuPolicy ? { policy: kernelSpec.spec.gpuPolicy } : {}) } : undefined,
    Number.isFinite(launch) && launch > 0 ? launch : undefined,
  );
}

/** Kernels of the namespace holding GPUs: live kernel pods, and kernels admitted whose pod the cache has not shown yet. */
function gpuHolders(deps: KernelReconcilerDeps, ns: string): GpuHolder[] {
  const holders: GpuHolder[] = [];
  const seen = new Set<string>();
  for (const pod of deps.cache.list<Pod>(POD_GVK, { namespace: ns })) {
    if (!isKernelPod(pod)) continue; // the operator's cache also holds direct notebooks' pods
    const name = pod.metadata!.name!;
    seen.add(`${ns}/${name}`);
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    const usage = podGpuUsage(pod, deps.podOptions.claimTemplate);
    if (totalGpus(usage) === 0) continue;
    const kernel = deps.cache.get<JupyterKernel>(KERNEL_GVK, ns, name);
    const kernelSpec = kernel?.spec.kernelSpec?.name ?? pod.metadata?.labels?.[LABELS.kernelSpec];
    holders.push({ key: `${ns}/${name}`, user: kernel?.spec.username ?? "", ...(kernelSpec ? { kernelSpec } : {}), usage });
  }
  for (const [key, h] of deps.state.gpuAdmitted) {
    if (!key.startsWith(`${ns}/`)) continue;
    const kernel = deps.cache.get<JupyterKernel>(KERNEL_GVK, ns, key.slice(ns.length + 1));
    if (seen.has(key) || kernel?.metadata?.uid !== h.uid) { deps.state.gpuAdmitted.delete(key); continue; }
    holders.push(h);
  }
  return holders;
}

/** GPU resources for which one of the namespace's kernel pods waits for a node, with the scheduler's words. */
function unschedulableGpus(deps: KernelReconcilerDeps, ns: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pod of deps.cache.list<Pod>(POD_GVK, { namespace: ns })) {
    if (!isKernelPod(pod) || pod.spec?.nodeName || pod.metadata?.deletionTimestamp) continue;
    const sched = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (sched?.status !== "False" || sched.reason !== "Unschedulable") continue;
    for (const res of Object.keys(podGpuUsage(pod, deps.podOptions.claimTemplate))) out.set(res, sched.message ?? "unschedulable");
  }
  return out;
}

/** A kernel out of the queue shows no queue position. */
function withoutQueuePosition(plan: KernelPlan): KernelPlan {
  if (!plan.status || plan.status.queuePosition === undefined) return plan;
  const { queuePosition: _gone, ...status } = plan.status as JupyterKernelStatus;
  return { ...plan, status };
}

// The sidecar role's controllers (in each gateway pod): JupyterKernels -> kernel pods and idle
// culling per kernelspec (leader only), and the kernelspec sync into this pod's kernels directory
// (every replica).
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel } from "@elastic-jupyter/api";
import { KERNEL_GVK, KERNELSPEC_GVK, KERNEL_TEMPLATE_GVK, KernelWriteState, POD_GVK, reconcileKernel, watchKernelPodsSeen } from "./kernels/reconciler.ts";
import { eventRecorder } from "./runtime/events.ts";
import { CONFIGMAP_GVK, GATEWAY_GVK, syncKernelspecs } from "./kernelspecs/sync.ts";
import { KERNELSPEC_LABEL } from "./kernelspecs/files.ts";
import { KERNEL_POD_SELECTOR, kernelPodForCache } from "./kernels/pod.ts";
import { directKernelNotebook } from "./kernels/direct.ts";
import { podGpuUsage, type GpuUsage } from "./kernels/gpus.ts";
import { watchClaimTemplates, type ClaimTemplates } from "./kernels/claim-templates.ts";
import type { KernelPodPolicy } from "./kernels/policy.ts";
import { gatewayApi } from "./culling/gateway-api.ts";
import { CullState, reconcileCulling } from "./culling/reconciler.ts";
import { LABELS } from "./api.ts";
import { splitKey } from "./runtime/client.ts";
import type { ControllerSpec } from "./runtime/controller.ts";
import type { Manager } from "./runtime/manager.ts";

/** The kernelspec sync has one key: the whole directory is one desired state. */
const SYNC_KEY = "kernelspecs";
/** Safety net for the kernels directory, state outside the API server that nothing else watches. */
const SYNC_RESYNC_MS = 60_000;

export function sidecarControllers(mgr: Manager, opts: { gateway: string; gatewayUrl: string; gatewayToken?: string; kernelsDir: string; bootstrapConfigMap: string; kernelPodPolicy?: KernelPodPolicy }): ControllerSpec[] {
  const { cache, client, log } = mgr;
  const kernelRefs = (key: string) => (o: { metadata?: { namespace?: string; name?: string } }) => {
    // A kernelspec or template changed: kernels that failed on its absence stay failed (terminal),
    // so only kernels still pending care; they are few, so wake those that reference it by name.
    const name = o.metadata?.name;
    return cache.list<JupyterKernel>(KERNEL_GVK)
      .filter((k) => k.status?.phase === "Pending" && (k.spec[key as "kernelSpec"]?.name === name))
      .map((k) => `${k.metadata!.namespace}/${k.metadata!.name}`);
  };
  const state = new KernelWriteState();
  watchKernelPodsSeen(cache, state, { labelSelector: KERNEL_POD_SELECTOR, transform: kernelPodForCache });
  const claimTemplates = watchClaimTemplates(mgr);
  const events = eventRecorder(client, log);
  // GPUs may have freed (a kernel or pod ended, a pod got its node, a policy changed): the namespace's queued kernels look again.
  const queued = (o: { metadata?: { namespace?: string } }) => (state.gpuQueue.size && o.metadata?.namespace ? state.queuedIn(o.metadata.namespace) : []);
  mgr.metrics.gpuQueueLength.set(0);
  const kernels: ControllerSpec = {
    name: "kernels",
    for: KERNEL_GVK,
    owns: [{ ...POD_GVK, labelSelector: KERNEL_POD_SELECTOR, transform: kernelPodForCache }],
    watches: [
      { ...KERNELSPEC_GVK, map: kernelRefs("kernelSpec") },
      { ...KERNEL_TEMPLATE_GVK, map: kernelRefs("kernelTemplate") },
      { ...KERNEL_GVK, map: queued },
      { ...POD_GVK, labelSelector: KERNEL_POD_SELECTOR, transform: kernelPodForCache, map: queued },
      { ...GATEWAY_GVK, map: queued },
    ],
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key);
      const kernel = cache.get<JupyterKernel>(KERNEL_GVK, namespace, name);
      if (kernel && !servedBy(kernel, opts.gateway)) return;
      await claimTemplates.ready; // a status written before would miss the kernel's DRA GPUs
      try {
        return await reconcileKernel({
          cache, client, log, state, events,
          podOptions: { bootstrapConfigMap: opts.bootstrapConfigMap, claimTemplate: claimTemplates.lookup, ...(opts.kernelPodPolicy ? { policy: opts.kernelPodPolicy } : {}) },
          ...(opts.gateway ? { gateway: opts.gateway } : {}),
          onAdmitted: (waitedS, wasQueued) => mgr.metrics.gpuQueueWait.observe({ queued: String(wasQueued) }, waitedS),
        }, key);
      } finally {
        mgr.metrics.gpuQueueLength.set(state.gpuQueue.size);
      }
    },
  };
  const specs: ControllerSpec[] = [kernels];
  cache.informerFor<JupyterKernel>(KERNEL_GVK).on((e) => {
    if (e.type === "delete" && e.object.metadata?.uid) state.kernelDeleted(e.object.metadata.uid);
  });
  trackKernelMetrics(mgr, opts.gateway, claimTemplates);
  if (opts.kernelsDir) {
    specs.push({
      name: "kernelspec-sync",
      // Each reconcile syncs the whole directory, so keys only say "something changed": kernelspec
      // ConfigMaps are the primary objects (a start or resync queues them all, a delete queues the
      // deleted one) and a change to the gateway's kernels list maps to one extra key.
      for: { ...CONFIGMAP_GVK, labelSelector: KERNELSPEC_LABEL },
      // A kernelspec appearing lets its ConfigMap be trusted (the sync checks the owner's uid).
      watches: [{ ...GATEWAY_GVK, map: () => [SYNC_KEY] }, { ...KERNELSPEC_GVK, map: () => [SYNC_KEY] }],
      leaderElection: false,
      concurrency: 1,
      resyncPeriodMs: SYNC_RESYNC_MS,
      reconcile: async () => {
        await syncKernelspecs({ cache, log, namespace: mgr.config.namespace, kernelsDir: opts.kernelsDir, ...(opts.gateway ? { gatewayName: opts.gateway } : {}) });
      },
    });
  }
  if (opts.gateway && opts.gatewayUrl && mgr.config.namespace) {
    const own = `${mgr.config.namespace}/${opts.gateway}`;
    const api = gatewayApi(opts.gatewayUrl, opts.gatewayToken);
    const cullState = new CullState();
    specs.push({
      name: "culling",
      // One key, this sidecar's gateway; a kernelspec change (its cullIdleTimeout) wakes it too.
      // Leader only: one culler per gateway ends kernels and writes the Culling condition.
      for: GATEWAY_GVK,
      watches: [{ ...KERNELSPEC_GVK, map: () => [own] }],
      concurrency: 1,
      reconcile: async (key) => {
        if (key !== own) return; // other gateways in the namespace cull their own kernels
        return reconcileCulling({ cache, client, log, gateway: api, metrics: mgr.metrics, state: cullState, servedBy: (k) => servedBy(k, opts.gateway) }, key);
      },
    });
  }
  return specs;
}

/**
 * Whether this sidecar's gateway serves a kernel: the launcher labels kernels with their gateway, so
 * with two gateways in a namespace each reconciles only its own (their pods would differ, e.g. in the
 * bootstrap ConfigMap). A kernel without the label (created by hand) is served by every gateway;
 * a direct-mode kernel by none (see kernels/direct.ts).
 */
export function servedBy(kernel: JupyterKernel, gateway: string): boolean {
  // Direct-mode kernels (a notebook's provisioner made them, labelled with it) are the operator's,
  // never a gateway's. A Direct one without that label is served here only to be refused (planKernel):
  // the operator, which watches labelled kernels only, would never see it.
  if (directKernelNotebook(kernel) !== undefined) return false;
  const label = kernel.metadata?.labels?.[LABELS.gateway];
  return !label || !gateway || label === gateway;
}

/** Kernels by phase and GPUs requested/bound, kept up to date from cache events: each event
 *  takes back what the stored version counted and adds what the new one counts (a relist emits
 *  the differences as events too), so no event ever scans the cache. A pod's GPUs are remembered
 *  as counted, so a claim template changing under a live pod cannot skew the gauges. */
function trackKernelMetrics(mgr: Manager, gateway: string, claimTemplates: ClaimTemplates): void {
  const { kernelsByPhase, gpusRequested, gpusBound } = mgr.metrics;
  for (const phase of ["Pending", "Running", "Succeeded", "Failed"]) kernelsByPhase.set({ phase }, 0);
  const count = (k: JupyterKernel | undefined, sign: number): void => {
    if (k && servedBy(k, gateway)) kernelsByPhase.inc({ phase: k.status?.phase ?? "Pending" }, sign);
  };
  mgr.cache.informerFor<JupyterKernel>(KERNEL_GVK).on((e) => {
    count(e.old, -1);
    if (e.type !== "delete") count(e.object, 1);
  });
  const counted = new Map<string, { labels: { namespace: string; kernelspec: string }; usage: GpuUsage; bound: boolean }>();
  const add = (c: { labels: { namespace: string; kernelspec: string }; usage: GpuUsage; bound: boolean }, sign: number): void => {
    for (const [resource, n] of Object.entries(c.usage)) {
      gpusRequested.inc({ ...c.labels, resource }, sign * n);
      if (c.bound) gpusBound.inc({ ...c.labels, resource }, sign * n);
    }
  };
  const recount = (pod: Pod, deleted: boolean): void => {
    const uid = pod.metadata?.uid ?? "";
    const before = counted.get(uid);
    if (before) { add(before, -1); counted.delete(uid); }
    if (deleted || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") return;
    const usage = podGpuUsage(pod, claimTemplates.lookup);
    if (!Object.keys(usage).length) return;
    const c = { labels: { namespace: pod.metadata?.namespace ?? "", kernelspec: pod.metadata?.labels?.[LABELS.kernelSpec] ?? "" }, usage, bound: !!pod.spec?.nodeName };
    add(c, 1);
    counted.set(uid, c);
  };
  const pods = mgr.cache.informerFor<Pod>(POD_GVK, { labelSelector: KERNEL_POD_SELECTOR, transform: kernelPodForCache });
  pods.on((e) => recount(e.object, e.type === "delete"));
  // A template cached after its pods (at start) or changed: recount the pods that name it.
  claimTemplates.onChange((namespace, name) => {
    for (const pod of mgr.cache.list<Pod>(POD_GVK)) {
      if (pod.metadata?.namespace === namespace && (pod.spec?.resourceClaims as Array<{ resourceClaimTemplateName?: string }> | undefined)?.some((c) => c.resourceClaimTemplateName === name)) recount(pod, false);
    }
  });
}

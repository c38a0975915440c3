// The sidecar role's controllers (in each gateway pod): JupyterKernels -> kernel pods and idle
// culling per kernelspec (leader only), and the kernelspec sync into this pod's kernels directory
// (every replica).
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel } from "@elastic-jupyter/api";
import { KERNEL_GVK, KERNELSPEC_GVK, KERNEL_TEMPLATE_GVK, POD_GVK, reconcileKernel } from "./kernels/reconciler.ts";
import { CONFIGMAP_GVK, GATEWAY_GVK, syncKernelspecs } from "./kernelspecs/sync.ts";
import { KERNELSPEC_LABEL } from "./kernelspecs/files.ts";
import { podGpus } from "./kernels/pod.ts";
import type { KernelPodPolicy } from "./kernels/policy.ts";
import { gatewayApi } from "./culling/gateway-api.ts";
import { reconcileCulling } from "./culling/reconciler.ts";
import { LABELS } from "./api.ts";
import { splitKey } from "./runtime/client.ts";
import type { ControllerSpec } from "./runtime/controller.ts";
import type { Manager } from "./runtime/manager.ts";

/** Kernel pods carry this label (see kernelPodLabels); the pod cache holds only them. */
const KERNEL_POD_SELECTOR = "component=kernel";
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
  const kernels: ControllerSpec = {
    name: "kernels",
    for: KERNEL_GVK,
    owns: [{ ...POD_GVK, labelSelector: KERNEL_POD_SELECTOR }],
    watches: [
      { ...KERNELSPEC_GVK, map: kernelRefs("kernelSpec") },
      { ...KERNEL_TEMPLATE_GVK, map: kernelRefs("kernelTemplate") },
    ],
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key);
      const kernel = cache.get<JupyterKernel>(KERNEL_GVK, namespace, name);
      if (kernel && !servedBy(kernel, opts.gateway)) return;
      const result = await reconcileKernel({ cache, client, log, podOptions: { bootstrapConfigMap: opts.bootstrapConfigMap, ...(opts.kernelPodPolicy ? { policy: opts.kernelPodPolicy } : {}) } }, key);
      updateKernelMetrics(mgr, opts.gateway);
      return result;
    },
  };
  const specs: ControllerSpec[] = [kernels];
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
    specs.push({
      name: "culling",
      // One key, this sidecar's gateway; a kernelspec change (its cullIdleTimeout) wakes it too.
      for: GATEWAY_GVK,
      watches: [{ ...KERNELSPEC_GVK, map: () => [own] }],
      concurrency: 1,
      reconcile: async (key) => {
        if (key !== own) return; // other gateways in the namespace cull their own kernels
        return reconcileCulling({ cache, log, gateway: api, onCulled: (kernelspec) => mgr.metrics.kernelsCulled.inc({ kernelspec }) }, key);
      },
    });
  }
  return specs;
}

/**
 * Whether this sidecar's gateway serves a kernel: the launcher labels kernels with their gateway, so
 * with two gateways in a namespace each reconciles only its own (their pods would differ, e.g. in the
 * bootstrap ConfigMap). A kernel without the label (created by hand) is served by every gateway.
 */
export function servedBy(kernel: JupyterKernel, gateway: string): boolean {
  const label = kernel.metadata?.labels?.[LABELS.gateway];
  return !label || !gateway || label === gateway;
}

/** Kernels by phase and GPUs requested/bound, from the cache (cheap: a scan of kernel objects). */
function updateKernelMetrics(mgr: Manager, gateway: string): void {
  const phases: Record<string, number> = { Pending: 0, Running: 0, Succeeded: 0, Failed: 0 };
  for (const k of mgr.cache.list<JupyterKernel>(KERNEL_GVK).filter((k) => servedBy(k, gateway))) {
    const p = k.status?.phase ?? "Pending";
    phases[p] = (phases[p] ?? 0) + 1;
  }
  for (const [phase, n] of Object.entries(phases)) mgr.metrics.kernelsByPhase.set({ phase }, n);
  let requested = 0, bound = 0;
  for (const pod of mgr.cache.list<Pod>(POD_GVK)) {
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    const g = podGpus(pod);
    requested += g;
    if (pod.spec?.nodeName) bound += g;
  }
  mgr.metrics.gpusRequested.set(requested);
  mgr.metrics.gpusBound.set(bound);
}

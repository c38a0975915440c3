// The operator's controller for direct-mode kernels (docs/direct-mode.md): JupyterKernels that a
// notebook server's provisioner created (labelled with their notebook) become pods exactly as a
// gateway's sidecar makes them (same plan, pod, GPU policy and queue), after the direct-mode checks
// in direct.ts. The operator does it because a notebook pod has one ServiceAccount, which its
// users hold: a sidecar there could not create pods without handing that right to them.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel } from "@elastic-jupyter/api";
import { LABELS } from "../api.ts";
import type { Cache } from "../runtime/cache.ts";
import type { KubeClient } from "../runtime/client.ts";
import { splitKey } from "../runtime/client.ts";
import type { ControllerSpec } from "../runtime/controller.ts";
import { eventRecorder } from "../runtime/events.ts";
import { silentLogger, type Logger } from "../runtime/log.ts";
import { watchClaimTemplates } from "./claim-templates.ts";
import { directBootstrapConfigMapName, directKernelNotebook, orphanedByServerRestart } from "./direct.ts";
import { kernelPodForCache } from "./pod.ts";
import type { KernelPodPolicy } from "./policy.ts";
import { GATEWAY_GVK, KERNELSPEC_GVK, KERNEL_GVK, KERNEL_TEMPLATE_GVK, KernelWriteState, NOTEBOOK_GVK, POD_GVK, reconcileKernel, watchKernelPodsSeen } from "./reconciler.ts";

/** Kernel pods, and direct notebooks' pods (notebooks/deployment.ts labels them): a notebook
 *  container that ends orphans the kernels its server started. */
export const DIRECT_POD_SELECTOR = "component in (kernel,notebook)";

export function directKernelController(deps: { cache: Cache; client: KubeClient; log?: Logger; kernelPodPolicy?: KernelPodPolicy }): ControllerSpec {
  const { cache, client } = deps;
  const log = deps.log ?? silentLogger;
  const state = new KernelWriteState();
  const events = eventRecorder(client, log);
  const claimTemplates = watchClaimTemplates({ client, cache, log });
  const pendingWhere = (match: (k: JupyterKernel) => boolean) => (o: { metadata?: { namespace?: string; name?: string } }): string[] =>
    cache.list<JupyterKernel>(KERNEL_GVK, o.metadata?.namespace ? { namespace: o.metadata.namespace } : {})
      .filter((k) => (k.status?.phase ?? "Pending") === "Pending" && match(k))
      .map((k) => `${k.metadata!.namespace}/${k.metadata!.name}`);
  const queued = (o: { metadata?: { namespace?: string } }) => (state.gpuQueue.size && o.metadata?.namespace ? state.queuedIn(o.metadata.namespace) : []);
  const directKernels = { ...KERNEL_GVK, labelSelector: LABELS.notebook };
  const kernelPods = { ...POD_GVK, labelSelector: DIRECT_POD_SELECTOR, transform: kernelPodForCache };
  watchKernelPodsSeen(cache, state, kernelPods);
  cache.informerFor<JupyterKernel>(KERNEL_GVK, { labelSelector: LABELS.notebook }).on((e) => {
    if (e.type === "delete" && e.object.metadata?.uid) state.kernelDeleted(e.object.metadata.uid);
  });
  return {
    name: "direct-kernels",
    for: directKernels,
    owns: [kernelPods],
    watches: [
      // Pending kernels wait on a missing kernelspec, template or notebook; queued ones on GPUs.
      { ...KERNELSPEC_GVK, map: (o) => pendingWhere((k) => k.spec.kernelSpec?.name === o.metadata?.name)(o) },
      { ...KERNEL_TEMPLATE_GVK, map: (o) => pendingWhere(() => true)(o) },
      { ...NOTEBOOK_GVK, map: (o) => pendingWhere((k) => directKernelNotebook(k) === o.metadata?.name)(o) },
      // A namespace's gateways' gpuPolicy governs its direct kernels too: a change may admit queued ones.
      { ...GATEWAY_GVK, map: queued },
      { ...directKernels, map: queued },
      { ...kernelPods, map: (o) => [...queued(o), ...cache.ownedBy<JupyterKernel>(KERNEL_GVK, o.metadata?.uid ?? "").map((k) => `${k.metadata!.namespace}/${k.metadata!.name}`)] },
    ],
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key);
      const kernel = cache.get<JupyterKernel>(KERNEL_GVK, namespace, name);
      const ownerPod = kernel?.metadata?.ownerReferences?.find((o) => o.kind === "Pod");
      const orphaned = kernel && !kernel.metadata?.deletionTimestamp && ownerPod ? orphanedByServerRestart(kernel, cache.get<Pod>(POD_GVK, namespace, ownerPod.name)) : undefined;
      if (orphaned) {
        events.record(kernel!, "Warning", "NotebookServerRestarted", `deleting the kernel: ${orphaned}`);
        await client.delete(KERNEL_GVK, namespace, name, { uid: kernel!.metadata!.uid! });
        log.with({ kernel: key }).info("deleted a kernel its notebook server no longer knows", { why: orphaned });
        return {};
      }
      const notebook = kernel ? directKernelNotebook(kernel) ?? "" : "";
      await claimTemplates.ready; // a kernel's DRA GPUs are unknown until then
      return reconcileKernel({
        cache, client, log, state, events, direct: true,
        podOptions: { bootstrapConfigMap: directBootstrapConfigMapName(notebook), claimTemplate: claimTemplates.lookup, ...(deps.kernelPodPolicy ? { policy: deps.kernelPodPolicy } : {}) },
      }, key);
    },
  };
}

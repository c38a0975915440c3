// DRA ResourceClaimTemplates, cached for counting the GPUs of kernel pods that name one (the
// sidecar's kernels and metrics, the operator's direct kernels).
import type { Cache } from "../runtime/cache.ts";
import type { GroupVersionKind, KubeClient, KubeObject } from "../runtime/client.ts";
import type { Logger } from "../runtime/log.ts";
import type { ClaimTemplateLookup, ResourceClaimTemplate } from "./gpus.ts";

export const CLAIM_TEMPLATE_GVK: GroupVersionKind = { apiVersion: "resource.k8s.io/v1", kind: "ResourceClaimTemplate" };

/** The namespace's DRA ResourceClaimTemplates, as the kernel controller and the metrics read them. */
export interface ClaimTemplates {
  lookup: ClaimTemplateLookup;
  /** Settles once the templates are cached, or known not to be served: until then a kernel's DRA GPUs are unknown. */
  ready: Promise<void>;
  /** Called with each template that appears, changes or goes. */
  onChange(fn: (namespace: string, name: string) => void): void;
}

/**
 * Caches the namespace's ResourceClaimTemplates once discovery shows the API server serves
 * resource.k8s.io/v1 (Kubernetes >= 1.34; older clusters have no DRA GPUs to count). Only the
 * device requests are kept.
 */
export function watchClaimTemplates(mgr: { client: KubeClient; cache: Cache; log: Logger }): ClaimTemplates {
  let watching = false;
  const listeners: Array<(namespace: string, name: string) => void> = [];
  const ready = mgr.client.resource(CLAIM_TEMPLATE_GVK).then(async () => {
    const informer = mgr.cache.informerFor(CLAIM_TEMPLATE_GVK, {
      transform: (o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion, uid: o.metadata?.uid }, spec: (o as ResourceClaimTemplate).spec } as KubeObject),
    });
    watching = true;
    informer.on((e) => { for (const fn of listeners) fn(e.object.metadata?.namespace ?? "", e.object.metadata?.name ?? ""); });
    await informer.waitForSync();
  }, (e: unknown) => {
    mgr.log.info("not counting DRA GPUs: the API server does not serve resource.k8s.io/v1 ResourceClaimTemplates", { error: String(e) });
  }).catch((e: unknown) => mgr.log.warn("DRA claim templates not cached yet; kernels' DRA GPUs count once they are", { error: String(e) }));
  return {
    lookup: (namespace, name) => (watching ? mgr.cache.get<ResourceClaimTemplate & KubeObject>(CLAIM_TEMPLATE_GVK, namespace, name) : undefined),
    ready,
    onChange: (fn) => { listeners.push(fn); },
  };
}

// The sidecar's kernelspec sync: one level-triggered step that makes the gateway's kernels
// directory match the kernelspec ConfigMaps its JupyterGateway lists. Runs in every gateway
// replica (each has its own directory), not only in the leader.
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import type { JupyterGateway, JupyterKernelSpec } from "@elastic-jupyter/api";
import { API_VERSION, KIND } from "../api.ts";
import type { Cache } from "../runtime/cache.ts";
import type { GroupVersionKind } from "../runtime/client.ts";
import type { Logger } from "../runtime/log.ts";
import { desiredKernelspecs, syncKernelsDir } from "./files.ts";
import { trustedKernelspecConfigMaps } from "./configmap.ts";
import { GATEWAY_GVK, KERNELSPEC_GVK } from "../kernels/reconciler.ts";

export { GATEWAY_GVK };

export const CONFIGMAP_GVK: GroupVersionKind = { apiVersion: "v1", kind: "ConfigMap" };

export interface KernelspecSyncDeps {
  cache: Cache;
  log: Logger;
  namespace: string;
  kernelsDir: string;
  /** The gateway whose `spec.kernels` selects the kernelspecs; none: every kernelspec in the namespace. */
  gatewayName?: string;
}

export async function syncKernelspecs(deps: KernelspecSyncDeps): Promise<void> {
  const gateway = deps.gatewayName ? deps.cache.get<JupyterGateway>(GATEWAY_GVK, deps.namespace, deps.gatewayName) : undefined;
  if (deps.gatewayName && !gateway) {
    // Not in the cache (yet, or deleted): keep what the gateway serves rather than guess.
    deps.log.warn("gateway not found; kernelspecs left as they are", { gateway: deps.gatewayName });
    return;
  }
  const configMaps = deps.cache.list<ConfigMap>(CONFIGMAP_GVK, { namespace: deps.namespace });
  const kernelSpecs = deps.cache.list<JupyterKernelSpec>(KERNELSPEC_GVK, { namespace: deps.namespace });
  const { trusted, skipped: untrusted } = trustedKernelspecConfigMaps(configMaps, kernelSpecs);
  const { specs, skipped } = desiredKernelspecs(trusted, gateway?.spec?.kernels ?? []);
  for (const why of [...untrusted, ...skipped]) deps.log.warn("kernelspec ConfigMap skipped", { why });
  const { written, removed } = await syncKernelsDir(deps.kernelsDir, specs);
  if (written.length || removed.length) deps.log.info("kernelspecs synced", { written, removed, dir: deps.kernelsDir });
}

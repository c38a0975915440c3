// The culler's reconcile: one key, the sidecar's own JupyterGateway. Each pass reads the policy
// from the cache (the gateway and its namespace's kernelspecs), asks the gateway for its kernels,
// shuts down those plan.ts picks, and comes back after the gateway's cullInterval.
import type { JupyterGateway, JupyterKernelSpec } from "@elastic-jupyter/api";
import type { Cache } from "../runtime/cache.ts";
import { splitKey } from "../runtime/client.ts";
import type { ReconcileResult } from "../runtime/controller.ts";
import type { Logger } from "../runtime/log.ts";
import { GATEWAY_GVK } from "../kernelspecs/sync.ts";
import { KERNELSPEC_GVK } from "../kernels/reconciler.ts";
import type { GatewayApi } from "./gateway-api.ts";
import { cullPolicy, cullsAnything, kernelsToCull } from "./plan.ts";

export interface CullDeps {
  cache: Cache;
  log: Logger;
  gateway: GatewayApi;
  /** Called once per kernel shut down (metrics). */
  onCulled?: (kernelspec: string) => void;
  now?: () => Date;
}

export async function reconcileCulling(deps: CullDeps, key: string): Promise<ReconcileResult> {
  const { namespace, name } = splitKey(key);
  const gw = namespace ? deps.cache.get<JupyterGateway>(GATEWAY_GVK, namespace, name) : undefined;
  if (!gw) return {};
  const policy = cullPolicy(gw, deps.cache.list<JupyterKernelSpec>(KERNELSPEC_GVK, { namespace }));
  // Nothing can be culled: no polling until the gateway or a kernelspec changes (which requeues).
  if (!cullsAnything(policy)) return {};
  const next = { requeueAfterMs: policy.intervalS * 1000 };
  let kernels;
  try {
    kernels = await deps.gateway.listKernels();
  } catch (e) {
    // The gateway starting or restarting: not an error of ours; the next pass tries again.
    deps.log.info("culling: gateway not answering, trying again next interval", { err: (e as Error).message });
    return next;
  }
  for (const d of kernelsToCull(kernels, policy, deps.now?.() ?? new Date())) {
    try {
      if (await deps.gateway.shutdownKernel(d.id)) {
        deps.log.info("culled idle kernel", { kernel: d.id, kernelspec: d.kernelspec, idleSeconds: d.idleS, cullIdleTimeout: d.timeoutS });
        deps.onCulled?.(d.kernelspec);
      }
    } catch (e) {
      deps.log.warn("culling: shutting down an idle kernel failed", { kernel: d.id, err: (e as Error).message });
    }
  }
  return next;
}

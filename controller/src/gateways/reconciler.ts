// The JupyterGateway controller (operator role): the thin I/O edge around the pure functions in
// deployment.ts, rbac.ts, files.ts and status.ts. Reads come from the cache; writes are
// server-side applies; children carry a controller reference, so deleting the gateway deletes them.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { JupyterGateway, JupyterKernelSpec } from "@elastic-jupyter/api";
import type { Cache } from "../runtime/cache.ts";
import { splitKey, type KubeClient, type KubeObject } from "../runtime/client.ts";
import type { ControllerSpec, ReconcileResult } from "../runtime/controller.ts";
import { applyObject, applyStatus } from "../runtime/apply.ts";
import { desiredGatewayDeployment, desiredGatewayService, type GatewayRenderOptions } from "./deployment.ts";
import { desiredGatewayFilesConfigMap, desiredKernelBootstrapConfigMap, type FileSet } from "./files.ts";
import { GVK, MANAGED_SELECTOR, applyFailure, nameProblem, sameStatus } from "./owned.ts";
import { desiredGatewayRole, desiredGatewayRoleBinding, desiredGatewayServiceAccount } from "./rbac.ts";
import { gatewayStatus } from "./status.ts";
import { desiredGatewayTokenSecret, ensureTokenSecret, gatewayTokenSecretName, newToken } from "./token.ts";

export interface GatewayControllerDeps {
  client: KubeClient;
  cache: Cache;
  render: GatewayRenderOptions;
  /** bootstrap.py and friends, rendered per gateway for its kernel pods. */
  kernelFiles: FileSet;
  now?: () => Date;
}

export function gatewayController(deps: GatewayControllerDeps): ControllerSpec {
  const { client, cache } = deps;
  const now = deps.now ?? (() => new Date());

  /** After spec.serviceAccountName is set, the account we created earlier is no longer used. */
  async function deleteOwnServiceAccount(gw: JupyterGateway & KubeObject): Promise<void> {
    const ns = gw.metadata!.namespace!;
    const ours = cache.get<KubeObject>(GVK.serviceAccount, ns, gw.metadata!.name!);
    const uid = ours?.metadata?.uid;
    if (uid && ours.metadata?.ownerReferences?.some((r) => r.controller && r.uid === gw.metadata!.uid)) {
      await client.delete(GVK.serviceAccount, ns, gw.metadata!.name!, { uid });
    }
  }

  async function reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const gw = cache.get<JupyterGateway & KubeObject>(GVK.gateway, namespace, name);
    // Gone or going: garbage collection removes what it owned.
    if (!gw || gw.metadata?.deletionTimestamp) return {};

    const kernelSpecNames = new Set(cache.list<JupyterKernelSpec & KubeObject>(GVK.kernelSpec, { namespace }).map((k) => k.metadata!.name!));
    const problem = nameProblem("JupyterGateway", name);
    let invalid = problem ? { reason: "InvalidName", message: problem } : undefined;
    let deployment: Deployment | undefined;
    let tokenSecretFound = false;
    let failure: unknown;
    if (!problem) {
      try {
        const tokenSecret = gatewayTokenSecretName(gw);
        tokenSecretFound = !tokenSecret || await ensureTokenSecret(client, cache, namespace!, tokenSecret, desiredGatewayTokenSecret(gw, newToken()));
        // RBAC and files first, so the pod finds them when it starts.
        const sa = desiredGatewayServiceAccount(gw);
        if (sa) await applyObject(client, sa as KubeObject);
        else await deleteOwnServiceAccount(gw);
        await applyObject(client, desiredGatewayRole(gw) as KubeObject);
        await applyObject(client, desiredGatewayRoleBinding(gw) as KubeObject);
        await applyObject(client, desiredGatewayFilesConfigMap(gw, deps.render.gatewayFiles) as KubeObject);
        await applyObject(client, desiredKernelBootstrapConfigMap(gw, deps.kernelFiles) as KubeObject);
        await applyObject(client, desiredGatewayService(gw) as KubeObject);
        deployment = (await applyObject(client, desiredGatewayDeployment(gw, deps.render) as KubeObject)) as Deployment;
      } catch (e) {
        // A refusal (e.g. a same-named object controlled by something else) is the user's to see.
        invalid = applyFailure(e);
        if (!invalid) throw e;
        failure = e;
      }
    }
    const status = gatewayStatus({ gateway: gw, deployment, kernelSpecNames, tokenSecretFound, operatorSidecarImage: deps.render.sidecarImage, now: now().toISOString().replace(/\.\d{3}Z$/, "Z"), ...(invalid ? { invalid } : {}) });
    // Only the conditions the operator writes: the sidecar's Culling condition is its own (its field manager).
    const ours = gw.status && { ...gw.status, conditions: gw.status.conditions?.filter((c) => status.conditions?.some((n) => n.type === c.type)) };
    if (!sameStatus(ours, status)) await applyStatus(client, gw, status);
    if (failure) throw failure; // retried with backoff
    // A user's Secret is not watched (it carries none of our labels): look again now and then.
    return !invalid && !tokenSecretFound ? { requeueAfterMs: 30_000 } : {};
  }

  // A kernelspec appearing or vanishing changes the Ready of the gateways that list it.
  const gatewaysListing = (obj: KubeObject): string[] => {
    const ns = obj.metadata?.namespace;
    return cache.list<JupyterGateway & KubeObject>(GVK.gateway, { namespace: ns })
      .filter((g) => (g.spec.kernels ?? []).includes(obj.metadata!.name!))
      .map((g) => `${ns}/${g.metadata!.name}`);
  };

  const owned = (gvk: { apiVersion: string; kind: string }) => ({ ...gvk, labelSelector: MANAGED_SELECTOR });
  return {
    name: "gateways",
    for: GVK.gateway,
    owns: [owned(GVK.deployment), owned(GVK.service), owned(GVK.configMap), owned(GVK.secret), owned(GVK.serviceAccount), owned(GVK.role), owned(GVK.roleBinding)],
    watches: [{ ...GVK.kernelSpec, map: gatewaysListing }],
    reconcile: (key) => reconcile(key),
  };
}

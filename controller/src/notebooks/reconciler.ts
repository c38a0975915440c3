// The JupyterNotebook controller (operator role): token Secret (created once, never rewritten),
// Service and Deployment, and a status that tracks the referenced gateway.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { JupyterGateway, JupyterNotebook } from "@elastic-jupyter/api";
import type { Cache } from "../runtime/cache.ts";
import { splitKey, type KubeClient, type KubeObject } from "../runtime/client.ts";
import type { ControllerSpec, ReconcileResult } from "../runtime/controller.ts";
import { applyObject, applyStatus } from "../runtime/apply.ts";
import { TOKEN_KEY, ensureTokenSecret, gatewayTokenSecretName, getSecret, newToken } from "../gateways/token.ts";
import { GVK, MANAGED_SELECTOR, applyFailure, nameProblem, sameStatus } from "../gateways/owned.ts";
import { gatewayServesNamespace } from "../gateways/access.ts";
import { desiredGatewayTokenCopy, desiredNotebookConfigMap, desiredNotebookDeployment, desiredNotebookService, desiredTokenSecret, gatewayTokenCopyName, notebookGatewayRef, operatorOwnsTokenSecret, tokenSecretName, type NotebookRenderOptions } from "./deployment.ts";
import { notebookStatus } from "./status.ts";
import { desiredDirectBootstrapConfigMap, desiredNotebookFilesConfigMap, desiredNotebookRole, desiredNotebookRoleBinding, desiredNotebookServiceAccount, isDirectNotebook } from "./direct.ts";

export interface NotebookControllerDeps {
  client: KubeClient;
  cache: Cache;
  render: NotebookRenderOptions;
  now?: () => Date;
}

export function notebookController(deps: NotebookControllerDeps): ControllerSpec {
  const { client, cache } = deps;
  const now = deps.now ?? (() => new Date());

  /** Whether the notebook's token Secret exists with a `token` key, creating ours when it does not exist. */
  async function ensureNotebookToken(nb: JupyterNotebook & KubeObject): Promise<boolean> {
    const name = tokenSecretName(nb);
    if (!name) return true;
    return ensureTokenSecret(client, cache, nb.metadata!.namespace!, name, operatorOwnsTokenSecret(nb) ? desiredTokenSecret(nb, newToken()) : undefined);
  }

  /** Deletes our copy of a gateway token the notebook may no longer hold (the gateway stopped allowing its namespace). */
  async function dropGatewayTokenCopy(nb: JupyterNotebook & KubeObject): Promise<void> {
    const ns = nb.metadata!.namespace!;
    const copy = cache.get<KubeObject>(GVK.secret, ns, gatewayTokenCopyName(nb));
    if (copy?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === nb.metadata!.uid)) {
      await client.delete(GVK.secret, ns, copy.metadata!.name!, { uid: copy.metadata!.uid! });
    }
  }

  /** Whether the gateway's token is where the notebook pod reads it, copying it across namespaces. */
  async function ensureGatewayToken(nb: JupyterNotebook & KubeObject, gateway: (JupyterGateway & KubeObject) | undefined): Promise<boolean> {
    if (!gateway) return true; // GatewayNotFound or GatewayNotAllowed says it
    const source = gatewayTokenSecretName(gateway);
    if (!source) return true;
    const gwNamespace = gateway.metadata!.namespace!;
    const token = (await getSecret(client, cache, gwNamespace, source))?.data?.[TOKEN_KEY];
    if (token === undefined) return false;
    if (gwNamespace !== nb.metadata!.namespace) await applyObject(client, desiredGatewayTokenCopy(nb, gateway, token) as KubeObject);
    return true;
  }

  /** A notebook switched back to gateway mode: its ServiceAccount and the right to create kernels
   *  go. (The provisioner's ConfigMaps hold only code and stay until the notebook is deleted: the
   *  operator may not delete ConfigMaps.) */
  async function dropDirectModeObjects(nb: JupyterNotebook & KubeObject): Promise<void> {
    const ns = nb.metadata!.namespace!;
    const objects = [desiredNotebookRoleBinding(nb), desiredNotebookRole(nb), desiredNotebookServiceAccount(nb)] as KubeObject[];
    for (const o of objects) {
      const gvk = { apiVersion: o.apiVersion!, kind: o.kind! };
      const found = cache.get<KubeObject>(gvk, ns, o.metadata!.name!);
      if (found?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === nb.metadata!.uid)) {
        await client.delete(gvk, ns, found.metadata!.name!, { uid: found.metadata!.uid! });
      }
    }
  }

  async function reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const nb = cache.get<JupyterNotebook & KubeObject>(GVK.notebook, namespace, name);
    if (!nb || nb.metadata?.deletionTimestamp) return {};

    const ref = notebookGatewayRef(nb);
    const found = ref ? cache.get<JupyterGateway & KubeObject>(GVK.gateway, ref.namespace, ref.name) : undefined;
    // A gateway in another namespace that does not list ours is treated as unknown: no token, no settings from it.
    const gatewayAllowed = !found || gatewayServesNamespace(found, namespace);
    const gateway = gatewayAllowed ? found : undefined;
    const problem = nameProblem("JupyterNotebook", name);
    let invalid = problem ? { reason: "InvalidName", message: problem } : undefined;
    let deployment: Deployment | undefined;
    let tokenSecretFound = false;
    let gatewayTokenFound = false;
    let failure: unknown;
    if (!problem) {
      try {
        tokenSecretFound = await ensureNotebookToken(nb);
        gatewayTokenFound = await ensureGatewayToken(nb, gateway);
        if (!gatewayAllowed) await dropGatewayTokenCopy(nb);
        if (isDirectNotebook(nb)) {
          // What the provisioner needs, before the pod that uses it.
          await applyObject(client, desiredNotebookServiceAccount(nb) as KubeObject);
          await applyObject(client, desiredNotebookRole(nb) as KubeObject);
          await applyObject(client, desiredNotebookRoleBinding(nb) as KubeObject);
          await applyObject(client, desiredNotebookFilesConfigMap(nb, deps.render.notebookFiles ?? {}) as KubeObject);
          await applyObject(client, desiredDirectBootstrapConfigMap(nb, deps.render.kernelFiles ?? {}) as KubeObject);
        }
        await applyObject(client, desiredNotebookConfigMap(nb) as KubeObject);
        await applyObject(client, desiredNotebookService(nb) as KubeObject);
        // Rendered even while the gateway is missing: the pod starts and reaches the gateway once it exists.
        deployment = (await applyObject(client, desiredNotebookDeployment(nb, gateway, deps.render) as KubeObject)) as Deployment;
        if (!isDirectNotebook(nb)) await dropDirectModeObjects(nb);
      } catch (e) {
        invalid = applyFailure(e);
        if (!invalid) throw e;
        failure = e;
      }
    }
    const status = notebookStatus({
      notebook: nb, gatewayFound: found !== undefined, gatewayAllowed, tokenSecretFound, gatewayTokenFound, deployment,
      now: now().toISOString().replace(/\.\d{3}Z$/, "Z"),
      ...(invalid ? { invalid } : {}),
    });
    if (!sameStatus(nb.status, status)) await applyStatus(client, nb, status);
    if (failure) throw failure; // retried with backoff
    // A user's Secret is not watched (it carries none of our labels): look again now and then.
    return !invalid && !(tokenSecretFound && gatewayTokenFound) ? { requeueAfterMs: 30_000 } : {};
  }

  // A gateway appearing, changing or vanishing concerns every notebook that refers to it.
  const notebooksUsing = (obj: KubeObject): string[] => cache.list<JupyterNotebook & KubeObject>(GVK.notebook)
    .filter((nb) => {
      const ref = notebookGatewayRef(nb);
      return ref?.name === obj.metadata?.name && ref?.namespace === obj.metadata?.namespace;
    })
    .map((nb) => `${nb.metadata!.namespace}/${nb.metadata!.name}`);

  const owned = (gvk: { apiVersion: string; kind: string }) => ({ ...gvk, labelSelector: MANAGED_SELECTOR });
  return {
    name: "notebooks",
    for: GVK.notebook,
    owns: [owned(GVK.deployment), owned(GVK.service), owned(GVK.configMap), owned(GVK.secret), owned(GVK.serviceAccount), owned(GVK.role), owned(GVK.roleBinding)],
    watches: [{ ...GVK.gateway, map: notebooksUsing }],
    reconcile: (key) => reconcile(key),
  };
}

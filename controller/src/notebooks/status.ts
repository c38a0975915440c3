// JupyterNotebook status: Ready when its gateway exists, its token Secret exists, and its
// Deployment is available.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { JupyterNotebook, JupyterNotebookStatus } from "@elastic-jupyter/api";
import { deploymentAvailability, readyCondition, withConditions } from "../gateways/owned.ts";
import { notebookGatewayRef, notebookUrl, tokenSecretName } from "./deployment.ts";

export interface NotebookObservation {
  notebook: JupyterNotebook;
  /** Whether the referenced JupyterGateway exists (ignored without spec.gateway). */
  gatewayFound: boolean;
  /** Whether the gateway serves the notebook's namespace (its own, or listed in spec.allowedNamespaces). */
  gatewayAllowed: boolean;
  /** Whether the token Secret exists and has a `token` key (ignored with auth disabled). */
  tokenSecretFound: boolean;
  /** Whether the gateway's token Secret exists (ignored when the gateway needs none). */
  gatewayTokenFound: boolean;
  deployment: Deployment | undefined;
  invalid?: { reason: string; message: string };
  now: string;
}

export function notebookStatus(o: NotebookObservation): JupyterNotebookStatus {
  const nb = o.notebook;
  const gen = nb.metadata?.generation;
  const ready = ((): { ok: boolean; reason: string; message: string } => {
    if (o.invalid) return { ok: false, ...o.invalid };
    const ref = notebookGatewayRef(nb);
    if (ref && !o.gatewayFound) return { ok: false, reason: "GatewayNotFound", message: `spec.gateway: JupyterGateway ${ref.namespace}/${ref.name} does not exist` };
    if (ref && !o.gatewayAllowed) {
      return { ok: false, reason: "GatewayNotAllowed", message: `spec.gateway: JupyterGateway ${ref.namespace}/${ref.name} does not serve namespace ${nb.metadata?.namespace}: its spec.allowedNamespaces must list it (the gateway's owner decides)` };
    }
    if (ref && !o.gatewayTokenFound) return { ok: false, reason: "GatewayTokenNotFound", message: `JupyterGateway ${ref.namespace}/${ref.name}: its token Secret (spec.auth) does not exist yet or has no key "token"` };
    const secret = tokenSecretName(nb);
    if (secret && !o.tokenSecretFound) return { ok: false, reason: "TokenSecretNotFound", message: `spec.auth.secretName: Secret ${nb.metadata?.namespace}/${secret} does not exist or has no key "token"` };
    const dep = deploymentAvailability(o.deployment);
    if (!dep.available) return { ok: false, reason: dep.reason, message: dep.message };
    return { ok: true, reason: "Available", message: `the notebook server is available at ${notebookUrl(nb)}` };
  })();
  return {
    ...nb.status,
    observedGeneration: gen,
    url: notebookUrl(nb),
    conditions: withConditions(nb.status?.conditions, [readyCondition(ready.ok, ready.reason, ready.message, gen)], o.now),
  };
}

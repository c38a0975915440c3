// JupyterGateway status: Ready when its Deployment is available and every kernelspec it lists exists.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { Condition, JupyterGateway, JupyterGatewayStatus } from "@elastic-jupyter/api";
import { deploymentAvailability, readyCondition, withConditions } from "./owned.ts";
import { gatewayTokenSecretName } from "./token.ts";

export interface GatewayObservation {
  gateway: JupyterGateway;
  deployment: Deployment | undefined;
  /** Names of the JupyterKernelSpecs that exist in the gateway's namespace. */
  kernelSpecNames: ReadonlySet<string>;
  /** Whether the token Secret exists and has a `token` key (ignored with auth disabled). */
  tokenSecretFound: boolean;
  /** The sidecar image the operator gives gateways that pin none (its own). */
  operatorSidecarImage: string;
  /** Set when the gateway cannot be rendered at all (e.g. an unusable name); nothing is applied then. */
  invalid?: { reason: string; message: string };
  now: string;
}

export function gatewayStatus(o: GatewayObservation): JupyterGatewayStatus {
  const gen = o.gateway.metadata?.generation;
  const ready = ((): { ok: boolean; reason: string; message: string } => {
    if (o.invalid) return { ok: false, ...o.invalid };
    const missing = (o.gateway.spec.kernels ?? []).filter((k) => !o.kernelSpecNames.has(k));
    if (missing.length > 0) {
      return { ok: false, reason: "KernelSpecNotFound", message: `spec.kernels lists JupyterKernelSpecs that do not exist in namespace ${o.gateway.metadata?.namespace}: ${missing.join(", ")}` };
    }
    const secret = gatewayTokenSecretName(o.gateway);
    if (secret && !o.tokenSecretFound) return { ok: false, reason: "TokenSecretNotFound", message: `spec.auth.secretName: Secret ${o.gateway.metadata?.namespace}/${secret} does not exist or has no key "token"` };
    const dep = deploymentAvailability(o.deployment);
    if (!dep.available) return { ok: false, reason: dep.reason, message: dep.message };
    return { ok: true, reason: "Available", message: `the gateway is available and serves ${(o.gateway.spec.kernels ?? []).length ? `kernelspecs ${o.gateway.spec.kernels!.join(", ")}` : "every kernelspec in its namespace"}` };
  })();
  return {
    ...o.gateway.status,
    observedGeneration: gen,
    conditions: withConditions(o.gateway.status?.conditions, [readyCondition(ready.ok, ready.reason, ready.message, gen), sidecarCondition(o.gateway, o.operatorSidecarImage, gen)], o.now),
  };
}

/**
 * Whether the sidecar follows the operator: a pinned spec.sidecar.image stays where it is when the
 * operator is upgraded, so a cluster could run N gateways on N old sidecars without anyone noticing.
 */
function sidecarCondition(gw: JupyterGateway, operatorImage: string, gen: number | undefined): Condition {
  const pinned = gw.spec.sidecar?.image;
  const current = !pinned || pinned === operatorImage;
  return {
    type: "SidecarCurrent", status: current ? "True" : "False", lastTransitionTime: "",
    reason: !pinned ? "OperatorImage" : current ? "PinnedToOperatorImage" : "SidecarPinned",
    message: current ? `the sidecar runs the operator's image ${operatorImage}` : `spec.sidecar.image pins ${pinned}, but the operator runs ${operatorImage}: this gateway's sidecar does not follow operator upgrades (unset spec.sidecar.image to follow)`,
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
  };
}

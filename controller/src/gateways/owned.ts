// Small pieces shared by the operator's reconcilers (gateways, notebooks, kernelspecs, kernel
// templates): owner references, the labels on what we create, Ready conditions, hashing.
import { createHash } from "node:crypto";
import type { Condition } from "@elastic-jupyter/api";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { OwnerReference } from "kubernetes-types/meta/v1.js";
import { API_VERSION } from "../api.ts";

/** What every custom resource we own children for looks like. */
export interface OwnerObject {
  kind: string;
  metadata?: { name?: string; namespace?: string; uid?: string; generation?: number };
}

export const MANAGED_BY = { "app.kubernetes.io/managed-by": "elastic-jupyter" } as const;

/** The controller reference that lets garbage collection delete a child with its owner. */
export function controllerRef(owner: OwnerObject): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: owner.kind,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata of a child object: in its owner's namespace, labelled, controlled by the owner. */
export function ownedMeta(owner: OwnerObject, name: string, labels: Record<string, string>): { name: string; namespace: string; labels: Record<string, string>; ownerReferences: OwnerReference[] } {
  return { name, namespace: owner.metadata!.namespace!, labels, ownerReferences: [controllerRef(owner)] };
}

/** Short stable hash of JSON-able data (object keys sorted), for pod template annotations. */
export function stableHash(value: unknown): string {
  return createHash("sha256").update(stableJson(value)).digest("hex").slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A Ready condition (lastTransitionTime is filled in by withConditions). */
export function readyCondition(ok: boolean, reason: string, message: string, generation: number | undefined): Condition {
  return {
    type: "Ready", status: ok ? "True" : "False", reason, message, lastTransitionTime: "",
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

/** Status conditions with lastTransitionTime kept for those whose status did not change. */
export function withConditions(previous: Condition[] | undefined, next: Condition[], now: string): Condition[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
  });
}

/** True when two statuses say the same thing (ignoring lastTransitionTime, which only moves on change). */
export function sameStatus(a: unknown, b: unknown): boolean {
  const strip = (s: unknown): unknown => {
    if (!s || typeof s !== "object") return s;
    const copy = structuredClone(s) as { conditions?: Array<Record<string, unknown>> };
    copy.conditions = copy.conditions?.map(({ lastTransitionTime: _t, ...rest }) => rest);
    return copy;
  };
  return stableJson(strip(a)) === stableJson(strip(b));
}

/** Whether a Deployment has rolled out its current template and has its replicas available. */
export function deploymentAvailability(dep: Deployment | undefined): { available: boolean; reason: string; message: string } {
  if (!dep) return { available: false, reason: "DeploymentNotFound", message: "the Deployment has not been created yet" };
  const name = dep.metadata?.name;
  const st = dep.status ?? {};
  const want = dep.spec?.replicas ?? 1;
  if ((st.observedGeneration ?? 0) < (dep.metadata?.generation ?? 0)) {
    return { available: false, reason: "DeploymentProgressing", message: `Deployment ${name}: the deployment controller has not seen the latest spec yet` };
  }
  if ((st.updatedReplicas ?? 0) < want) {
    return { available: false, reason: "DeploymentProgressing", message: `Deployment ${name}: ${st.updatedReplicas ?? 0} of ${want} pods run the current template` };
  }
  const available = st.conditions?.find((c) => c.type === "Available");
  if (available?.status !== "True" || (st.availableReplicas ?? 0) < want) {
    return { available: false, reason: "DeploymentUnavailable", message: `Deployment ${name}: ${st.availableReplicas ?? 0} of ${want} pods available${available?.message ? ` (${available.message})` : ""}` };
  }
  return { available: true, reason: "DeploymentAvailable", message: `Deployment ${name} is available` };
}

/** Kubernetes names that must also be DNS labels (Services, label values) are at most 63 characters. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export function nameProblem(kind: string, name: string): string | undefined {
  if (name.length > 63 || !DNS_LABEL.test(name)) {
    return `${kind} name ${JSON.stringify(name)} must be a DNS label (at most 63 lowercase letters, digits and '-'): it names a Service and is used as a label value`;
  }
  return undefined;
}

/** The kinds the operator reads and writes, as the runtime's cache and client address them. */
export const GVK = {
  gateway: { apiVersion: API_VERSION, kind: "JupyterGateway" },
  notebook: { apiVersion: API_VERSION, kind: "JupyterNotebook" },
  kernelSpec: { apiVersion: API_VERSION, kind: "JupyterKernelSpec" },
  kernelTemplate: { apiVersion: API_VERSION, kind: "JupyterKernelTemplate" },
  deployment: { apiVersion: "apps/v1", kind: "Deployment" },
  service: { apiVersion: "v1", kind: "Service" },
  configMap: { apiVersion: "v1", kind: "ConfigMap" },
  secret: { apiVersion: "v1", kind: "Secret" },
  serviceAccount: { apiVersion: "v1", kind: "ServiceAccount" },
  role: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" },
  roleBinding: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" },
} as const;

/** The operator caches only the children it created (one selector per kind, shared by its controllers). */
export const MANAGED_SELECTOR = "app.kubernetes.io/managed-by=elastic-jupyter";

/** An API server refusal of one of our writes, as a status reason (undefined for other failures,
 *  such as a lost connection, which only the log and the retry see). */
export function applyFailure(e: unknown): { reason: string; message: string } | undefined {
  const status = (e as { statusCode?: unknown })?.statusCode;
  if (typeof status !== "number" || status < 400 || status >= 500 || status === 409 || status === 429) return undefined;
  return { reason: "ApplyFailed", message: (e as Error).message };
}

// The gateway pod's API access: a namespaced Role holding exactly what Enterprise Gateway (with our
// process proxy and launcher) and the sidecar do, bound to the gateway's ServiceAccount.
// Every rule names who needs it; gateways.test.ts performs each granted verb as that
// ServiceAccount and fails if the Role grants anything it did not exercise.
import type { PolicyRule, Role, RoleBinding } from "kubernetes-types/rbac/v1.js";
import type { ServiceAccount } from "kubernetes-types/core/v1.js";
import type { JupyterGateway } from "@elastic-jupyter/api";
import { GROUP, KIND, LABELS, PLURAL } from "../api.ts";
import { MANAGED_BY, ownedMeta } from "./owned.ts";

export const GATEWAY_RULES: readonly PolicyRule[] = [
  // launch_kernel.py creates the JupyterKernel (deleting a stale one with the same kernel id
  // first); the process proxy reads it while the kernel starts and deletes it on shutdown; the
  // sidecar's informer lists and watches them.
  { apiGroups: [GROUP], resources: [PLURAL.kernel], verbs: ["create", "delete", "get", "list", "watch"] },
  // The sidecar writes each kernel's status by server-side apply (a PATCH).
  { apiGroups: [GROUP], resources: [`${PLURAL.kernel}/status`], verbs: ["patch"] },
  // The sidecar's informers: each kernel's kernelspec and template, and its own gateway's
  // `kernels` list (which kernelspecs to sync).
  { apiGroups: [GROUP], resources: [PLURAL.kernelSpec, PLURAL.kernelTemplate, PLURAL.gateway], verbs: ["list", "watch"] },
  // The sidecar creates kernel pods, deletes lost or superseded ones, and watches them for status.
  { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "list", "watch"] },
  // The sidecar's informer over the kernelspec ConfigMaps it syncs into the kernels directory.
  { apiGroups: [""], resources: ["configmaps"], verbs: ["list", "watch"] },
];

export function gatewayServiceAccountName(gw: JupyterGateway): string {
  return gw.spec.serviceAccountName ?? gw.metadata!.name!;
}

function meta(gw: JupyterGateway, name: string) {
  return ownedMeta({ ...gw, kind: KIND.gateway }, name, { ...MANAGED_BY, [LABELS.gateway]: gw.metadata!.name!, "app.kubernetes.io/component": "gateway" });
}

/** The ServiceAccount the operator creates when spec.serviceAccountName is unset. */
export function desiredGatewayServiceAccount(gw: JupyterGateway): ServiceAccount | undefined {
  if (gw.spec.serviceAccountName) return undefined;
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(gw, gatewayServiceAccountName(gw)) };
}

export function desiredGatewayRole(gw: JupyterGateway): Role {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(gw, gw.metadata!.name!),
    rules: structuredClone(GATEWAY_RULES) as PolicyRule[],
  };
}

export function desiredGatewayRoleBinding(gw: JupyterGateway): RoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(gw, gw.metadata!.name!),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: gw.metadata!.name! },
    subjects: [{ kind: "ServiceAccount", name: gatewayServiceAccountName(gw), namespace: gw.metadata!.namespace! }],
  };
}

/** Every (apiGroup, resource, verb) the Role grants, as "group/resource:verb" strings. */
export function grantedPermissions(rules: readonly PolicyRule[]): string[] {
  const out: string[] = [];
  for (const r of rules) for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs) out.push(`${g}/${res}:${v}`);
  return out.sort();
}

/**
 * What the operator itself needs (the chart's ClusterRole). It reads our kinds and writes their
 * status; it manages the children it creates; and because Kubernetes only lets a subject grant
 * permissions it holds (no `escalate`/`bind` needed this way), it also holds GATEWAY_RULES.
 * rbac.test.ts runs the operator with exactly these rules.
 */
export const OPERATOR_RULES: readonly PolicyRule[] = [
  { apiGroups: [GROUP], resources: [PLURAL.gateway, PLURAL.notebook, PLURAL.kernelSpec, PLURAL.kernelTemplate], verbs: ["get", "list", "watch"] },
  { apiGroups: [GROUP], resources: [`${PLURAL.gateway}/status`, `${PLURAL.notebook}/status`, `${PLURAL.kernelSpec}/status`, `${PLURAL.kernelTemplate}/status`], verbs: ["get", "patch", "update"] },
  { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] },
  { apiGroups: [""], resources: ["services", "configmaps", "serviceaccounts"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] },
  { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] },
  // Token Secrets are created once and never updated; a user's own Secret is only read; patch
  // (server-side apply) keeps the copy of a gateway's token beside a notebook in another namespace.
  { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch", "create", "patch"] },
  // Leader election.
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
  ...GATEWAY_RULES,
];

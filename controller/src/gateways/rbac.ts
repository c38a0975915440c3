// The gateway pod's API access: a namespaced Role holding exactly what Enterprise Gateway (with our
// process proxy and launcher) and the sidecar do, bound to the gateway's ServiceAccount.
// Every rule names who needs it; rbac.test.ts performs each granted verb as that
// ServiceAccount and fails if the Role grants anything it did not exercise.
import type { PolicyRule, Role, RoleBinding } from "kubernetes-types/rbac/v1.js";
import type { ServiceAccount } from "kubernetes-types/core/v1.js";
import type { JupyterGateway } from "@elastic-jupyter/api";
import { GROUP, KIND, LABELS, PLURAL } from "../api.ts";
import { MANAGED_BY, ownedMeta } from "./owned.ts";
import { ADMISSION_RECORD_NAME } from "../kernels/admission-record.ts";

/** A rule and who needs it: `why` becomes the rule's comment in the chart and its row in
 *  docs/security/service-accounts.md; policyRules() drops it before a rule reaches the API. */
export interface ExplainedRule extends PolicyRule {
  why: string;
}

/** The rules as the API takes them (without `why`). */
export function policyRules(rules: readonly ExplainedRule[]): PolicyRule[] {
  return rules.map(({ why: _why, ...rule }) => structuredClone(rule));
}

export const GATEWAY_RULES: readonly ExplainedRule[] = [
  {
    apiGroups: [GROUP], resources: [PLURAL.kernel], verbs: ["create", "delete", "get", "list", "watch"],
    why: "launch_kernel.py creates the JupyterKernel (deleting a stale one with the same kernel id first); the process proxy reads it while the kernel starts and deletes it on shutdown; the sidecar's informer lists and watches them.",
  },
  { apiGroups: [GROUP], resources: [`${PLURAL.kernel}/status`], verbs: ["patch"], why: "The sidecar writes each kernel's status by server-side apply (a PATCH)." },
  {
    apiGroups: [GROUP], resources: [PLURAL.kernelSpec, PLURAL.kernelTemplate, PLURAL.gateway], verbs: ["list", "watch"],
    why: "The sidecar's informers: each kernel's kernelspec and template, and its own gateway's `kernels` list (which kernelspecs to sync).",
  },
  { apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "list", "watch"], why: "The sidecar creates kernel pods, deletes lost or superseded ones, and watches them for status." },
  { apiGroups: [""], resources: ["configmaps"], verbs: ["list", "watch"], why: "The sidecar's informer over the kernelspec ConfigMaps it syncs into the kernels directory." },
  { apiGroups: ["resource.k8s.io"], resources: ["resourceclaimtemplates"], verbs: ["list", "watch"], why: "The sidecar counts the DRA GPUs of kernel pods from the ResourceClaimTemplates they name (when the API server serves resource.k8s.io/v1)." },
  { apiGroups: [""], resources: ["events"], verbs: ["create"], why: "The sidecar records Events on kernels: queued for GPUs (with the queue position), admitted, refused by a GPU limit, timed out." },
  {
    apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"],
    why: "The sidecar creates the namespace's GPU admission record, a Lease (kernels/admission-record.ts), when there is none (a create cannot be limited to a name).",
  },
  {
    apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [ADMISSION_RECORD_NAME], verbs: ["get", "update"],
    why: "The sidecar reads the GPU admission record before admitting a GPU kernel under a per-user or per-namespace limit, and writes the admission by a PUT guarded by its resourceVersion, so no two admitters (gateways, the operator's direct kernels) both take the last GPU.",
  },
];

/** The one rule limited to the gateway's own name: the sidecar writes its gateway's `Culling`
 *  condition (server-side apply under its own field manager) and may touch no other gateway. */
export function ownGatewayStatusRule(gatewayName: string): ExplainedRule {
  return {
    apiGroups: [GROUP], resources: [`${PLURAL.gateway}/status`], resourceNames: [gatewayName], verbs: ["patch"],
    why: "The sidecar writes its own gateway's `Culling` condition (whether it can read the gateway's kernels), by server-side apply; no other gateway's.",
  };
}

/** Everything the gateway's Role grants. */
export function gatewayRules(gatewayName: string): ExplainedRule[] {
  return [...GATEWAY_RULES, ownGatewayStatusRule(gatewayName)];
}

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
    rules: policyRules(gatewayRules(gw.metadata!.name!)),
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
 * What the operator itself needs: the chart's ClusterRole (generated from this list into
 * charts/elastic-jupyter-operator/files/operator-rules.yaml), bound cluster-wide or in the one
 * namespace it watches. It reads our kinds from its informers and writes their status; it manages
 * the children it creates by server-side apply (PATCH, and create when the object is new); garbage
 * collection deletes them through their owner references. Because Kubernetes only lets a subject
 * grant permissions it holds (no `escalate`/`bind` needed this way), it also holds GATEWAY_RULES.
 * Leader election is not here: the chart's namespaced Role grants its one Lease (leader.ts).
 * operator-rbac.test.ts runs the operator with the chart's ServiceAccount.
 */
export const OPERATOR_RULES: readonly ExplainedRule[] = [
  {
    apiGroups: [GROUP], resources: [PLURAL.gateway, PLURAL.notebook, PLURAL.kernelSpec, PLURAL.kernelTemplate], verbs: ["list", "watch"],
    why: "The operator's informers over the four kinds it reconciles.",
  },
  {
    apiGroups: [GROUP], resources: [`${PLURAL.gateway}/status`, `${PLURAL.notebook}/status`, `${PLURAL.kernelSpec}/status`, `${PLURAL.kernelTemplate}/status`], verbs: ["patch"],
    why: "Their status, written by server-side apply.",
  },
  {
    apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "list", "patch", "watch"],
    why: "Gateway and notebook Deployments: server-side applied and watched for their status.",
  },
  {
    apiGroups: [""], resources: ["services", "configmaps"], verbs: ["create", "list", "patch", "watch"],
    why: "Gateway and notebook Services; kernelspec, gateway-files, kernel-bootstrap and notebook server ConfigMaps: server-side applied and watched.",
  },
  {
    apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: ["create", "delete", "list", "patch", "watch"],
    why: "Each gateway's and direct-mode notebook's Role and RoleBinding: server-side applied and watched; a notebook's deleted when it returns to gateway mode.",
  },
  {
    apiGroups: [""], resources: ["serviceaccounts"], verbs: ["create", "delete", "list", "patch", "watch"],
    why: "Each gateway's own ServiceAccount and each direct-mode notebook's: server-side applied and watched; deleted when spec.serviceAccountName replaces a gateway's, or a notebook returns to gateway mode.",
  },
  {
    apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete", "get", "list", "patch", "watch"],
    why: "Token Secrets: generated ones created once (never rewritten) and watched; a user's named Secret read by name; the copy of a gateway's token beside a notebook in another namespace applied, and deleted when the gateway stops allowing that namespace.",
  },
  // Also what the operator itself does for direct-mode notebooks' kernels (kernels/direct-controller.ts),
  // and a superset of what it grants their ServiceAccounts (notebooks/direct.ts NOTEBOOK_DIRECT_RULES).
  ...GATEWAY_RULES.map((r) => ({ ...r, why: `Held to grant it on to each gateway's Role (Kubernetes lets a subject grant only what it holds); the operator does the same for direct-mode notebooks' kernels. ${r.why}` })),
];

/**
 * Leader election (runtime/leader.ts) on its one Lease, as the operator chart's namespaced Role
 * grants it in the release namespace: read the Lease, create it when missing (a create cannot be
 * limited to a name), take or renew it by a PUT guarded by its resourceVersion.
 */
export function leaderElectionRules(leaseName: string): ExplainedRule[] {
  return [
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"], why: "Leader election: creates its Lease when there is none (a create cannot be limited to a name)." },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: [leaseName], verbs: ["get", "update"], why: "Leader election: reads its Lease and takes or renews it by a PUT guarded by the resourceVersion." },
  ];
}

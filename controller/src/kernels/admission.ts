// GPU admission: whether a kernel that asks for GPUs may have its pod now, must wait in its
// namespace's queue, or fails, under the gateway's and the kernelspec's gpuPolicy. Pure: the
// reconciler gathers what holds and what waits from its cache and applies the decision.
//
// A kernel is admitted when its pod is created; from then on its pod's GPUs count against the
// limits until the pod ends. Waiting kernels are considered in a fair order: the user holding the
// fewest GPUs first, then the user served longest ago, then the oldest kernel. A kernel held back
// by its own user's limit does not hold up others; one held back by a limit of its whole scope,
// or by a full cluster, holds up every later kernel wanting the same resource in that scope, so a
// big request is never starved by a stream of small ones.
import type { GpuPolicy, GpuWhenFull } from "@elastic-jupyter/api";
import { addUsage, type GpuUsage } from "./gpus.ts";

/** Enterprise Gateway's launch timeout when neither the gateway nor the client sets one. */
export const EG_DEFAULT_LAUNCH_TIMEOUT_S = 30;
/** How much sooner than the launch timeout a queued kernel gives up, so its own reason reaches the user. */
export const QUEUE_TIMEOUT_MARGIN_S = 5;

/** A gpuPolicy and where it came from (for messages) and what it counts over. */
export interface PolicyScope {
  /** Which kernels it counts: all of the namespace's, or one kernelspec's. */
  scope: { kind: "namespace" } | { kind: "kernelspec"; name: string };
  /** "JupyterGateway gw" or "JupyterKernelSpec python-gpu", as messages name it. */
  source: string;
  policy: GpuPolicy;
}

/** A kernel holding GPUs (its pod exists and has not ended). */
export interface GpuHolder {
  key: string;
  user: string;
  kernelSpec?: string;
  usage: GpuUsage;
}

/** A kernel that asks for GPUs and has no pod yet. */
export interface GpuRequest extends GpuHolder {
  /** When it was created (ms): the launch started then, and the queue orders by it. */
  createdMs: number;
  policies: PolicyScope[];
  whenFull: GpuWhenFull;
  queueTimeoutS: number;
}

export interface AdmissionContext {
  holders: readonly GpuHolder[];
  /** Every kernel waiting in the namespace, the one being decided included. */
  waiting: readonly GpuRequest[];
  /** Resources for which one of the namespace's kernel pods waits for a node (the cluster is full). */
  clusterFull: ReadonlyMap<string, string>;
  /** When each user last had a kernel admitted (ms); fairness between users with equal holdings. */
  lastAdmittedMs: ReadonlyMap<string, number>;
  namespace: string;
  now: Date;
}

export type Admission =
  | { kind: "admit"; waitedS: number }
  | { kind: "fail"; reason: "GPULimitExceeded" | "GPUQuotaExceeded" | "QueueTimeout"; message: string }
  | { kind: "queue"; position: number; length: number; message: string; retryAfterMs: number };

/** A limit that keeps a kernel out, in words. */
interface Blocked {
  /** user: only this kernel's user is held; scope: everyone in the scope wanting the resource. */
  level: "kernel" | "user" | "scope" | "cluster";
  scopeId: string;
  resource: string;
  message: string;
}

/**
 * The policies that apply to a kernel: its namespace's (the gateway's; for a direct kernel every
 * gateway's of the namespace, so switching a notebook to direct mode never escapes a namespace
 * limit) and its kernelspec's. whenFull and queueTimeout: the kernelspec's, else the first
 * gateway's; queueTimeout is clamped below the launch's timeout (`launchTimeoutS`: the kernel's
 * own, else the gateway's, else Enterprise Gateway's default).
 */
export function effectivePolicy(gateways: readonly { name: string; policy?: GpuPolicy; launchTimeoutS?: number }[], kernelSpec: { name: string; policy?: GpuPolicy } | undefined, launchTimeoutS?: number): { policies: PolicyScope[]; whenFull: GpuWhenFull; queueTimeoutS: number } | undefined {
  const policies: PolicyScope[] = [];
  for (const gw of gateways) if (gw.policy) policies.push({ scope: { kind: "namespace" }, source: `JupyterGateway ${gw.name}`, policy: gw.policy });
  if (kernelSpec?.policy) policies.push({ scope: { kind: "kernelspec", name: kernelSpec.name }, source: `JupyterKernelSpec ${kernelSpec.name}`, policy: kernelSpec.policy });
  if (policies.length === 0) return undefined;
  const gateway = gateways.find((g) => g.policy);
  const ceiling = Math.max(1, (launchTimeoutS ?? gateways[0]?.launchTimeoutS ?? EG_DEFAULT_LAUNCH_TIMEOUT_S) - QUEUE_TIMEOUT_MARGIN_S);
  const asked = kernelSpec?.policy?.queueTimeout ?? gateway?.policy?.queueTimeout ?? ceiling;
  return {
    policies,
    whenFull: kernelSpec?.policy?.whenFull ?? gateway?.policy?.whenFull ?? "Queue",
    queueTimeoutS: Math.min(asked, ceiling),
  };
}

const amount = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, ""));

function scopeId(p: PolicyScope): string {
  return p.scope.kind === "namespace" ? "namespace" : `kernelspec/${p.scope.name}`;
}

function inScope(p: PolicyScope, h: GpuHolder): boolean {
  return p.scope.kind === "namespace" || h.kernelSpec === p.scope.name;
}

function sum(holders: Iterable<GpuHolder>, pick: (h: GpuHolder) => boolean): GpuUsage {
  let u: GpuUsage = {};
  for (const h of holders) if (pick(h)) u = addUsage(u, h.usage);
  return u;
}

/** The first limit this kernel breaks given what is held, or undefined if it fits. */
function firstLimit(r: GpuRequest, holders: readonly GpuHolder[], namespace: string): Blocked | undefined {
  for (const p of r.policies) {
    const id = scopeId(p);
    const who = p.scope.kind === "namespace" ? `namespace ${namespace}` : `kernelspec ${p.scope.name}`;
    for (const [res, max] of Object.entries(p.policy.maxPerKernel ?? {})) {
      const asked = r.usage[res] ?? 0;
      if (asked > max) return { level: "kernel", scopeId: id, resource: res, message: `the kernel asks for ${amount(asked)} ${res}, more than the ${amount(max)} ${p.source} allows per kernel (gpuPolicy.maxPerKernel)` };
    }
    const mine = sum(holders, (h) => inScope(p, h) && h.user === r.user);
    for (const [res, max] of Object.entries(p.policy.maxPerUser ?? {})) {
      const asked = r.usage[res] ?? 0;
      if (asked === 0) continue;
      if (asked > max) return { level: "kernel", scopeId: id, resource: res, message: `the kernel asks for ${amount(asked)} ${res}, more than the ${amount(max)} ${p.source} allows per user (gpuPolicy.maxPerUser)` };
      const held = mine[res] ?? 0;
      if (held + asked > max) return { level: "user", scopeId: id, resource: res, message: `user ${r.user || "(unnamed)"} holds ${amount(held)} of the ${amount(max)} ${res} ${p.source} allows per user in ${who} (gpuPolicy.maxPerUser)` };
    }
    const all = sum(holders, (h) => inScope(p, h));
    for (const [res, max] of Object.entries(p.policy.maxPerNamespace ?? {})) {
      const asked = r.usage[res] ?? 0;
      if (asked === 0) continue;
      if (asked > max) return { level: "kernel", scopeId: id, resource: res, message: `the kernel asks for ${amount(asked)} ${res}, more than the ${amount(max)} ${p.source} allows in all (gpuPolicy.maxPerNamespace)` };
      const held = all[res] ?? 0;
      if (held + asked > max) return { level: "scope", scopeId: id, resource: res, message: `${who} holds ${amount(held)} of the ${amount(max)} ${res} ${p.source} allows (gpuPolicy.maxPerNamespace)` };
    }
  }
  return undefined;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th";
  return `${n}${s}`;
}

export function decideAdmission(candidate: GpuRequest, ctx: AdmissionContext): Admission {
  const nowMs = ctx.now.getTime();
  const waitedS = Math.max(0, (nowMs - candidate.createdMs) / 1000);
  // A kernel no amount of waiting would let in fails at once, whatever whenFull says.
  const alone = firstLimit(candidate, [], ctx.namespace);
  if (alone) return { kind: "fail", reason: "GPULimitExceeded", message: alone.message };

  if (candidate.whenFull === "Fail") {
    const limit = firstLimit(candidate, ctx.holders, ctx.namespace);
    if (limit) return { kind: "fail", reason: "GPUQuotaExceeded", message: limit.message };
    return { kind: "admit", waitedS }; // a full cluster: the pod waits for a node and the launch fails soon (Unschedulable)
  }

  const { admitted, held } = simulateQueue(ctx);
  if (admitted.has(candidate.key)) return { kind: "admit", waitedS };
  const queued = [...held.keys()];
  const position = queued.indexOf(candidate.key) + 1 + ctx.clusterFull.size;
  const length = queued.length + ctx.clusterFull.size;
  const why = held.get(candidate.key) ?? "kernels ahead of it take the GPUs that are free";
  const place = `${ordinal(position)} of ${length} in namespace ${ctx.namespace}'s GPU queue`;
  const leftMs = candidate.createdMs + candidate.queueTimeoutS * 1000 - nowMs;
  if (leftMs <= 0) {
    return { kind: "fail", reason: "QueueTimeout", message: `waited ${Math.round(waitedS)} s for GPUs (gpuPolicy.queueTimeout ${candidate.queueTimeoutS} s) and was still ${place}: ${why}` };
  }
  return { kind: "queue", position, length, retryAfterMs: leftMs, message: `waiting for GPUs, ${place}: ${why}; gives up in ${Math.ceil(leftMs / 1000)} s` };
}

/** Admits waiting kernels in fair order against the limits: those let in now, and why each other waits (in queue order). */
export function simulateQueue(ctx: AdmissionContext): { admitted: Set<string>; held: Map<string, string> } {
  const holders = [...ctx.holders];
  const lastAdmitted = new Map(ctx.lastAdmittedMs);
  const nowMs = ctx.now.getTime();
  const blockedScopes = new Map<string, string>(); // "scopeId resource" -> why
  for (const [res, why] of ctx.clusterFull) blockedScopes.set(`namespace ${res}`, `no node has a free ${res} (${why})`);
  const admitted = new Set<string>();
  const held = new Map<string, string>();
  const remaining = ctx.waiting.filter((w) => w.whenFull === "Queue");
  const heldBy = (user: string) => { let n = 0; for (const h of holders) if (h.user === user) for (const v of Object.values(h.usage)) n += v; return n; };
  while (remaining.length > 0) {
    // Fair order, recomputed after each admission: fewest GPUs held, served longest ago, oldest.
    let best = 0;
    const rank = (w: GpuRequest) => [heldBy(w.user), lastAdmitted.get(w.user) ?? -Infinity, w.createdMs] as const;
    for (let i = 1; i < remaining.length; i++) {
      const a = rank(remaining[i]!), b = rank(remaining[best]!);
      if (a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && (a[2] < b[2] || (a[2] === b[2] && remaining[i]!.key < remaining[best]!.key)))))) best = i;
    }
    const w = remaining.splice(best, 1)[0]!;
    const waitsBehind = scopesOf(w).map((s) => blockedScopes.get(s)).find((why) => why !== undefined);
    if (waitsBehind !== undefined) { held.set(w.key, waitsBehind); continue; }
    const limit = firstLimit(w, holders, ctx.namespace);
    if (!limit) {
      admitted.add(w.key);
      holders.push(w);
      lastAdmitted.set(w.user, nowMs);
      continue;
    }
    held.set(w.key, limit.message);
    if (limit.level === "scope") blockedScopes.set(`${limit.scopeId} ${limit.resource}`, `${limit.message}; an earlier kernel waits for it`);
  }
  return { admitted, held };
}

/** The (scope, resource) pairs a request competes in. */
function scopesOf(w: GpuRequest): string[] {
  const out: string[] = [];
  for (const res of Object.keys(w.usage)) {
    out.push(`namespace ${res}`);
    for (const p of w.policies) if (p.scope.kind === "kernelspec") out.push(`${scopeId(p)} ${res}`);
  }
  return out;
}

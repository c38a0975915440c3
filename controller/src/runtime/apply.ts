// Writes: server-side apply under one field manager, status through the status subresource,
// owner references for garbage collection, and standard status conditions.
import { isNotFound, type KubeClient, type KubeObject, type OwnerReference } from "./client.ts";

/** The field manager every write of ours uses, so managedFields show what the controller owns. */
export const FIELD_MANAGER = "elastic-jupyter";

/** Applies the object as our complete intent for the fields it lists. `force` (default true) takes
 *  over fields another manager set: we own the objects we create, and a human edit to a field we
 *  manage is drift to undo. Idempotent: an unchanged intent does not change the object. */
export function applyObject<T extends KubeObject>(client: KubeClient, obj: T, opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<T> {
  return client.apply(stripForApply(obj), { fieldManager: FIELD_MANAGER, force: opts.force ?? true, signal: opts.signal });
}

export interface StatusPatch<S> {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  status: S;
}

/** Applies `status` through the /status subresource (a write to the main resource ignores status
 *  when the subresource is enabled, and a status write cannot touch spec). Undefined when the
 *  object was deleted meanwhile: there is no status left to write, and that is not a failure.
 *  Another `fieldManager` owns only the fields it applies (e.g. one condition of a list keyed by type). */
export async function applyStatus<T extends KubeObject, S>(client: KubeClient, owner: T, status: S, opts: { signal?: AbortSignal; fieldManager?: string } = {}): Promise<T | undefined> {
  const meta = owner.metadata ?? {};
  if (!owner.apiVersion || !owner.kind || !meta.name) throw new Error("applyStatus: the object needs apiVersion, kind and metadata.name");
  const body: StatusPatch<S> = { apiVersion: owner.apiVersion, kind: owner.kind, metadata: { name: meta.name, namespace: meta.namespace }, status };
  try {
    return await client.apply(body as unknown as T, { fieldManager: opts.fieldManager ?? FIELD_MANAGER, force: true, subresource: "status", signal: opts.signal });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Server-managed metadata must not be sent in an apply body (resourceVersion would turn the
 *  apply into a conditional update; managedFields would be rejected). */
function stripForApply<T extends KubeObject>(obj: T): T {
  if (!obj.metadata) return obj;
  const metadata: Record<string, unknown> = { ...obj.metadata };
  for (const k of ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"]) delete metadata[k];
  return { ...obj, metadata };
}

/** The owner reference that makes `owner` the controller of a child: garbage collection deletes
 *  the child with its owner, and foreground deletion of the owner waits for the child. */
export function controllerReference(owner: KubeObject): OwnerReference {
  const m = owner.metadata;
  if (!owner.apiVersion || !owner.kind || !m?.name || !m.uid) {
    throw new Error(`controllerReference: owner needs apiVersion, kind, metadata.name and metadata.uid (got ${owner.kind ?? "?"}/${m?.name ?? "?"} uid=${m?.uid ?? "none"})`);
  }
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true };
}

/** Returns a copy of child owned by owner (replacing any other controller reference). */
export function ownedBy<T extends KubeObject>(child: T, owner: KubeObject): T {
  const ref = controllerReference(owner);
  const others = (child.metadata?.ownerReferences ?? []).filter((r) => !r.controller && r.uid !== ref.uid);
  return { ...child, metadata: { ...child.metadata, ownerReferences: [...others, ref] } };
}

/** The controller owner reference of an object, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller);
}

// ---- conditions (metav1.Condition) ----

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, for programs: "TemplateNotFound", "Unschedulable". */
  reason: string;
  /** For humans. */
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface NewCondition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

const reasonPattern = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** Returns conditions with `next` set: lastTransitionTime changes only when the status changes,
 *  reason/message/observedGeneration always follow the latest call. Order is preserved; a new type
 *  is appended. Pure: `now` is passed in. */
export function setCondition(conditions: readonly Condition[] | undefined, next: NewCondition, observedGeneration: number | undefined, now: Date = new Date()): Condition[] {
  if (!next.type) throw new Error("setCondition: type is required");
  if (!["True", "False", "Unknown"].includes(next.status)) throw new Error(`setCondition ${next.type}: status must be True, False or Unknown, got ${JSON.stringify(next.status)}`);
  if (!reasonPattern.test(next.reason)) throw new Error(`setCondition ${next.type}: reason must be a CamelCase word (${reasonPattern}), got ${JSON.stringify(next.reason)}`);
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const cond: Condition = {
    type: next.type,
    status: next.status,
    reason: next.reason,
    message: next.message ?? "",
    // Seconds precision, like the API server's metav1.Time.
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
  };
  if (i >= 0) list[i] = cond; else list.push(cond);
  return list;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

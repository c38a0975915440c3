// A namespace's GPU admissions, shared by every process that admits kernels there: each gateway's
// sidecar (gateway kernels) and the operator (direct kernels). They count each other's kernels
// from the pods they see, but a pod admitted a few milliseconds ago is not in their caches yet,
// so two admissions at the same instant could each take the last GPU of a shared limit.
//
// So an admission under a shared limit (maxPerUser, maxPerNamespace) is first written into one
// Lease per namespace, by a PUT guarded by its resourceVersion: of two admitters deciding from the
// same record, one write wins and the other gets a conflict and decides again, now counting the
// winner. A recorded admission counts for an admitter until it has seen the kernel's pod (which
// then counts, while it lives), for at most RECORD_TTL_MS (a pod refused, or gone unseen).
// Pure but for readRecord/writeRecord.
import type { Lease } from "kubernetes-types/coordination/v1.js";
import { GROUP } from "../api.ts";
import { MANAGED_BY } from "../gateways/owned.ts";
import { KubeApiError, isConflict, type GroupVersionKind, type KubeClient, type KubeObject } from "../runtime/client.ts";
import type { GpuHolder } from "./admission.ts";
import type { GpuUsage } from "./gpus.ts";

export const ADMISSION_RECORD_NAME = "elastic-jupyter-gpu-admissions";
export const ADMISSION_RECORD_ANNOTATION = `${GROUP}/gpu-admissions`;
/** Longer than any cache lag worth waiting for; bounds how long a pod that never came counts. */
export const RECORD_TTL_MS = 30_000;
const LEASE_GVK: GroupVersionKind = { apiVersion: "coordination.k8s.io/v1", kind: "Lease" };

/** One admission: the kernel (its pod has the kernel's name) and what it holds. */
export interface RecordedAdmission {
  name: string;
  uid: string;
  user: string;
  kernelSpec?: string;
  usage: GpuUsage;
  /** When it was admitted (ms). */
  at: number;
}

export interface AdmissionRecord {
  namespace: string;
  /** Undefined: there is no Lease yet (the write creates it). */
  resourceVersion?: string;
  admissions: RecordedAdmission[];
}

/** The record's admissions, from the Lease's annotation; anything malformed is dropped (it only
 *  ever holds what admitters wrote, and a lost entry costs at most one kernel's overshoot). */
export function parseAdmissions(annotation: string | undefined): RecordedAdmission[] {
  if (!annotation) return [];
  let parsed: unknown;
  try { parsed = JSON.parse(annotation); } catch { return []; }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter((a): a is RecordedAdmission =>
    typeof a === "object" && a !== null && typeof a.name === "string" && typeof a.uid === "string" && typeof a.user === "string"
    && typeof a.at === "number" && typeof a.usage === "object" && a.usage !== null
    && Object.values(a.usage as object).every((n) => typeof n === "number"));
}

/** The recorded admissions that hold GPUs as far as the admitter of kernel `self` knows: recent,
 *  not its own, and whose pod it has not seen yet (once it has, the pod counts, or has ended). */
export function recordedHolders(record: AdmissionRecord, self: string, podSeen: (a: RecordedAdmission) => boolean, nowMs: number): (GpuHolder & { expiresAtMs: number })[] {
  return record.admissions
    .filter((a) => nowMs - a.at < RECORD_TTL_MS && a.name !== self && !podSeen(a))
    .map((a) => ({ key: `${record.namespace}/${a.name}`, user: a.user, ...(a.kernelSpec ? { kernelSpec: a.kernelSpec } : {}), usage: a.usage, expiresAtMs: a.at + RECORD_TTL_MS }));
}

/** The record's admissions with one more (or one fewer: `admission` undefined), without expired
 *  ones or an earlier one of the same kernel. */
export function withAdmission(record: AdmissionRecord, name: string, admission: RecordedAdmission | undefined, nowMs: number): RecordedAdmission[] {
  return [...record.admissions.filter((a) => nowMs - a.at < RECORD_TTL_MS && a.name !== name), ...(admission ? [admission] : [])];
}

export async function readRecord(client: KubeClient, namespace: string): Promise<AdmissionRecord> {
  const lease = await client.get<Lease & KubeObject>(LEASE_GVK, namespace, ADMISSION_RECORD_NAME);
  return {
    namespace,
    ...(lease?.metadata?.resourceVersion ? { resourceVersion: lease.metadata.resourceVersion } : {}),
    admissions: parseAdmissions(lease?.metadata?.annotations?.[ADMISSION_RECORD_ANNOTATION]),
  };
}

/** Writes the admissions over the record as read; false when another admitter wrote it since. */
export async function writeRecord(client: KubeClient, record: AdmissionRecord, admissions: RecordedAdmission[], holder: string): Promise<boolean> {
  const lease = {
    apiVersion: LEASE_GVK.apiVersion, kind: LEASE_GVK.kind,
    metadata: {
      name: ADMISSION_RECORD_NAME, namespace: record.namespace,
      ...(record.resourceVersion ? { resourceVersion: record.resourceVersion } : {}),
      labels: { ...MANAGED_BY },
      annotations: { [ADMISSION_RECORD_ANNOTATION]: JSON.stringify(admissions) },
    },
    spec: { holderIdentity: holder },
  } as Lease & KubeObject;
  try {
    await (record.resourceVersion ? client.replace(lease) : client.create(lease));
    return true;
  } catch (e) {
    if (isConflict(e)) return false; // written (or created) by another admitter since we read it
    throw e instanceof KubeApiError ? e : new Error(`writing the GPU admission record: ${String(e)}`);
  }
}

// One copy of each string that many cached objects share: apiVersion, kind, label values, images,
// condition reasons and messages, timestamps of the same second. V8's JSON.parse shares string
// values of up to 10 characters but gives every longer one its own copy: with 2,000 kernels and
// their pods cached, ~3,700 copies of "kubeflow.tkestack.io/v1alpha1", of "the kernel pod is
// running and ready", of each creation second, and so on (a heap snapshot, docs/performance.md).

/** Fields whose values are (nearly) unique to one object: pooling them would only churn the pool. */
const UNIQUE_FIELDS = new Set(["uid", "name", "resourceVersion", "generateName", "kernelId", "podIP", "hostIP", "ip", "containerID"]);
/** JSON.parse already shares shorter values; longer ones are rarely repeated (scripts, certificates). */
const MIN_LENGTH = 11, MAX_LENGTH = 256;

/** A bounded pool in two generations: a string stays pooled while it is seen at least once per
 *  generation, and unique strings that slip in fall out after two. */
export class StringPool {
  private current = new Map<string, string>();
  private previous = new Map<string, string>();
  private readonly generationSize: number;
  constructor(generationSize = 4096) { this.generationSize = generationSize; }

  intern(s: string): string {
    const hit = this.current.get(s);
    if (hit !== undefined) return hit;
    const pooled = this.previous.get(s) ?? s;
    if (this.current.size >= this.generationSize) { this.previous = this.current; this.current = new Map(); }
    this.current.set(pooled, pooled);
    return pooled;
  }

  has(s: string): boolean { return this.current.has(s) || this.previous.has(s); }
  get size(): number { return this.current.size + this.previous.size; }
}

/** Replaces, in place, the object's shareable string values by their pooled copies; returns it.
 *  Arrays too: their keys are indices, never one of UNIQUE_FIELDS. */
export function internStrings<T>(value: T, pool: StringPool): T {
  const o = value as Record<string, unknown>;
  for (const k in o) {
    const v = o[k];
    if (typeof v === "string") { if (v.length >= MIN_LENGTH && v.length <= MAX_LENGTH && !UNIQUE_FIELDS.has(k)) o[k] = pool.intern(v); }
    else if (v !== null && typeof v === "object") internStrings(v, pool);
  }
  return value;
}

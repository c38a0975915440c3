// The in-memory copy of one kind's objects that an informer keeps: by key (namespace/name),
// by namespace, and by owner UID (so "the pods this kernel owns" is a lookup, not a scan).
import { objectKey, type KubeObject } from "./client.ts";

export type LabelSelector = Record<string, string>;

/** True when every key=value of the selector is among the object's labels. */
export function matchesLabels(obj: KubeObject, selector: LabelSelector | undefined): boolean {
  if (!selector) return true;
  const labels = obj.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export class ObjectStore<T extends KubeObject = KubeObject> {
  private readonly byKey = new Map<string, T>();
  private readonly byOwner = new Map<string, Set<string>>();

  get size(): number { return this.byKey.size; }

  get(key: string): T | undefined { return this.byKey.get(key); }

  keys(): string[] { return [...this.byKey.keys()]; }

  /** Objects in a namespace ("" or undefined: all), optionally filtered by labels. */
  list(namespace?: string, labels?: LabelSelector): T[] {
    const out: T[] = [];
    for (const obj of this.byKey.values()) {
      if (namespace && obj.metadata?.namespace !== namespace) continue;
      if (matchesLabels(obj, labels)) out.push(obj);
    }
    return out;
  }

  /** Objects with an ownerReference to this UID (controller or not). */
  ownedBy(ownerUid: string): T[] {
    const keys = this.byOwner.get(ownerUid);
    return keys ? [...keys].map((k) => this.byKey.get(k)!).filter(Boolean) : [];
  }

  /** Stores obj; returns what it replaced. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.byKey.get(key);
    if (old) this.unindex(key, old);
    this.byKey.set(key, obj);
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      let set = this.byOwner.get(ref.uid);
      if (!set) this.byOwner.set(ref.uid, (set = new Set()));
      set.add(key);
    }
    return old;
  }

  /** Removes the object under key; returns it. */
  remove(key: string): T | undefined {
    const old = this.byKey.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.byKey.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      const set = this.byOwner.get(ref.uid);
      set?.delete(key);
      if (set?.size === 0) this.byOwner.delete(ref.uid);
    }
  }
}

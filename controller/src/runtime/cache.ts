// The shared cache: one informer per kind, read by every reconciler instead of issuing GETs.
// Reads are synchronous lookups in memory; they may lag the API server by a watch event, which
// is fine for level-triggered reconcilers (the event that updates the cache also requeues them).
import type { GroupVersionKind, KubeClient, KubeObject } from "./client.ts";
import { Informer, type InformerOptions, type RestartReason } from "./informer.ts";
import { silentLogger, type Logger } from "./log.ts";
import type { LabelSelector } from "./store.ts";

export interface CacheOptions {
  /** Namespace every namespaced informer is limited to ("" or undefined: all namespaces). */
  namespace?: string;
  log?: Logger;
  /** Extra informer settings (watch timeout, re-list period, backoff) for every kind. */
  informer?: Omit<InformerOptions, "gvk" | "namespace" | "log" | "onRestart">;
  onRestart?: (gvk: GroupVersionKind, reason: RestartReason) => void;
}

const gvkKey = (gvk: GroupVersionKind): string => `${gvk.apiVersion}/${gvk.kind}`;

export class Cache {
  readonly client: KubeClient;
  readonly namespace: string;
  private readonly opts: CacheOptions;
  private readonly informers = new Map<string, Informer>();
  private started = false;

  constructor(client: KubeClient, opts: CacheOptions = {}) {
    this.client = client;
    this.opts = opts;
    this.namespace = opts.namespace ?? "";
  }

  /** The informer for a kind, created on first use (and started if the cache runs). A label
   *  selector narrows what is cached (e.g. only pods labelled component=kernel), a transform what
   *  is kept of each object. */
  informerFor<T extends KubeObject = KubeObject>(gvk: GroupVersionKind, opts: { labelSelector?: string; transform?: (obj: KubeObject) => KubeObject } = {}): Informer<T> {
    const key = gvkKey(gvk);
    let inf = this.informers.get(key);
    if (inf) {
      const existing = inf.labelSelector;
      if (existing !== opts.labelSelector) throw new Error(`${gvk.kind} is already cached with label selector ${JSON.stringify(existing)}; one selector per kind`);
      if (opts.transform && inf.transformFn !== opts.transform) throw new Error(`${gvk.kind} is already cached with another transform; one transform per kind`);
      return inf as unknown as Informer<T>;
    }
    inf = new Informer(this.client, {
      ...this.opts.informer,
      gvk,
      namespace: this.namespace,
      labelSelector: opts.labelSelector,
      ...(opts.transform ? { transform: opts.transform } : {}),
      log: this.opts.log ?? silentLogger,
      onRestart: (reason) => this.opts.onRestart?.(gvk, reason),
    });
    this.informers.set(key, inf);
    if (this.started) inf.start();
    return inf as unknown as Informer<T>;
  }

  private informer<T extends KubeObject>(gvk: GroupVersionKind): Informer<T> {
    const inf = this.informers.get(gvkKey(gvk));
    if (!inf) throw new Error(`the cache does not watch ${gvk.kind} (${gvk.apiVersion}); register it with informerFor() first`);
    return inf as unknown as Informer<T>;
  }

  get<T extends KubeObject>(gvk: GroupVersionKind, namespace: string | undefined, name: string): T | undefined {
    return this.informer<T>(gvk).store.get(namespace ? `${namespace}/${name}` : name);
  }

  list<T extends KubeObject>(gvk: GroupVersionKind, opts: { namespace?: string; labels?: LabelSelector } = {}): T[] {
    return this.informer<T>(gvk).store.list(opts.namespace, opts.labels);
  }

  /** Objects of this kind with an ownerReference to ownerUid. */
  ownedBy<T extends KubeObject>(gvk: GroupVersionKind, ownerUid: string): T[] {
    return this.informer<T>(gvk).store.ownedBy(ownerUid);
  }

  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }

  /** True when every informer has listed at least once: the readiness gate. */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced);
  }

  async waitForSync(timeoutMs = 60_000): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(timeoutMs)));
  }

  /** Watch restarts after failures, summed over kinds. */
  restarts(): number {
    let n = 0;
    for (const inf of this.informers.values()) n += inf.restarts.error + inf.restarts.stall + inf.restarts.gone;
    return n;
  }
}

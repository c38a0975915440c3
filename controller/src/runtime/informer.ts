// An informer: keeps an ObjectStore of one kind in step with the API server by list + watch,
// and tells handlers about adds, updates and deletes.
//
// Robustness beyond client-node's ListWatch (which stops for good on most errors):
// - any watch or list failure is retried with exponential backoff (counted as a restart);
// - 410 Gone (our resourceVersion fell out of the server's window) or any ERROR event re-lists at
//   once; a re-list diffs against the store, so objects created, changed or deleted while we were
//   not watching still produce add/update/delete events;
// - a watchdog aborts a watch that outlives its server-side timeout (silent stall: no events, no
//   error, no close) or, when configured, that is idle for too long;
// - a periodic re-list (resync) repairs anything a watch may have missed.
import { setTimeout as sleep } from "node:timers/promises";
import { KubeApiError, objectKey, type GroupVersionKind, type KubeClient, type KubeObject, type WatchEvent } from "./client.ts";
import { silentLogger, type Logger } from "./log.ts";
import { ObjectStore } from "./store.ts";
import { internStrings, StringPool } from "./intern.ts";

export type InformerEventType = "add" | "update" | "delete";
export interface InformerEvent<T extends KubeObject = KubeObject> {
  type: InformerEventType;
  object: T;
  /** The previous version, for updates; for deletes, the version that was stored. */
  old?: T;
}
export type InformerHandler<T extends KubeObject = KubeObject> = (event: InformerEvent<T>) => void;

/** Why a watch had to be re-established. "expired" is the normal end of a watch, not counted. */
export type RestartReason = "error" | "stall" | "gone";

export interface InformerOptions {
  gvk: GroupVersionKind;
  /** "" or undefined: all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Applied to every object before it is stored, to keep only what reconcilers read (as
   *  controller-runtime's cache transforms do). Default: drop metadata.managedFields. */
  transform?: (obj: KubeObject) => KubeObject;
  /** Full re-list period (default 10 min; 0 disables). */
  relistPeriodMs?: number;
  /** Server-side watch timeout; each watch picks a random value in [t, 2t) (default 300 s). */
  watchTimeoutSeconds?: number;
  /** How long past its server-side timeout a watch may stay open before we abort it (default 30 s). */
  stallGraceMs?: number;
  /** Abort a watch that receives nothing, not even a bookmark, for this long (default 180 s; 0: off).
   *  The API server sends a bookmark about every minute to watchers that allow them, so a quiet
   *  but healthy watch is never this idle; a half-open connection is. */
  idleTimeoutMs?: number;
  /** Retry backoff after failures (default 500 ms doubling to 30 s). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  log?: Logger;
  /** Called whenever the watch is re-established after a failure (for metrics). */
  onRestart?: (reason: RestartReason, err: unknown) => void;
}

class WatchStall extends Error {}
class RelistRequested extends Error {}

export class Informer<T extends KubeObject = KubeObject> {
  readonly gvk: GroupVersionKind;
  readonly store = new ObjectStore<T>();
  /** Watch restarts after failures since start, by reason. */
  readonly restarts: Record<RestartReason, number> = { error: 0, stall: 0, gone: 0 };

  private readonly client: KubeClient;
  private readonly opts: Required<Omit<InformerOptions, "namespace" | "labelSelector" | "fieldSelector" | "onRestart" | "log" | "transform">> & InformerOptions;
  private readonly transform: (obj: KubeObject) => KubeObject;
  private readonly log: Logger;
  private readonly handlers: InformerHandler<T>[] = [];
  private resourceVersion = "";
  private needRelist = true;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private stopped = true;
  private loop: Promise<void> | undefined;
  /** Aborts whatever request is running (list, watch or backoff sleep). */
  private current: AbortController | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private lastFailure: unknown;

  constructor(client: KubeClient, opts: InformerOptions) {
    this.client = client;
    this.gvk = opts.gvk;
    this.opts = {
      relistPeriodMs: 10 * 60_000, watchTimeoutSeconds: 300, stallGraceMs: 30_000, idleTimeoutMs: 180_000,
      backoffBaseMs: 500, backoffMaxMs: 30_000, ...opts,
    };
    // Then one copy of each string the cached objects share (intern.ts).
    const transform = opts.transform ?? stripManagedFields, pool = new StringPool();
    this.transform = (obj) => internStrings(transform(obj), pool);
    this.log = (opts.log ?? silentLogger).with({ informer: `${opts.gvk.kind}.${opts.gvk.apiVersion}`, namespace: opts.namespace || undefined });
  }

  /** True once the first list has been stored (stays true; the cache may then lag, never regress). */
  get hasSynced(): boolean { return this.synced; }
  get lastResourceVersion(): string { return this.resourceVersion; }
  get running(): boolean { return !this.stopped; }
  get labelSelector(): string | undefined { return this.opts.labelSelector; }
  get transformFn(): ((obj: KubeObject) => KubeObject) | undefined { return this.opts.transform; }
  /** The most recent list/watch failure (cleared by a successful list), for diagnostics. */
  get lastError(): unknown { return this.lastFailure; }

  on(handler: InformerHandler<T>): void { this.handlers.push(handler); }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
    if (this.opts.relistPeriodMs > 0) {
      this.relistTimer = setInterval(() => this.requestRelist(), this.opts.relistPeriodMs);
      this.relistTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.relistTimer);
    this.current?.abort(new Error("informer stopped"));
    await this.loop;
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Re-lists at the next opportunity, ending the current watch. */
  requestRelist(): void {
    this.needRelist = true;
    this.current?.abort(new RelistRequested("periodic re-list"));
  }

  /** Resolves when synced (or when stopped); rejects after timeoutMs. */
  async waitForSync(timeoutMs = 60_000): Promise<void> {
    if (this.synced) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => this.syncWaiters.push(r)),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => {
          const last = this.lastFailure instanceof Error ? `: last error: ${this.lastFailure.message}` : "";
          reject(new Error(`${this.gvk.kind} (${this.gvk.apiVersion}) informer not synced after ${timeoutMs} ms${last}`));
        }, timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private emit(event: InformerEvent<T>): void {
    for (const h of this.handlers) {
      try { h(event); } catch (err) { this.log.error("informer handler threw", { err, key: objectKey(event.object) }); }
    }
  }

  private async run(): Promise<void> {
    let backoff = this.opts.backoffBaseMs;
    let failuresInRow = 0;
    while (!this.stopped) {
      let reason: RestartReason | undefined;
      let failure: unknown;
      try {
        if (this.needRelist) await this.relist();
        const healthy = await this.watchOnce();
        if (healthy) { backoff = this.opts.backoffBaseMs; failuresInRow = 0; }
        else { reason = "error"; failure = new Error("watch ended at once without events"); }
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof RelistRequested) continue;
        failure = err;
        if (isGoneOrErrorEvent(err)) {
          // Our resourceVersion is unusable: re-list right away, no backoff needed.
          this.needRelist = true;
          reason = "gone";
        } else {
          reason = err instanceof WatchStall ? "stall" : "error";
          // The connection under a stalled watch may be dead without knowing it: do not reuse it.
          if (reason === "stall") this.client.resetConnections();
        }
      }
      if (reason === undefined || this.stopped) continue;
      this.lastFailure = failure;
      this.restarts[reason]++;
      this.opts.onRestart?.(reason, failure);
      failuresInRow++;
      // A first 410 is routine (our version fell out of the server's window): re-list at once.
      // Anything repeating backs off, so a server that keeps failing is not hammered.
      if (reason === "gone" && failuresInRow === 1) { this.log.info("resourceVersion expired, re-listing", { err: failure }); continue; }
      const delay = Math.round(backoff * (0.8 + Math.random() * 0.4));
      this.log.warn("watch failed, retrying", { reason, err: failure, retryInMs: delay });
      backoff = Math.min(backoff * 2, this.opts.backoffMaxMs);
      const ac = (this.current = new AbortController());
      await sleep(delay, undefined, { signal: ac.signal }).catch(() => {});
    }
  }

  /** Lists everything and brings the store in line, emitting the differences as events. */
  private async relist(): Promise<void> {
    const ac = (this.current = new AbortController());
    const { items, resourceVersion } = await this.client.list<T>(this.gvk, {
      namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector,
    }, ac.signal).catch((err: unknown) => { throw ac.signal.aborted ? ac.signal.reason : err; });
    if (this.stopped) return;
    const seen = new Set<string>();
    for (const item of items) {
      const obj = this.transform(item) as T;
      const key = objectKey(obj);
      seen.add(key);
      const old = this.store.upsert(obj);
      if (!old) this.emit({ type: "add", object: obj });
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit({ type: "update", object: obj, old });
    }
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      const old = this.store.remove(key)!;
      this.emit({ type: "delete", object: old, old });
    }
    this.resourceVersion = resourceVersion;
    this.needRelist = false;
    this.lastFailure = undefined;
    this.log.debug("listed", { count: items.length, resourceVersion });
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** One watch from the current resourceVersion. Returns whether it was healthy (a clean end
   *  after it delivered something or ran a while); throws on failure. */
  private async watchOnce(): Promise<boolean> {
    const ac = (this.current = new AbortController());
    const t = this.opts.watchTimeoutSeconds;
    const timeoutSeconds = t + Math.floor(Math.random() * t);
    const started = Date.now();
    let events = 0;
    const deadline = setTimeout(() => ac.abort(new WatchStall(`watch still open ${this.opts.stallGraceMs} ms past its ${timeoutSeconds} s timeout`)), timeoutSeconds * 1000 + this.opts.stallGraceMs);
    let idle: NodeJS.Timeout | undefined;
    const activity = (): void => {
      if (this.opts.idleTimeoutMs <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => ac.abort(new WatchStall(`watch idle for ${this.opts.idleTimeoutMs} ms`)), this.opts.idleTimeoutMs);
    };
    activity();
    try {
      await this.client.watch<T>(this.gvk, {
        namespace: this.opts.namespace, labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector,
        resourceVersion: this.resourceVersion, timeoutSeconds,
      }, (e) => { events++; this.apply(e); }, ac.signal, activity);
    } catch (err) {
      // An abort surfaces as a generic AbortError; report why we aborted instead.
      if (ac.signal.aborted) throw ac.signal.reason;
      throw err;
    } finally {
      clearTimeout(deadline);
      clearTimeout(idle);
    }
    return events > 0 || Date.now() - started > 1000;
  }

  private apply(e: WatchEvent<T>): void {
    if (e.type === "ERROR") {
      const status = e.object as { code?: number; reason?: string; message?: string };
      throw new KubeApiError(status.code ?? 500, status.reason ?? "", `watch ERROR event: ${status.message ?? JSON.stringify(status)}`, status);
    }
    const rv = e.object.metadata?.resourceVersion;
    if (e.type === "BOOKMARK") { if (rv) this.resourceVersion = rv; return; }
    e.object.apiVersion ??= this.gvk.apiVersion;
    e.object.kind ??= this.gvk.kind;
    const obj = this.transform(e.object) as T;
    if (e.type === "DELETED") {
      const old = this.store.remove(objectKey(obj));
      if (old) this.emit({ type: "delete", object: obj, old });
    } else {
      const old = this.store.upsert(obj);
      if (!old) this.emit({ type: "add", object: obj });
      else if (old.metadata?.resourceVersion !== rv) this.emit({ type: "update", object: obj, old });
    }
    if (rv) this.resourceVersion = rv;
  }
}

/** The default transform: managedFields are often the larger half of an object, and no reconciler
 *  reads them. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata && "managedFields" in obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
  return obj;
}

/** 410 Gone, or an ERROR event inside the stream: the watch cannot continue from our version. */
function isGoneOrErrorEvent(err: unknown): boolean {
  return err instanceof KubeApiError && (err.statusCode === 410 || err.message.startsWith("watch ERROR event"));
}

// A controller: watches (the primary kind, kinds it owns, anything else through a mapper) feed
// keys ("namespace/name" of a primary object) into a work queue; workers call reconcile(key).
// Level-triggered: reconcile reads the current state from the cache and never learns which event
// woke it. Errors requeue with per-key backoff; success forgets the key's failures;
// {requeueAfterMs} schedules time-based work.
import type { Cache } from "./cache.ts";
import { objectKey, type GroupVersionKind, type KubeObject } from "./client.ts";
import type { InformerEvent } from "./informer.ts";
import { silentLogger, type Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { WorkQueue, type QueueOptions } from "./queue.ts";

export interface ReconcileResult {
  /** Reconcile this key again after this many ms (time-based work: timeouts, culling). */
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  log: Logger;
  /** Aborted when this replica stops leading: abandon writes, the new leader takes over. */
  signal: AbortSignal;
}

export type Reconcile = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

/** Maps an object of a watched kind to the primary keys it concerns. */
export type KeyMapper = (obj: KubeObject) => string[];

export interface ControllerSpec {
  /** Names the controller in logs and metrics ("kernels"). */
  name: string;
  /** The primary kind: each of its objects is a key. */
  for: GroupVersionKind & CacheSelection;
  /** Kinds whose objects the primary controls (ownerReference controller=true): a change to one
   *  requeues its owner. */
  owns?: Array<GroupVersionKind & CacheSelection>;
  /** Any other kind, mapped to primary keys by a function. */
  watches?: Array<GroupVersionKind & CacheSelection & { map: KeyMapper }>;
  reconcile: Reconcile;
  /** Queue every primary object again this often, event or not (default 0: never). A safety net
   *  for state outside the API server (e.g. files the sidecar syncs). */
  resyncPeriodMs?: number;
  /** false: runs in every replica, leader or not (for per-replica state, such as the files a
   *  sidecar syncs into its own pod). Default true: only the leader reconciles. */
  leaderElection?: boolean;
  /** Workers for this controller (default: the manager's --concurrency). */
  concurrency?: number;
  queue?: Omit<QueueOptions, "concurrency">;
}

/** What of a kind the cache holds: objects matching a label selector, each through a transform. */
export interface CacheSelection { labelSelector?: string; transform?: (obj: KubeObject) => KubeObject }

const groupOf = (apiVersion: string): string => (apiVersion.includes("/") ? apiVersion.split("/")[0]! : "");

/** The primary keys an owned object points at through its controller reference. */
export function ownerKeys(obj: KubeObject, owner: GroupVersionKind): string[] {
  const ns = obj.metadata?.namespace;
  return (obj.metadata?.ownerReferences ?? [])
    .filter((r) => r.controller && r.kind === owner.kind && groupOf(r.apiVersion) === groupOf(owner.apiVersion))
    .map((r) => (ns ? `${ns}/${r.name}` : r.name));
}

export class Controller {
  readonly name: string;
  private readonly spec: ControllerSpec;
  private readonly cache: Cache;
  private readonly metrics: Metrics | undefined;
  private readonly log: Logger;
  private readonly concurrency: number;
  private queue: WorkQueue | undefined;
  private abort: AbortController | undefined;
  private stopping: Promise<void> = Promise.resolve();
  /** Whether the manager wants us running; a stop() during start()'s wait cancels that start. */
  private wanted = false;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(spec: ControllerSpec, deps: { cache: Cache; metrics?: Metrics; log?: Logger; concurrency?: number }) {
    if (!/^[a-z0-9-]+$/.test(spec.name)) throw new Error(`controller name must be lowercase letters, digits and dashes, got ${JSON.stringify(spec.name)}`);
    this.name = spec.name;
    this.spec = spec;
    this.cache = deps.cache;
    this.metrics = deps.metrics;
    this.log = (deps.log ?? silentLogger).with({ controller: spec.name });
    this.concurrency = spec.concurrency ?? deps.concurrency ?? 1;

    // Handlers are registered once; while the controller is stopped (not leader) they drop events.
    const { labelSelector: primarySelector, transform: primaryTransform, ...primary } = spec.for;
    this.cache.informerFor(primary, { labelSelector: primarySelector, transform: primaryTransform }).on((e) => this.enqueue([objectKey(e.object)]));
    for (const { labelSelector, transform, ...gvk } of spec.owns ?? []) {
      this.cache.informerFor(gvk, { labelSelector, transform }).on((e) => this.enqueue(this.mapEvent(e, (o) => ownerKeys(o, primary))));
    }
    for (const { labelSelector, transform, map, ...gvk } of spec.watches ?? []) {
      this.cache.informerFor(gvk, { labelSelector, transform }).on((e) => this.enqueue(this.mapEvent(e, map)));
    }
  }

  get running(): boolean { return this.queue !== undefined; }

  get needsLeadership(): boolean { return this.spec.leaderElection !== false; }

  /** An update can move an object between owners: both the old and the new one are woken. */
  private mapEvent(e: InformerEvent, map: KeyMapper): string[] {
    const keys = map(e.object);
    return e.old ? [...new Set([...keys, ...map(e.old)])] : keys;
  }

  private enqueue(keys: string[]): void {
    const q = this.queue;
    if (!q) return;
    for (const k of keys) q.add(k);
  }

  /** Starts workers and queues every primary object (a full pass: we may have missed events while
   *  not leading). Waits for a previous stop to drain so no key is ever reconciled twice at once. */
  async start(): Promise<void> {
    this.wanted = true;
    if (this.queue) return;
    await this.stopping;
    if (!this.wanted || this.queue) return;
    const queue = new WorkQueue({ ...this.spec.queue, concurrency: this.concurrency });
    const abort = new AbortController();
    this.queue = queue;
    this.abort = abort;
    this.metrics?.trackQueue(this.name, queue);
    for (const obj of this.cache.list(this.spec.for)) queue.add(objectKey(obj));
    queue.start((key) => this.process(queue, key, abort.signal), (key, err) => this.log.error("reconcile wrapper failed", { key, err }));
    if (this.spec.resyncPeriodMs) {
      const timer = setInterval(() => { for (const obj of this.cache.list(this.spec.for)) queue.add(objectKey(obj)); }, this.spec.resyncPeriodMs);
      timer.unref();
      this.resyncTimer = timer;
    }
    this.log.info("controller started", { concurrency: this.concurrency });
  }

  /** Stops taking work at once; resolves when reconciles in flight have finished. */
  stop(opts: { abortInFlight?: boolean } = {}): Promise<void> {
    this.wanted = false;
    clearInterval(this.resyncTimer);
    const queue = this.queue;
    if (!queue) return this.stopping;
    this.queue = undefined;
    if (opts.abortInFlight) this.abort?.abort(new Error(`controller ${this.name} stopped`));
    this.stopping = queue.shutdown().then(() => this.log.info("controller stopped"));
    return this.stopping;
  }

  private async process(queue: WorkQueue, key: string, signal: AbortSignal): Promise<void> {
    const log = this.log.with({ key });
    const endTimer = this.metrics?.reconcileDuration.startTimer({ controller: this.name });
    let result: "success" | "requeue_after" | "error" = "success";
    try {
      const res = await this.spec.reconcile(key, { log, signal });
      queue.forget(key);
      if (res?.requeueAfterMs !== undefined && res.requeueAfterMs >= 0) {
        result = "requeue_after";
        queue.addAfter(key, res.requeueAfterMs);
      }
    } catch (err) {
      result = "error";
      this.metrics?.reconcileErrors.inc({ controller: this.name });
      const retryInMs = queue.addRateLimited(key);
      log.error("reconcile failed", { err, retryInMs, failures: queue.numRequeues(key) });
    } finally {
      endTimer?.();
      this.metrics?.reconcileTotal.inc({ controller: this.name, result });
    }
  }
}

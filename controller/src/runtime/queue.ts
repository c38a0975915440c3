// A work queue with controller-runtime's semantics:
// - a key waits at most once (adding it again while it waits is a no-op);
// - a key is never handed to two workers at once: added while being processed, it is processed
//   again exactly once after the current run finishes;
// - per-key exponential backoff for failures (base * 2^failures, capped), reset by forget();
// - addAfter() for time-based requeues (the earliest requested time wins);
// - at most `concurrency` keys in flight; shutdown() stops handing out work and waits for the
//   keys in flight (keys still waiting are dropped: level-triggered, the next start lists again).

export interface QueueOptions {
  /** Workers that run the handler at once (default 1). */
  concurrency?: number;
  /** First retry delay after a failure (default 5 ms, like client-go). */
  baseDelayMs?: number;
  /** Longest retry delay (default 1000 s, like client-go). */
  maxDelayMs?: number;
}

export type KeyHandler = (key: string) => Promise<void>;

export class WorkQueue {
  readonly concurrency: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;

  /** Keys ready to hand out, in order. */
  private readonly ready: string[] = [];
  /** Keys that must be processed (waiting in `ready`, or re-added while processing). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Workers blocked in next(), waiting for a key. */
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;
  private workers: Promise<void>[] = [];
  private idleWaiters: Array<() => void> = [];

  constructor(opts: QueueOptions = {}) {
    this.concurrency = opts.concurrency ?? 1;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new Error(`queue concurrency must be an integer >= 1, got ${this.concurrency}`);
    if (!(this.baseDelayMs > 0 && this.maxDelayMs >= this.baseDelayMs)) throw new Error(`queue delays must satisfy 0 < baseDelayMs <= maxDelayMs, got ${this.baseDelayMs}, ${this.maxDelayMs}`);
  }

  /** Keys waiting to be processed (not counting delayed ones or those in flight). */
  get length(): number { return this.ready.length; }
  get inFlight(): number { return this.processing.size; }
  get delayedCount(): number { return this.delayed.size; }
  get isShuttingDown(): boolean { return this.shuttingDown; }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() puts it back
    this.push(key);
  }

  /** Adds the key after `ms`; if it is already scheduled, the earlier time wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) { this.add(key); return; }
    const at = Date.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => { this.delayed.delete(key); this.add(key); }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** The delay the next failure of this key would get, without counting it. */
  nextDelay(key: string): number {
    const n = this.failures.get(key) ?? 0;
    // 2^n overflows to Infinity for large n, which min() handles.
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  /** Records a failure and requeues the key with exponential backoff; returns the delay used. */
  addRateLimited(key: string): number {
    const delay = this.nextDelay(key);
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure history (after a success). */
  forget(key: string): void { this.failures.delete(key); }

  numRequeues(key: string): number { return this.failures.get(key) ?? 0; }

  /** Starts `concurrency` workers that call handler for each key. The handler decides what to
   *  requeue (addRateLimited/addAfter/forget); a thrown error is the handler's bug and only logged
   *  by `onUnexpectedError`. */
  start(handler: KeyHandler, onUnexpectedError: (key: string, err: unknown) => void = () => {}): void {
    if (this.workers.length) throw new Error("queue already started");
    for (let i = 0; i < this.concurrency; i++) {
      this.workers.push((async () => {
        for (;;) {
          const key = await this.next();
          if (key === undefined) return;
          try { await handler(key); } catch (err) { onUnexpectedError(key, err); } finally { this.done(key); }
        }
      })());
    }
  }

  /** Stops handing out keys, drops waiting and delayed ones, and resolves once no key is in flight. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.ready.length = 0;
    this.dirty.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    await Promise.all(this.workers);
    if (this.processing.size) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** The next key to process; undefined once shut down. Exposed for callers that run their own loop. */
  next(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key from next() as finished; if it was re-added meanwhile it becomes ready again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0) for (const r of this.idleWaiters.splice(0)) r();
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private push(key: string): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(this.take(key));
    else this.ready.push(key);
  }
}

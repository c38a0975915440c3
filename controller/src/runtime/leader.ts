// Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules:
// - a candidate takes the lease when it is free (no holder) or when the holder has not renewed
//   it for leaseDuration, judged by OUR clock from when we last saw the record change (so clock
//   skew between replicas does not matter);
// - the leader renews every retryPeriod; if it cannot renew for renewDeadline it stops leading
//   at once (renewDeadline < leaseDuration, so it stops before anyone else may take over);
// - every write is a PUT guarded by resourceVersion: two candidates cannot both win;
// - stop() releases the lease (no holder, 1 s duration) so a standby takes over in ~retryPeriod.
import { setTimeout as sleep } from "node:timers/promises";
import { isConflict, type KubeClient, type KubeObject } from "./client.ts";
import { silentLogger, type Logger } from "./log.ts";

export const leaseGvk = { apiVersion: "coordination.k8s.io/v1", kind: "Lease" };

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectorOptions {
  client: KubeClient;
  name: string;
  namespace: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: Logger;
  onStartedLeading?: () => void;
  /** Called the moment leadership is lost or given up: stop acting now. */
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits. */
function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  private readonly opts: LeaderElectorOptions;
  private readonly log: Logger;
  private leading = false;
  private stopped = false;
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | undefined;
  /** The last lease we saw, and when (our clock) its content last changed. */
  private observed: Lease | undefined;
  private observedAt = 0;
  private lastLeader = "";

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.identity = opts.identity;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!opts.identity) throw new Error("leader election: identity is required");
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error(`leader election: need leaseDuration > renewDeadline > retryPeriod, got ${this.leaseDurationMs}, ${this.renewDeadlineMs}, ${this.retryPeriodMs} ms`);
    }
    this.log = (opts.log ?? silentLogger).with({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  }

  get isLeader(): boolean { return this.leading; }
  /** The holder we last saw ("" when free or unknown). */
  get leader(): string { return this.observed?.spec?.holderIdentity ?? ""; }

  /** Starts campaigning in the background: acquire, lead, renew; after losing, campaign again. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; if leading, stops leading and releases the lease for a fast hand-over. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopSignal.abort();
    await this.loop;
    const wasLeading = this.leading;
    this.setLeading(false);
    if (wasLeading && (opts.release ?? true)) await this.release();
  }

  private setLeading(on: boolean): void {
    if (this.leading === on) return;
    this.leading = on;
    if (on) { this.log.info("became leader"); this.opts.onStartedLeading?.(); }
    else { this.log.warn("stopped leading"); this.opts.onStoppedLeading?.(); }
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stopSignal.signal }).catch(() => {});
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Campaign.
      while (!this.stopped && !(await this.tryAcquireOrRenew())) await this.pause(this.retryPeriodMs * (1 + Math.random() * 0.2));
      if (this.stopped) return;
      this.setLeading(true);
      // Lead: renew until a renewal has not succeeded for renewDeadline.
      let lastRenew = performance.now();
      while (!this.stopped) {
        await this.pause(this.retryPeriodMs);
        if (this.stopped) return;
        const left = this.renewDeadlineMs - (performance.now() - lastRenew);
        const ok = left > 0 && (await this.tryAcquireOrRenew(AbortSignal.timeout(Math.max(1, Math.floor(left)))));
        if (ok) { lastRenew = performance.now(); continue; }
        if (performance.now() - lastRenew >= this.renewDeadlineMs) {
          this.log.warn("could not renew the lease within the renew deadline", { renewDeadlineMs: this.renewDeadlineMs });
          this.setLeading(false);
          break;
        }
      }
    }
  }

  /** One attempt to take or keep the lease. Never throws: failures are just "not now". */
  private async tryAcquireOrRenew(timeout: AbortSignal = AbortSignal.timeout(this.renewDeadlineMs)): Promise<boolean> {
    const { client, name, namespace } = this.opts;
    const now = new Date();
    // A hung request must not keep a leader believing it leads: every call is bounded.
    const signal = AbortSignal.any([timeout, this.stopSignal.signal]);
    // The leader renews optimistically from the lease it last wrote (client-go's fast path): no GET
    // in steady state. A conflict means someone else wrote it: read it and decide as below.
    const mine = this.observed;
    if (this.leading && mine?.spec?.holderIdentity === this.identity) {
      try {
        this.observe(await client.replace<Lease>({ ...mine, spec: { ...mine.spec, renewTime: microTime(now), leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000) } }, { signal }));
        return true;
      } catch (err) {
        if (!isConflict(err)) {
          if (!this.stopSignal.signal.aborted) this.log.warn("lease renewal failed", { err });
          return false;
        }
      }
    }
    try {
      const lease = await client.get<Lease>(leaseGvk, namespace, name, { signal });
      if (!lease) {
        const created = await client.create<Lease>({
          apiVersion: leaseGvk.apiVersion, kind: leaseGvk.kind, metadata: { name, namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000), acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        }, { signal });
        this.observe(created);
        return true;
      }
      this.observe(lease);
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? "";
      const held = holder !== "" && holder !== this.identity;
      if (held && performance.now() - this.observedAt < (spec.leaseDurationSeconds ?? 15) * 1000) return false;
      const takingOver = holder !== this.identity;
      const updated = await client.replace<Lease>({
        ...lease,
        spec: {
          ...spec,
          holderIdentity: this.identity,
          leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
          renewTime: microTime(now),
          acquireTime: takingOver ? microTime(now) : spec.acquireTime,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== "" ? 1 : 0),
        },
      }, { signal });
      this.observe(updated);
      if (takingOver) this.log.info("acquired the lease", { previousHolder: holder || undefined });
      return true;
    } catch (err) {
      // A standby that merely sees a valid lease returns above; this is a real failure (RBAC, network).
      if (!isConflict(err) && !this.stopSignal.signal.aborted) this.log.warn("lease attempt failed", { err });
      return false;
    }
  }

  private observe(lease: Lease): void {
    const before = this.observed?.spec;
    const after = lease.spec;
    // Only a change of the record restarts the expiry clock (client-go's observedTime).
    if (!before || before.holderIdentity !== after?.holderIdentity || before.renewTime !== after?.renewTime) this.observedAt = performance.now();
    this.observed = lease;
    const holder = after?.holderIdentity ?? "";
    if (holder !== this.lastLeader) {
      this.lastLeader = holder;
      if (holder) this.opts.onNewLeader?.(holder);
    }
  }

  /** Gives the lease up: no holder and a 1 s duration, so a standby can take it immediately. */
  private async release(): Promise<void> {
    const { client, name, namespace } = this.opts;
    try {
      const signal = AbortSignal.timeout(this.renewDeadlineMs);
      const lease = await client.get<Lease>(leaseGvk, namespace, name, { signal });
      if (!lease || lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(new Date());
      await client.replace<Lease>({ ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now, acquireTime: now } }, { signal });
      this.log.info("released the lease");
    } catch (err) {
      this.log.warn("could not release the lease; a standby takes over when it expires", { err });
    }
  }
}

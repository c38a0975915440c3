// The manager runs one role: it starts the caches, waits for them to sync, serves probes and
// metrics, and runs the controllers only while this replica leads (or always, without leader
// election). Graceful stop: stop taking work, let reconciles in flight finish, release the lease,
// stop the caches.
import { Cache } from "./cache.ts";
import type { KubeClient } from "./client.ts";
import type { Config } from "./config.ts";
import { Controller, type ControllerSpec } from "./controller.ts";
import { HealthServer } from "./health.ts";
import type { InformerOptions } from "./informer.ts";
import { LeaderElector } from "./leader.ts";
import { silentLogger, type Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";

export type ManagerConfig = Pick<Config, "namespace" | "leaderElect" | "leaseName" | "leaseNamespace" | "identity" | "leaseDurationMs" | "renewDeadlineMs" | "retryPeriodMs" | "concurrency" | "metricsAddr"> & Partial<Pick<Config, "gateway" | "gatewayUrl" | "gatewayToken" | "kernelsDir" | "bootstrapConfigMap" | "kernelPodPolicy">>;

export interface ManagerOptions {
  client: KubeClient;
  config: ManagerConfig;
  log?: Logger;
  metrics?: Metrics;
  /** Informer tuning for every kind (tests shorten timeouts). */
  informer?: Omit<InformerOptions, "gvk" | "namespace" | "log" | "onRestart">;
  /** How long start() waits for the caches (default 120 s). */
  syncTimeoutMs?: number;
}

export class Manager {
  readonly client: KubeClient;
  readonly cache: Cache;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly config: ManagerConfig;
  private readonly controllers: Controller[] = [];
  private readonly elector: LeaderElector | undefined;
  private readonly health: HealthServer;
  private readonly syncTimeoutMs: number;
  private state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  private port = 0;

  constructor(opts: ManagerOptions) {
    this.client = opts.client;
    this.config = opts.config;
    this.log = opts.log ?? silentLogger;
    this.metrics = opts.metrics ?? new Metrics();
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 120_000;
    this.client.onRequest ??= (r) => this.metrics.apiRequests.inc({ verb: r.verb, resource: r.resource, code: r.code });
    this.cache = new Cache(this.client, {
      namespace: opts.config.namespace,
      log: this.log,
      informer: opts.informer,
      onRestart: (gvk, reason) => this.metrics.watchRestarts.inc({ kind: gvk.kind, reason }),
    });
    if (opts.config.leaderElect) {
      this.elector = new LeaderElector({
        client: this.client,
        name: opts.config.leaseName,
        namespace: opts.config.leaseNamespace,
        identity: opts.config.identity,
        leaseDurationMs: opts.config.leaseDurationMs,
        renewDeadlineMs: opts.config.renewDeadlineMs,
        retryPeriodMs: opts.config.retryPeriodMs,
        log: this.log,
        onStartedLeading: () => void this.startControllers(),
        // Lost the lease: another replica may act from now on, so stop at once and abandon work
        // in flight (its writes are idempotent applies; the new leader redoes them).
        onStoppedLeading: () => void this.stopControllers(true),
        onNewLeader: (id) => this.log.info("leader is now", { leader: id }),
      });
    }
    this.health = new HealthServer({
      ready: () => (this.cache.hasSynced() ? "" : "caches not synced yet"),
      healthy: () => (this.state === "stopped" ? "stopped" : ""),
    }, this.metrics);
  }

  /** Registers a controller; call before start(). */
  add(spec: ControllerSpec): Controller {
    if (this.state !== "new") throw new Error(`add controller ${spec.name}: the manager has already started`);
    if (this.controllers.some((c) => c.name === spec.name)) throw new Error(`a controller named ${spec.name} is already registered`);
    const c = new Controller(spec, { cache: this.cache, metrics: this.metrics, log: this.log, concurrency: this.config.concurrency });
    this.controllers.push(c);
    return c;
  }

  get isLeader(): boolean { return this.elector ? this.elector.isLeader : this.state === "running"; }
  /** The port /healthz, /readyz and /metrics listen on. */
  get metricsPort(): number { return this.port; }
  get controllerNames(): string[] { return this.controllers.map((c) => c.name); }
  get controllersRunning(): boolean { return this.controllers.length > 0 && this.controllers.every((c) => c.running); }

  async start(): Promise<void> {
    if (this.state !== "new") throw new Error("the manager can start only once");
    this.state = "starting";
    this.port = await this.health.listen(this.config.metricsAddr.host, this.config.metricsAddr.port);
    this.log.info("serving probes and metrics", { port: this.port });
    this.cache.start();
    await this.cache.waitForSync(this.syncTimeoutMs);
    this.log.info("caches synced", { controllers: this.controllerNames });
    if (this.state !== "starting") return; // stopped while syncing
    this.state = "running";
    await Promise.all(this.controllers.filter((c) => !c.needsLeadership).map((c) => c.start()));
    if (this.elector) this.elector.start();
    else await this.startControllers();
  }

  private async startControllers(): Promise<void> {
    if (this.state !== "running" || (this.elector && !this.elector.isLeader)) return;
    this.metrics.leader.set(1);
    await Promise.all(this.controllers.filter((c) => c.needsLeadership).map((c) => c.start()));
  }

  /** On losing the lease only leader-only controllers stop; on shutdown (all) every one does. */
  private async stopControllers(abortInFlight: boolean, all = false): Promise<void> {
    this.metrics.leader.set(0);
    await Promise.all(this.controllers.filter((c) => all || c.needsLeadership).map((c) => c.stop({ abortInFlight })));
  }

  /** Graceful stop (SIGTERM): no new work, reconciles in flight finish, then the lease is released
   *  so a standby takes over at once, then caches and the HTTP server stop. */
  async stop(): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return;
    this.state = "stopping";
    this.log.info("stopping: finishing reconciles in flight");
    await this.stopControllers(false, true);
    if (this.elector) await this.elector.stop({ release: true });
    await this.cache.stop();
    await this.health.close();
    this.state = "stopped";
    this.log.info("stopped");
  }
}

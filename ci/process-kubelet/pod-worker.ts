// The life of one pod on the process node: allocate its loopback IP, materialise its volumes,
// run init containers then containers as sandboxed processes, probe them, restart them per
// restartPolicy with backoff, report status, and on deletion stop them (SIGTERM, then SIGKILL
// after the grace period) and delete the pod object with grace 0, as the kubelet does.
//
// All changes go through sync(), which is serialised and coalescing: events (pod updates,
// ConfigMap changes, process exits, probe results, timers) only ask for another sync.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { constants as osConstants, hostname as osHostname } from "node:os";
import type { Container, ContainerState, Pod, ServiceAccountTokenProjection, Volume, VolumeMount } from "kubernetes-types/core/v1.js";
import type { KubeClient } from "../../controller/src/runtime/client.ts";
import { isConflict, isNotFound } from "../../controller/src/runtime/client.ts";
import type { Logger } from "../../controller/src/runtime/log.ts";
import { writeAtomically } from "./atomic-writer.ts";
import { ContainerConfigError, containerEnv, type ObjectLookups, type PodFacts } from "./env.ts";
import { expand, lookupIn } from "./expansion.ts";
import { ImageNotMappedError, processFor, type ImageMap } from "./image-map.ts";
import type { IpAllocator } from "./ip-allocator.ts";
import { podLoopbackEnv } from "./loopback.ts";
import { Prober } from "./probes.ts";
import { homeOf, resolveInRoot, unpackImage } from "./oci-image.ts";
import { hostsFile, type MountTargets, type Mount, type RootFs, type RunningProcess, type Sandbox, type Exit } from "./sandbox.ts";
import { podStatus, type ContainerView, type PodView } from "./status.ts";
import { defaultServiceAccountVolume, serviceAccountMountPath, tokenKey, volumePlan, VolumeNotReadyError, VolumeNotSupportedError } from "./volumes.ts";

export const logDirAnnotation = "process-kubelet.elastic-jupyter.dev/log-dir";

export interface KubeletContext {
  client: KubeClient;
  nodeName: string;
  hostIP: string;
  apiServer: { host: string; port: string };
  allocatable: Record<string, string>;
  imageMap: ImageMap;
  imageMapSource: string;
  sandbox: Sandbox;
  mountTargets: MountTargets;
  ips: IpAllocator;
  lookups: ObjectLookups;
  stateDir: string;
  nsenter: string;
  /** The kubelet's own environment: base PATH/HOME of pod processes and `$(VAR)`s of the image map. */
  hostEnv: Record<string, string>;
  backoff: { baseMs: number; maxMs: number };
  /** The pod-loopback library (pod-loopback.c) preloaded into pod processes, if built. */
  podLoopbackLib: string | undefined;
  log: Logger;
}

interface IssuedToken { token: string; refreshAt: number }

class ContainerRun {
  readonly spec: Container;
  readonly init: boolean;
  restartCount = 0;
  state: ContainerState = { waiting: { reason: "ContainerCreating" } };
  lastState: ContainerState | undefined;
  proc: RunningProcess | undefined;
  runId = "";
  prober: Prober | undefined;
  everStarted = false;
  backoffMs = 0;
  nextStartAt = 0;
  env: Record<string, string> = {};
  /** Why we killed it (liveness/startup probe), for the terminated state's message. */
  killedBecause: string | undefined;
  constructor(spec: Container, init: boolean) {
    this.spec = spec;
    this.init = init;
  }
  get running(): boolean { return this.proc !== undefined; }
}

const retryMs = 2000;

export class PodWorker {
  readonly uid: string;
  private pod: Pod;
  private readonly ctx: KubeletContext;
  private readonly log: Logger;
  private readonly dir: string;
  private readonly containers: ContainerRun[];
  private ip: string | undefined;
  private readonly startTime: string;
  private sandboxReady = false;
  private initDone = false;
  private failure: { reason: string; message: string } | undefined;
  private pending: { reason: string; message: string } | undefined;
  private terminal = false;
  private terminating = false;
  private goneFromApi = false;
  private finished = false;
  private readonly volumeDirs = new Map<string, { path: string; readOnly: boolean }>();
  private readonly tokens = new Map<string, IssuedToken>();
  private lastReported = "";
  private lastStatus: Pod["status"];
  private annotated = false;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private syncing: Promise<void> | undefined;
  private dirty = false;
  /** Resolves when the pod's processes are stopped and its resources released. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(pod: Pod, ctx: KubeletContext) {
    this.pod = pod;
    this.ctx = ctx;
    this.uid = pod.metadata?.uid ?? "";
    const ns = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    this.log = ctx.log.with({ pod: `${ns}/${name}`, uid: this.uid });
    this.dir = join(ctx.stateDir, "pods", `${ns}_${name}_${this.uid}`);
    this.startTime = pod.status?.startTime ?? new Date().toISOString();
    this.containers = [
      ...(pod.spec?.initContainers ?? []).map((c) => new ContainerRun(c, true)),
      ...(pod.spec?.containers ?? []).map((c) => new ContainerRun(c, false)),
    ];
    this.done = new Promise((r) => { this.resolveDone = r; });
    this.adoptPreviousRun(pod);
  }

  get name(): string { return `${this.pod.metadata?.namespace}/${this.pod.metadata?.name}`; }
  get podIP(): string | undefined { return this.ip; }

  /** A pod this node ran before the kubelet restarted: its processes are gone (stopped at
   *  shutdown, or killed by the cgroup sweep at start after a crash). Containers that were running
   *  count as exited with 137; the restart policy decides what next. */
  private adoptPreviousRun(pod: Pod): void {
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") { this.terminal = true; this.lastStatus = pod.status; return; }
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const c of this.containers) {
      const s = statuses.find((x) => x.name === c.spec.name);
      if (!s) continue;
      c.restartCount = s.restartCount ?? 0;
      const prev = s.state?.terminated ?? (s.state?.running ? { exitCode: 137, reason: "Error", message: "process kubelet restarted; the process was killed", startedAt: s.state.running.startedAt, finishedAt: new Date().toISOString() } : s.lastState?.terminated);
      if (prev) { c.everStarted = true; c.state = { terminated: prev }; }
    }
  }

  update(pod: Pod): void {
    this.pod = pod;
    this.sync();
  }

  /** The pod object is gone from the API (force-deleted): stop everything, nothing to delete. */
  removed(): void {
    this.goneFromApi = true;
    this.sync();
  }

  /** Asks for a sync; runs at most one at a time and coalesces requests made meanwhile. */
  sync(): void {
    if (this.syncing) { this.dirty = true; return; }
    this.syncing = (async () => {
      do {
        this.dirty = false;
        try { await this.doSync(); } catch (err) { this.log.error("sync failed", { err }); this.retryIn(retryMs); }
      } while (this.dirty && !this.finished);
    })().finally(() => { this.syncing = undefined; });
  }

  /** Wakes the worker in ms. Only the earliest wake-up is kept: every sync re-asks for what it
   *  still needs (backoff end, token refresh, retry), so a dropped later one comes back. */
  private retryIn(ms: number): void {
    const due = Date.now() + Math.max(0, ms);
    if (this.timer && this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => { this.timer = undefined; this.timerDue = Infinity; this.sync(); }, Math.max(0, ms));
  }

  private get policy(): "Always" | "OnFailure" | "Never" {
    return (this.pod.spec?.restartPolicy ?? "Always") as "Always" | "OnFailure" | "Never";
  }

  private facts(): PodFacts {
    return { podIP: this.ip ?? "", hostIP: this.ctx.hostIP, nodeName: this.ctx.nodeName, allocatable: this.ctx.allocatable };
  }

  private async doSync(): Promise<void> {
    if (this.finished || this.terminating) return; // terminate()/shutdown() finish the job
    if (this.goneFromApi || this.pod.metadata?.deletionTimestamp) {
      await this.terminate({ deleteObject: !this.goneFromApi, graceSeconds: this.deletionGrace() });
      return;
    }
    if (this.failure || this.terminal) { await this.releaseRuntime(); await this.report(); return; }
    if (!this.ip) {
      // Every image must be runnable before anything starts (a pod that cannot run fails whole).
      for (const c of this.containers) {
        try { processFor(this.ctx.imageMap, c.spec, {}, {}, this.ctx.imageMapSource); } catch (err) {
          if (!(err instanceof ImageNotMappedError)) throw err;
          this.failure = { reason: "ImageNotMapped", message: err.message };
          // Every container shows why the pod cannot start (kubectl prints a container's reason).
          for (const x of this.containers) x.state = { waiting: { reason: "ImageNotMapped", message: x === c ? err.message : `pod not started: ${err.message}` } };
          await this.report();
          return;
        }
      }
    }
    if (!this.ip) this.ip = this.pod.spec?.hostNetwork ? this.ctx.hostIP : this.ctx.ips.allocate(this.uid, this.pod.status?.podIP);
    if (!this.annotated) await this.annotateLogDir();

    try {
      await this.prepareVolumes();
      this.sandboxReady = true;
      this.pending = undefined;
    } catch (err) {
      if (err instanceof VolumeNotSupportedError) this.failure = { reason: "VolumeNotSupported", message: err.message };
      else {
        this.pending = { reason: "FailedMount", message: (err as Error).message };
        this.log.warn("volumes not ready", { err });
        this.retryIn(retryMs);
      }
      await this.report();
      return;
    }

    // Init containers run one at a time, in order, each to successful completion.
    this.initDone = true;
    for (const c of this.containers.filter((x) => x.init)) {
      if (c.state.terminated?.exitCode === 0 && !c.running) continue;
      this.initDone = false;
      if (c.running) break;
      if (c.everStarted && this.policy === "Never") {
        this.failure = { reason: "InitContainerFailed", message: `init container ${c.spec.name} exited with ${c.state.terminated?.exitCode ?? c.lastState?.terminated?.exitCode}` };
        break;
      }
      this.startOrBackOff(c);
      break;
    }
    if (this.initDone && !this.failure) {
      for (const c of this.containers.filter((x) => !x.init)) {
        if (c.running) continue;
        if (!c.everStarted || this.shouldRestart(c)) this.startOrBackOff(c);
        if (this.failure) break;
      }
    }
    const status = await this.report();
    if (status && (status.phase === "Succeeded" || status.phase === "Failed")) {
      this.terminal = true;
      await this.releaseRuntime();
    }
  }

  private shouldRestart(c: ContainerRun): boolean {
    if (c.init) return this.policy !== "Never";
    const exit = c.state.terminated?.exitCode ?? c.lastState?.terminated?.exitCode;
    return this.policy === "Always" || (this.policy === "OnFailure" && exit !== 0);
  }

  private startOrBackOff(c: ContainerRun): void {
    const now = Date.now();
    if (c.everStarted && now < c.nextStartAt) {
      if (c.state.terminated) { c.lastState = { terminated: c.state.terminated }; }
      const secs = Math.round(c.backoffMs / 1000);
      c.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off ${secs}s restarting failed container=${c.spec.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace}(${this.uid})` } };
      this.retryIn(c.nextStartAt - now + 10);
      return;
    }
    this.start(c);
  }

  private start(c: ContainerRun): void {
    if (this.terminating) return;
    const pod = this.pod;
    const ns = pod.metadata?.namespace ?? "default";
    const podName = pod.metadata?.name ?? "";
    const port = this.ctx.apiServer.port;
    const inherited: Record<string, string> = {
      KUBERNETES_SERVICE_HOST: this.ctx.apiServer.host, KUBERNETES_SERVICE_PORT: port,
      KUBERNETES_SERVICE_PORT_HTTPS: port, KUBERNETES_PORT: `tcp://${this.ctx.apiServer.host}:${port}`,
    };
    let own: Record<string, string>;
    try {
      own = containerEnv(pod, c.spec, this.facts(), this.ctx.lookups, inherited);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.moveToLastState(c);
      c.state = { waiting: { reason: "CreateContainerConfigError", message: err.message } };
      this.retryIn(retryMs);
      return;
    }
    const hostname = pod.spec?.hostNetwork ? osHostname() : (pod.spec?.hostname || podName).slice(0, 63);
    const mapVars = { ...this.ctx.hostEnv, POD_IP: this.ip ?? "", POD_NAME: podName, POD_NAMESPACE: ns, POD_UID: this.uid, NODE_NAME: this.ctx.nodeName, HOST_IP: this.ctx.hostIP };
    let proc;
    try {
      proc = processFor(this.ctx.imageMap, c.spec, { ...inherited, ...own }, mapVars, this.ctx.imageMapSource);
    } catch (err) {
      if (!(err instanceof ImageNotMappedError)) throw err;
      this.failure = { reason: "ImageNotMapped", message: err.message };
      c.state = { waiting: { reason: "ImageNotMapped", message: err.message } };
      return;
    }
    // An OCI image runs in a root made from its layers (unpacked once per digest), as its user.
    let rootfs: RootFs | undefined;
    let home: string;
    if (proc.image) {
      const sc = { ...pod.spec?.securityContext, ...c.spec.securityContext };
      const uid = sc.runAsUser ?? proc.image.uid, gid = sc.runAsGroup ?? (sc.runAsUser !== undefined ? 0 : proc.image.gid);
      const image = unpackImage(proc.image, join(this.ctx.stateDir, "images"));
      rootfs = { image, dir: join(this.dir, "rootfs", c.spec.name), uid, gid };
      rmSync(rootfs.dir, { recursive: true, force: true }); // a restarted container starts from the image again
      home = homeOf(image, uid);
    } else {
      // A home of its own per container, as each container has its own filesystem (no shared ~/.jupyter).
      home = join(this.dir, "home", c.spec.name);
      mkdirSync(home, { recursive: true });
    }
    const env: Record<string, string> = { PATH: this.ctx.hostEnv.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: home, HOSTNAME: hostname, ...proc.imageEnv, ...inherited, ...own };
    if (this.ctx.podLoopbackLib && !pod.spec?.hostNetwork) Object.assign(env, podLoopbackEnv(this.ctx.podLoopbackLib, this.ip ?? "", [port], env.LD_PRELOAD));

    let mounts: Mount[];
    try {
      mounts = this.mountsFor(c, env, rootfs);
    } catch (err) {
      this.moveToLastState(c);
      c.state = { waiting: { reason: "CreateContainerConfigError", message: (err as Error).message } };
      this.retryIn(retryMs);
      return;
    }

    if (c.everStarted) { c.restartCount++; this.moveToLastState(c); }
    c.everStarted = true;
    c.killedBecause = undefined;
    c.env = env;
    c.runId = `${this.uid}_${c.spec.name}_${c.restartCount}`;
    const logFile = join(this.dir, "logs", c.spec.name, `${c.restartCount}.log`);
    const running = this.ctx.sandbox.launch({
      id: c.runId, argv: proc.argv, env, workingDir: proc.workingDir, hostname, mounts, logFile,
      startErrorFile: join(this.dir, "run", `${c.spec.name}.start-error`), ...(rootfs ? { rootfs } : {}),
    });
    c.proc = running;
    c.state = { running: { startedAt: new Date().toISOString() } };
    this.log.info("container started", { container: c.spec.name, pid: running.pid, argv: proc.argv, image: c.spec.image, imageMapEntry: proc.entry, podIP: this.ip, log: logFile,
      ...(proc.image ? { imageDigest: proc.image.digest, imageRoot: rootfs!.image, runAsUser: rootfs!.uid, runAsGroup: rootfs!.gid } : {}) });
    if (proc.image) this.logImageRoot(c.spec.name, running.pid, proc.image.digest);
    const runId = c.runId;
    void running.exited.then((exit) => this.onExit(c, runId, exit));
    if (!c.init) {
      c.prober = new Prober(c.spec, () => ({ podIP: this.ip ?? "", container: c.spec, pid: c.proc?.pid, env: c.env, nsenter: this.ctx.nsenter }),
        () => this.sync(), (why) => this.killForProbe(c, runId, why));
      c.prober.start();
    }
  }

  private moveToLastState(c: ContainerRun): void {
    if (c.state.terminated) c.lastState = { terminated: c.state.terminated };
  }

  private killForProbe(c: ContainerRun, runId: string, why: string): void {
    if (c.runId !== runId || !c.proc) return;
    this.log.info("killing container", { container: c.spec.name, why });
    c.killedBecause = why;
    c.prober?.stop();
    void this.stopContainer(c, this.pod.spec?.terminationGracePeriodSeconds ?? 30);
  }

  private async onExit(c: ContainerRun, runId: string, exit: Exit): Promise<void> {
    const pid = c.proc?.pid;
    c.prober?.stop();
    c.prober = undefined;
    // A container ends when its main process does: whatever it left behind dies with it.
    await this.ctx.sandbox.killAll(runId, pid);
    const startError = join(this.dir, "run", `${c.spec.name}.start-error`);
    let reason: string;
    let message: string | undefined;
    let exitCode = exit.code ?? 128 + (exit.signal ? (osConstants.signals[exit.signal] ?? 9) : 9);
    if (existsSync(startError)) {
      reason = "StartError";
      message = readFileSync(startError, "utf8").trim();
      exitCode = 128;
      rmSync(startError, { force: true });
    } else {
      reason = exitCode === 0 ? "Completed" : "Error";
      message = c.killedBecause;
    }
    const running = c.state.running;
    c.state = { terminated: { exitCode, reason, ...(message ? { message } : {}), startedAt: running?.startedAt ?? new Date().toISOString(), finishedAt: new Date().toISOString(), containerID: `process://${runId}` } };
    if (exit.signal) c.state.terminated!.signal = osConstants.signals[exit.signal];
    c.proc = undefined;
    this.log.info("container exited", { container: c.spec.name, exitCode, reason, message, signal: exit.signal });
    // Backoff: doubles per crash, resets after 10 minutes of healthy running (as the kubelet).
    const ranMs = Date.now() - Date.parse(c.state.terminated!.startedAt!);
    c.backoffMs = ranMs > 600_000 || c.backoffMs === 0 ? this.ctx.backoff.baseMs : Math.min(c.backoffMs * 2, this.ctx.backoff.maxMs);
    c.nextStartAt = Date.now() + c.backoffMs;
    this.sync();
  }

  /** SIGTERM to the container's process group, SIGKILL to everything it has after the grace period. */
  private async stopContainer(c: ContainerRun, graceSeconds: number): Promise<void> {
    const proc = c.proc;
    if (!proc) return;
    this.ctx.sandbox.signalGroup(proc.pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const killed = await Promise.race([
      proc.exited.then(() => false),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(true), graceSeconds * 1000); }),
    ]);
    clearTimeout(timer);
    if (killed) {
      this.log.info("grace period over, killing", { container: c.spec.name, graceSeconds });
      await this.ctx.sandbox.killAll(c.runId, proc.pid);
    }
    await proc.exited;
  }

  private deletionGrace(): number {
    return this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  /** Stops every container and releases the pod's resources; optionally deletes the pod object. */
  async terminate(opts: { deleteObject: boolean; graceSeconds: number }): Promise<void> {
    if (this.finished) return;
    this.terminating = true;
    clearTimeout(this.timer);
    for (const c of this.containers) c.prober?.stop();
    await Promise.all(this.containers.map((c) => this.stopContainer(c, opts.graceSeconds)));
    await this.releaseRuntime();
    for (const d of ["volumes", "home", "rootfs"]) rmSync(join(this.dir, d), { recursive: true, force: true });
    if (opts.deleteObject) {
      await this.report().catch((err) => this.log.warn("final status not written", { err }));
      // Retried here: once terminating, no later sync would try again.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.ctx.client.request("DELETE", `/api/v1/namespaces/${encodeURIComponent(this.pod.metadata?.namespace ?? "")}/pods/${encodeURIComponent(this.pod.metadata?.name ?? "")}`, {
            body: { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
          });
          this.log.info("pod deleted");
          break;
        } catch (err) {
          if (isNotFound(err) || isConflict(err)) break; // gone already, or a new pod took the name
          if (attempt >= 10) { this.log.error("pod not deleted; giving up", { err }); break; }
          this.log.warn("pod delete failed, retrying", { err, attempt });
          await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 10_000)));
        }
      }
    }
    this.finished = true;
    this.resolveDone();
  }

  /** Kubelet shutdown: stop the processes within the shutdown grace, report them stopped. */
  async shutdown(graceSeconds: number): Promise<void> {
    if (this.finished) return;
    // First, so no new sync starts anything; then let a sync in flight finish before stopping all.
    this.terminating = true;
    await this.syncing;
    if (this.finished) return; // that sync was a deletion: done
    // As graceful node shutdown does: the pod is Failed, its controller (if any) replaces it.
    if (!this.terminal) this.failure ??= { reason: "Terminated", message: "Pod was terminated in response to process kubelet shutdown." };
    clearTimeout(this.timer);
    for (const c of this.containers) c.prober?.stop();
    await Promise.all(this.containers.map((c) => this.stopContainer(c, Math.min(graceSeconds, this.deletionGrace()))));
    await this.releaseRuntime();
    for (const d of ["volumes", "home", "rootfs"]) rmSync(join(this.dir, d), { recursive: true, force: true });
    if (!this.goneFromApi && !this.terminal) await this.report().catch((err) => this.log.warn("final status not written", { err }));
    this.finished = true;
    this.resolveDone();
  }

  /** Frees what only a live pod needs: its IP, mount targets, cgroups. Volumes and logs stay
   *  until the pod is deleted. */
  private async releaseRuntime(): Promise<void> {
    for (const c of this.containers) if (c.runId && !c.proc) await this.ctx.sandbox.killAll(c.runId, undefined);
    this.ctx.mountTargets.release(this.uid);
    if (!this.pod.spec?.hostNetwork) this.ctx.ips.release(this.uid);
  }

  private async annotateLogDir(): Promise<void> {
    const logDir = join(this.dir, "logs");
    mkdirSync(logDir, { recursive: true });
    if (this.pod.metadata?.annotations?.[logDirAnnotation] !== logDir) {
      await this.ctx.client.request("PATCH", `/api/v1/namespaces/${encodeURIComponent(this.pod.metadata?.namespace ?? "")}/pods/${encodeURIComponent(this.pod.metadata?.name ?? "")}`, {
        contentType: "application/merge-patch+json",
        body: { metadata: { annotations: { [logDirAnnotation]: logDir } } },
      }).catch((err) => { if (!isNotFound(err)) throw err; });
    }
    this.annotated = true;
  }

  /** The pod's volumes plus, unless admission already added one or automount is off, the
   *  service-account volume the ServiceAccount admission plugin would add. */
  private volumes(): { volumes: Volume[]; defaultSaVolume: string | undefined } {
    const vols = [...(this.pod.spec?.volumes ?? [])];
    const all = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])];
    const mounted = all.some((c) => c.volumeMounts?.some((m) => m.mountPath.replace(/\/+$/, "") === serviceAccountMountPath));
    if (this.pod.spec?.automountServiceAccountToken === false || mounted) return { volumes: vols, defaultSaVolume: undefined };
    const v = defaultServiceAccountVolume();
    return { volumes: [...vols, v], defaultSaVolume: v.name };
  }

  private async prepareVolumes(): Promise<void> {
    const { volumes } = this.volumes();
    await this.ensureTokens(volumes);
    const pod = this.pod;
    const facts = this.facts();
    const tokens = (s: ServiceAccountTokenProjection): string | undefined => this.tokens.get(tokenKey(s))?.token;
    for (const v of volumes) {
      const plan = volumePlan(pod, v, facts, this.ctx.lookups, tokens);
      const dir = join(this.dir, "volumes", v.name);
      if (plan.kind === "files") {
        if (writeAtomically(dir, plan.files)) this.log.debug("volume written", { volume: v.name });
        this.volumeDirs.set(v.name, { path: dir, readOnly: true });
      } else if (plan.kind === "emptyDir") {
        mkdirSync(dir, { recursive: true });
        chmodSync(dir, 0o777); // as the kubelet's, past the umask: an image's non-root user writes it
        this.volumeDirs.set(v.name, { path: dir, readOnly: false });
      } else {
        if (!existsSync(plan.path)) {
          if (plan.type === "DirectoryOrCreate") mkdirSync(plan.path, { recursive: true });
          else if (plan.type === "FileOrCreate") writeFileSync(plan.path, "");
          else throw new VolumeNotReadyError(`volume ${v.name}: hostPath ${plan.path} does not exist`);
        }
        this.volumeDirs.set(v.name, { path: plan.path, readOnly: false });
      }
    }
    if (!this.pod.spec?.hostNetwork) {
      const hostname = (pod.spec?.hostname || pod.metadata?.name || "").slice(0, 63);
      const fqdn = pod.spec?.subdomain ? `${hostname}.${pod.spec.subdomain}.${pod.metadata?.namespace}.svc.cluster.local` : undefined;
      mkdirSync(join(this.dir, "run"), { recursive: true });
      writeFileSync(join(this.dir, "run", "hosts"), hostsFile(this.ip ?? "", hostname, fqdn, pod.spec?.hostAliases));
    }
  }

  /** Requests (TokenRequest API, bound to this pod) every service-account token the volumes
   *  project, and refreshes each at 80 % of its lifetime, as the kubelet's token manager does. */
  private async ensureTokens(volumes: Volume[]): Promise<void> {
    const sources = volumes.flatMap((v) => (v.projected?.sources ?? []).map((s) => s.serviceAccountToken).filter((s): s is ServiceAccountTokenProjection => !!s));
    const now = Date.now();
    let nextRefresh = Infinity;
    for (const s of sources) {
      const key = tokenKey(s);
      const have = this.tokens.get(key);
      if (have && have.refreshAt > now) { nextRefresh = Math.min(nextRefresh, have.refreshAt); continue; }
      const ns = this.pod.metadata?.namespace ?? "default";
      const sa = this.pod.spec?.serviceAccountName || "default";
      const expirationSeconds = s.expirationSeconds ?? 3600;
      let res: { status?: { token?: string; expirationTimestamp?: string } };
      try {
        res = await this.ctx.client.request("POST", `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`, {
          body: {
            apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest",
            spec: { audiences: s.audience ? [s.audience] : [], expirationSeconds, boundObjectRef: { apiVersion: "v1", kind: "Pod", name: this.pod.metadata?.name, uid: this.uid } },
          },
        });
      } catch (err) {
        throw new VolumeNotReadyError(`service account token for ${ns}/${sa}: ${(err as Error).message}`);
      }
      const token = res.status?.token;
      if (!token) throw new VolumeNotReadyError(`service account token for ${ns}/${sa}: TokenRequest returned no token`);
      const expires = Date.parse(res.status?.expirationTimestamp ?? "") || now + expirationSeconds * 1000;
      const refreshAt = now + 0.8 * (expires - now);
      this.tokens.set(key, { token, refreshAt });
      nextRefresh = Math.min(nextRefresh, refreshAt);
    }
    if (nextRefresh < Infinity) this.retryIn(nextRefresh - now);
  }

  /** Once the container has exec'd, logs the root it runs in as /proc/<pid>/root shows it: the
   *  image's, with the image's files and none of this machine's. */
  private logImageRoot(container: string, pid: number, digest: string): void {
    const root = `/proc/${pid}/root`;
    const check = (tries: number): void => {
      try {
        // Until unshare has chrooted and exec'd, the process is the launch script on this machine's root.
        const exe = readlinkSync(`/proc/${pid}/exe`);
        if ((readlinkSync(root) === "/" || /\/(sh|dash|bash|unshare)$/.test(exe)) && tries > 0) { setTimeout(() => check(tries - 1), 50); return; }
        this.log.info("container runs in its image root", { container, pid, imageDigest: digest, procRoot: readlinkSync(root),
          exe: readlinkSync(`/proc/${pid}/exe`), rootEntries: readdirSync(root).sort().join(" ") });
      } catch { /* exited already */ }
    };
    check(100);
  }

  private mountsFor(c: ContainerRun, env: Record<string, string>, rootfs?: RootFs): Mount[] {
    const { defaultSaVolume } = this.volumes();
    const volumeMounts: VolumeMount[] = [...(c.spec.volumeMounts ?? [])];
    if (defaultSaVolume) volumeMounts.push({ name: defaultSaVolume, mountPath: serviceAccountMountPath, readOnly: true });
    const mounts: Mount[] = [];
    for (const m of volumeMounts) {
      const vol = this.volumeDirs.get(m.name);
      if (!vol) throw new Error(`container ${c.spec.name}: volumeMount ${m.name}: the pod has no volume of that name`);
      if (!m.mountPath.startsWith("/")) throw new Error(`container ${c.spec.name}: volumeMount ${m.name}: mountPath ${JSON.stringify(m.mountPath)} must be absolute`);
      const sub = m.subPath || (m.subPathExpr ? expand(m.subPathExpr, lookupIn(env)) : "");
      if (sub.startsWith("/") || sub.split("/").includes("..")) throw new Error(`container ${c.spec.name}: volumeMount ${m.name}: subPath ${JSON.stringify(sub)} must be relative without '..'`);
      const source = sub ? join(vol.path, sub) : vol.path;
      if (sub && !existsSync(source)) {
        if (vol.readOnly) throw new Error(`container ${c.spec.name}: volumeMount ${m.name}: subPath ${JSON.stringify(sub)} does not exist in the volume`);
        mkdirSync(source, { recursive: true }); // as the kubelet does for writable volumes
      }
      const isDir = statSync(source).isDirectory();
      // In an image root the script creates targets inside it; on this machine they are shared.
      if (!rootfs) this.ctx.mountTargets.ensure(this.uid, m.mountPath, isDir);
      mounts.push({ source, target: m.mountPath, readOnly: vol.readOnly || !!m.readOnly });
    }
    if (!this.pod.spec?.hostNetwork && !volumeMounts.some((m) => m.mountPath === "/etc/hosts")) {
      mounts.push({ source: join(this.dir, "run", "hosts"), target: "/etc/hosts", readOnly: false });
    }
    if (!rootfs) return mounts;
    // The preloaded pod-loopback library must be visible at the same path inside the image root.
    for (const lib of (env.LD_PRELOAD ?? "").split(/[: ]/).filter((p) => p.startsWith("/"))) mounts.push({ source: lib, target: lib, readOnly: true });
    return mounts.map((m) => ({ ...m, target: resolveInRoot(rootfs.image, m.target) }));
  }

  private view(): PodView {
    const containers: ContainerView[] = this.containers.map((c) => ({
      name: c.spec.name, image: c.spec.image ?? "", init: c.init, restartCount: c.restartCount,
      state: c.state, ...(c.lastState ? { lastState: c.lastState } : {}),
      ready: !c.init && c.running && !!c.prober?.ready,
      started: c.running && (c.prober?.started ?? false),
      ...(c.runId ? { containerID: `process://${c.runId}` } : {}),
    }));
    return {
      ...(this.ip ? { podIP: this.ip } : {}), hostIP: this.ctx.hostIP, startTime: this.startTime,
      sandboxReady: this.sandboxReady && !this.terminating, initDone: this.initDone, containers, stopping: this.terminating,
      ...(this.failure ? { failure: this.failure } : {}), ...(this.pending ? { pending: this.pending } : {}),
    };
  }

  /** Writes the status when it changed; returns it. */
  private async report(): Promise<Pod["status"]> {
    if (this.terminal && this.lastStatus && !this.lastReported) return this.lastStatus; // adopted terminal pod
    const base: Pod = { ...this.pod, status: this.lastStatus ?? this.pod.status };
    const status = podStatus(base, this.view(), new Date().toISOString());
    const text = JSON.stringify(status);
    if (text === this.lastReported) return status;
    const ns = this.pod.metadata?.namespace ?? "";
    const name = this.pod.metadata?.name ?? "";
    try {
      await this.ctx.client.request("PATCH", `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}/status`, {
        contentType: "application/merge-patch+json",
        body: { metadata: { uid: this.uid }, status: { ...status, reason: status.reason ?? null, message: status.message ?? null } },
      });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return status; // deleted meanwhile (or replaced: uid differs)
      throw err;
    }
    this.lastReported = text;
    this.lastStatus = status;
    this.log.debug("status written", { phase: status.phase });
    return status;
  }
}

// The process kubelet: registers its Node, watches the pods bound to it (fieldSelector
// spec.nodeName) plus the ConfigMaps and Secrets they read, and runs one PodWorker per pod.
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap, Pod, Secret } from "kubernetes-types/core/v1.js";
import type { KubeClient } from "../../controller/src/runtime/client.ts";
import { Informer } from "../../controller/src/runtime/informer.ts";
import type { Logger } from "../../controller/src/runtime/log.ts";
import type { ObjectLookups } from "./env.ts";
import type { ImageMap } from "./image-map.ts";
import { IpAllocator } from "./ip-allocator.ts";
import { buildPodLoopback } from "./loopback.ts";
import { NodeHeartbeat } from "./node.ts";
import { PodWorker, type KubeletContext } from "./pod-worker.ts";
import { findTools, MountTargets, Sandbox } from "./sandbox.ts";
import { referencedObjects } from "./volumes.ts";

/** Where every process kubelet on this machine records its claims (pod IPs, mount targets). */
export const defaultRegistryDir = join(tmpdir(), "process-kubelet-registry");

export interface KubeletOptions {
  nodeName: string;
  labels: Record<string, string>;
  capacity: Record<string, string>;
  taint: boolean;
  imageMap: ImageMap;
  imageMapSource: string;
  stateDir: string;
  heartbeatMs: number;
  shutdownGraceSeconds: number;
  backoff: { baseMs: number; maxMs: number };
  kubeletVersion: string;
  /** Preload pod-loopback.c into pod processes (0.0.0.0/127.0.0.1 mean the pod's own IP). */
  podLoopback: boolean;
  /** Machine-wide directory of claims (pod IPs, mount targets) shared by every process kubelet here. */
  registryDir: string;
}

export class ProcessKubelet {
  private readonly client: KubeClient;
  private readonly o: KubeletOptions;
  private readonly log: Logger;
  private readonly pods: Informer<Pod>;
  private readonly configMaps: Informer<ConfigMap>;
  private readonly secrets: Informer<Secret>;
  private readonly workers = new Map<string, PodWorker>();
  private readonly heartbeat: NodeHeartbeat;
  private readonly ctx: KubeletContext;
  private stopping = false;

  constructor(client: KubeClient, o: KubeletOptions, log: Logger) {
    this.client = client;
    this.o = o;
    this.log = log;
    const informerLog = log.with({ component: "informer" });
    this.pods = new Informer<Pod>(client, { gvk: { apiVersion: "v1", kind: "Pod" }, fieldSelector: `spec.nodeName=${o.nodeName}`, log: informerLog, relistPeriodMs: 60_000 });
    // Cluster-wide: pods may reference any ConfigMap or Secret of their namespace (a test cluster is small).
    this.configMaps = new Informer<ConfigMap>(client, { gvk: { apiVersion: "v1", kind: "ConfigMap" }, log: informerLog, relistPeriodMs: 300_000 });
    this.secrets = new Informer<Secret>(client, { gvk: { apiVersion: "v1", kind: "Secret" }, log: informerLog, relistPeriodMs: 300_000 });
    const lookups: ObjectLookups = {
      configMap: (ns, name) => this.configMaps.store.get(`${ns}/${name}`),
      secret: (ns, name) => this.secrets.store.get(`${ns}/${name}`),
    };
    const url = new URL(client.server);
    const tools = findTools();
    this.ctx = {
      client, nodeName: o.nodeName, hostIP: "127.0.0.1",
      apiServer: { host: url.hostname, port: url.port || "443" },
      allocatable: o.capacity, imageMap: o.imageMap, imageMapSource: o.imageMapSource,
      sandbox: Sandbox.create(o.nodeName, tools), mountTargets: new MountTargets(join(o.registryDir, "mount-targets")), ips: new IpAllocator(join(o.registryDir, "ips")),
      lookups, stateDir: o.stateDir, nsenter: findNsenter(), hostEnv: { ...process.env } as Record<string, string>,
      backoff: o.backoff, podLoopbackLib: undefined, log,
    };
    this.heartbeat = new NodeHeartbeat(client, { name: o.nodeName, labels: o.labels, capacity: o.capacity, taint: o.taint, kubeletVersion: o.kubeletVersion },
      o.heartbeatMs, (what, err) => log.warn(`${what} failed`, { err }));
  }

  get workerCount(): number { return this.workers.size; }

  async start(): Promise<void> {
    mkdirSync(join(this.o.stateDir, "pods"), { recursive: true });
    if (!this.ctx.sandbox.cgroupRoot) this.log.warn("pids cgroup not writable: stray child processes are found by process group only");
    await this.ctx.sandbox.sweep();
    this.ctx.mountTargets.sweepStale(); // after the sweep: crashed kubelets' pods are gone now
    if (this.o.podLoopback) {
      const built = buildPodLoopback(this.o.stateDir);
      if ("path" in built) this.ctx.podLoopbackLib = built.path;
      else this.log.warn("pod loopback disabled: pods must bind their POD_IP themselves and cannot reach each other's containers on 127.0.0.1", { err: built.error });
    }
    await this.heartbeat.register();
    this.heartbeat.start();
    // ConfigMaps and Secrets first, so pods find what they reference in the cache.
    const onObject = (kind: "configMaps" | "secrets") => (e: { object: ConfigMap | Secret }): void => {
      const key = `${e.object.metadata?.namespace}/${e.object.metadata?.name}`;
      for (const w of this.workers.values()) {
        const pod = this.pods.store.get(w.name);
        if (pod && referencedObjects(pod)[kind].has(key)) w.sync();
      }
    };
    this.configMaps.on(onObject("configMaps"));
    this.secrets.on(onObject("secrets"));
    this.configMaps.start();
    this.secrets.start();
    await Promise.all([this.configMaps.waitForSync(), this.secrets.waitForSync()]);
    this.pods.on((e) => this.onPod(e.type, e.object));
    this.pods.start();
    await this.pods.waitForSync();
    this.log.info("process kubelet ready", { node: this.o.nodeName, apiServer: this.client.server, stateDir: this.o.stateDir, cgroups: this.ctx.sandbox.cgroupRoot ?? "none", podLoopback: this.ctx.podLoopbackLib ?? "off" });
  }

  private onPod(type: "add" | "update" | "delete", pod: Pod): void {
    if (this.stopping) return;
    const uid = pod.metadata?.uid ?? "";
    if (type === "delete") { this.workers.get(uid)?.removed(); return; }
    // Same name, new UID: the old pod is gone even if we never saw its delete event.
    for (const w of this.workers.values()) if (w.name === `${pod.metadata?.namespace}/${pod.metadata?.name}` && w.uid !== uid) w.removed();
    let w = this.workers.get(uid);
    if (!w) {
      w = new PodWorker(pod, this.ctx);
      this.workers.set(uid, w);
      const worker = w;
      void w.done.then(() => { if (this.workers.get(uid) === worker) this.workers.delete(uid); });
      w.sync();
      return;
    }
    w.update(pod);
  }

  /** Stops every pod's processes, reports the node NotReady, and removes what it created. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.pods.stop();
    await Promise.all([...this.workers.values()].map((w) => w.shutdown(this.o.shutdownGraceSeconds).catch((err) => this.log.error("pod shutdown failed", { pod: w.name, err }))));
    await Promise.all([this.configMaps.stop(), this.secrets.stop()]);
    await this.heartbeat.stop();
    this.ctx.mountTargets.releaseAll();
    this.ctx.ips.releaseAll();
    await this.ctx.sandbox.removeRoot();
    this.log.info("process kubelet stopped", { node: this.o.nodeName });
  }
}

function findNsenter(): string {
  return ["/usr/bin/nsenter", "/bin/nsenter", "/usr/sbin/nsenter"].find((p) => existsSync(p)) ?? "nsenter";
}

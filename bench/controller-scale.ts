// The kernel path at scale, against the baseline of launching the same pods directly, in one run
// on the local control plane (real etcd, kube-apiserver, scheduler, controller-manager; kwok nodes).
//
//   npm run bench:controller-scale [-- --seed 1 --out bench/results --keep-cluster]
//
// Loads, each measured for direct pods first, then for the contract's floor (JupyterKernels with
// no controller: see Mode below), then for JupyterKernels (sidecar role as a child process, the
// production build, watching one namespace); each starts once the API server is idle again:
//   - 300 at 20/s: create -> pod created, -> pod Running, -> kernel status Running (p50/p95/p99);
//   - 2,000 at once: until all Running, then all deleted until every pod is gone;
//   - 5,000 live kernels (no direct baseline): converge, a quiet steady-state window, clean up.
// Also: the controller's RSS and CPU, reconciles, and API requests per kernel by verb, from the
// API server's own metrics (apiserver_request_total) and from the controller's client metrics.
// Writes a Markdown table and a JSON file; prints the table.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { randomUUID } from "node:crypto";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel } from "@elastic-jupyter/api";
import type { KubeObject, WatchEvent } from "../controller/src/runtime/client.ts";
import { desiredKernelPod } from "../controller/src/kernels/pod.ts";
import { statusFromPod } from "../controller/src/kernels/status.ts";
import { applyStatus } from "../controller/src/runtime/apply.ts";
import { API_VERSION, KIND } from "../controller/src/api.ts";
import { CONTROLLER_NODE_FLAGS } from "../controller/test/testing/controller-main.ts";
import { localCluster, root, startSidecar, type Sidecar } from "./lib/local-cluster.ts";
import { dist, prng } from "./lib/stats.ts";

const { values: args } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    out: { type: "string", default: join(root, "bench/results") },
    "keep-cluster": { type: "boolean", default: false },
    rate: { type: "string", default: "20" },
    "rate-count": { type: "string", default: "300" },
    burst: { type: "string", default: "2000" },
    live: { type: "string", default: "5000" },
    nodes: { type: "string", default: "200" },
    concurrency: { type: "string", default: "" },
    entry: { type: "string", default: join(root, "controller/dist/main.js") },
    "node-options": { type: "string", default: CONTROLLER_NODE_FLAGS.join(" ") },
  },
});
const int = (name: keyof typeof args): number => {
  const v = Number(args[name]);
  if (!Number.isInteger(v) || v < 0) { console.error(`--${name} must be a whole number, got ${JSON.stringify(args[name])}`); process.exit(2); }
  return v;
};
const SEED = int("seed"), RATE = int("rate"), RATE_COUNT = int("rate-count"), BURST = int("burst"), LIVE = int("live"), NODES = int("nodes");
const GPUS_PER_NODE = 16;
const CLUSTER = { EJ_CLUSTER_NAME: "bench", EJ_PORT_BASE: "24443", EJ_CPU_NODES: "0", EJ_GPU_NODES: String(NODES), EJ_GPUS_PER_NODE: String(GPUS_PER_NODE) };
const NS = `bench-${SEED}`;
const log = (m: string): void => { process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`); };

// Seeded, so the GPU mix is the same in every run with the same seed.
const random = prng(SEED);

// ---- the cluster ----------------------------------------------------------------------------

log(`starting the local control plane "bench" with ${NODES} kwok GPU nodes x ${GPUS_PER_NODE} GPUs`);
const cluster = localCluster(CLUSTER);
const { jsonKubeconfig, client, kubectl, pidOf } = cluster;
try { kubectl("delete", "namespace", NS, "--wait=true", "--timeout=180s", "--ignore-not-found"); } catch { /* not there */ }
kubectl("create", "namespace", NS);

// ---- what we create ------------------------------------------------------------------------

const POD_GVK = { apiVersion: "v1", kind: "Pod" };
const KERNEL_GVK = { apiVersion: API_VERSION, kind: KIND.kernel };
const SELECTOR = "component=kernel";

/** One kernel as the launcher would create it: spec.template with one container and an id. A
 *  quarter ask for one GPU (seeded); all tolerate the GPU nodes' taint. */
function kernelObject(name: string): JupyterKernel {
  const gpu = random() < 0.25;
  return {
    apiVersion: API_VERSION, kind: KIND.kernel,
    metadata: { name, namespace: NS, labels: { "bench.elastic-jupyter.io/run": String(SEED) } },
    spec: {
      kernelId: randomUUID(),
      template: {
        spec: {
          containers: [{ name: "kernel", image: "bench.local/kernel:1", ...(gpu ? { resources: { limits: { "nvidia.com/gpu": "1" } } } : {}) }],
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        },
      },
    },
  } as JupyterKernel;
}

/** The pod the controller would make for that kernel, without the owner (there is none). */
function directPod(name: string): Pod {
  const k = kernelObject(name);
  const owned = { ...k, metadata: { ...k.metadata, uid: "00000000-0000-0000-0000-000000000000" } } as JupyterKernel;
  const r = desiredKernelPod(owned, undefined, undefined, { bootstrapConfigMap: "elastic-jupyter-kernel-bootstrap" });
  if ("error" in r) throw new Error(r.error.message);
  delete r.pod.metadata!.ownerReferences;
  return r.pod;
}

// ---- watching: when each pod appeared and ran, when each kernel's status said Running ----------

interface Times { created?: number; running?: number; gone?: number; kernelRunning?: number }
const times = new Map<string, Times>();
const at = (name: string): Times => { let t = times.get(name); if (!t) times.set(name, (t = {})); return t; };
let livePods = new Set<string>();
let watchers: AbortController | undefined;

async function watchKind<T extends KubeObject>(gvk: typeof POD_GVK, onEvent: (e: WatchEvent<T>, now: number) => void, signal: AbortSignal): Promise<void> {
  const labelSelector = gvk.kind === "Pod" ? SELECTOR : undefined;
  // A CRD just established answers "storage is (re)initializing" for a moment: retry, briefly.
  let failures = 0;
  const retry = async (err: unknown): Promise<void> => {
    if (signal.aborted) return;
    if (++failures > 50) throw err;
    await sleep(200);
  };
  // The list's resourceVersion can predate a new CRD's watch cache, which then answers the watch
  // with 410 Expired: until an event has been seen, listing again loses nothing, so do that.
  let resourceVersion = "", seen = 0;
  while (!signal.aborted) {
    while (!resourceVersion) {
      try { resourceVersion = (await client.list<T>(gvk, { namespace: NS, labelSelector, limit: 1 })).resourceVersion; } catch (err) { await retry(err); }
    }
    await client.watch<T>(gvk, { namespace: NS, labelSelector, resourceVersion, timeoutSeconds: 600 }, (e) => {
      const now = performance.now();
      if (e.type === "ERROR") {
        const expired = (e.object as { code?: number }).code === 410;
        if (expired && seen === 0) { resourceVersion = ""; throw new Error(`watch ${gvk.kind}: expired before any event; listing again`); }
        throw new Error(`watch ${gvk.kind}: ${JSON.stringify(e.object)}`);
      }
      if (e.object.metadata?.resourceVersion) resourceVersion = e.object.metadata.resourceVersion;
      if (e.type !== "BOOKMARK") { seen++; onEvent(e, now); }
    }, signal).catch(retry);
  }
}

function startWatching(): Promise<unknown> {
  watchers = new AbortController();
  const signal = watchers.signal;
  const pods = watchKind<Pod>(POD_GVK, (e, now) => {
    const name = e.object.metadata!.name!;
    const t = at(name);
    if (e.type === "DELETED") { t.gone ??= now; livePods.delete(name); return; }
    livePods.add(name);
    t.created ??= now;
    if (e.object.status?.phase === "Running") t.running ??= now;
  }, signal);
  const kernels = watchKind<JupyterKernel>(KERNEL_GVK, (e, now) => {
    if (e.type !== "DELETED" && e.object.status?.phase === "Running") at(e.object.metadata!.name!).kernelRunning ??= now;
  }, signal);
  return Promise.all([pods, kernels]);
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!done()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(20);
  }
  return performance.now();
}

/** Waits (at most 30 s) until the API server is back to its idle CPU, so that each load starts
 *  from a quiet cluster rather than in the tail of the previous one's clean-up. */
let idleApiserverCpu = 0;
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const a = sample(apiserverPid).cpuS;
    await sleep(1000);
    if (sample(apiserverPid).cpuS - a <= idleApiserverCpu * 1.5 + 0.03) return;
  }
  log("the API server did not settle within 30 s; going on");
}

/** Runs fn over items with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

// ---- the controller under test -------------------------------------------------------------

interface ProcSample { rssMiB: number; hwmMiB: number; cpuS: number }
/** The controller's V8 heap in use, from its own metrics (prom-client's default metrics); also
 *  where the rest of its memory is (heap committed, external), kept in `memory` by load. */
const memory: Record<string, { heapUsedMiB: number; heapCommittedMiB: number; externalMiB: number; rssAnonMiB: number; rssFileMiB: number }> = {};
async function heapMiB(load?: string): Promise<number> {
  const m = await controllerMetrics();
  const mib = (k: string): number => Math.round(((m.get(k) ?? NaN) / 1048576) * 10) / 10;
  // RSS is anonymous memory (heaps, buffers) plus file pages: mostly the node binary's code and
  // embedded data touched so far (~50 MiB), clean and shared, which the kernel can drop.
  const status = readFileSync(`/proc/${sidecar!.process.pid}/status`, "utf8");
  const kbMiB = (k: string): number => Math.round((Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024) * 10) / 10;
  if (load) memory[load] = { heapUsedMiB: mib("nodejs_heap_size_used_bytes"), heapCommittedMiB: mib("nodejs_heap_size_total_bytes"), externalMiB: mib("nodejs_external_memory_bytes"), rssAnonMiB: kbMiB("RssAnon"), rssFileMiB: kbMiB("RssFile") };
  return (m.get("nodejs_heap_size_used_bytes") ?? NaN) / 1048576;
}
/** Resets the process's peak RSS (VmHWM) to its RSS now, so that a later sample's peak is the load's. */
function resetPeak(pid: number): void { writeFileSync(`/proc/${pid}/clear_refs`, "5"); }
function sample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime (fields 14 and 15)
  return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024, cpuS: ticks / 100 };
}

let sidecar: Sidecar | undefined;
let metricsPort = 0;
async function startController(): Promise<void> {
  sidecar = await startSidecar({
    entry: args.entry!, kubeconfig: jsonKubeconfig, namespace: NS, logFile: join(args.out!, "controller.log"),
    nodeFlags: args["node-options"] ? args["node-options"].split(/\s+/) : [],
    extraArgs: args.concurrency ? ["--concurrency", args.concurrency] : [],
  });
  metricsPort = sidecar.metricsPort;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const text = url.startsWith("/") ? await client.request<string>("GET", url) : await (await fetch(url)).text();
  const out = new Map<string, number>();
  for (const line of String(text).split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
/** Sums series of `metric` whose labels match `where`, grouped by the labels in `by`. */
function sumBy(m: Map<string, number>, metric: string, where: Record<string, string>, by: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [series, v] of m) {
    if (!series.startsWith(metric + "{")) continue;
    const labels = Object.fromEntries([...series.slice(metric.length + 1, -1).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (!Object.entries(where).every(([k, v2]) => labels[k] === v2)) continue;
    const key = by.map((b) => labels[b] ?? "").join(" ");
    out.set(key, (out.get(key) ?? 0) + v);
  }
  return out;
}
const diff = (a: Map<string, number>, b: Map<string, number>): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [k, v] of b) { const d = v - (a.get(k) ?? 0); if (d) out[k] = d; }
  return out;
};
const apiserverRequests = async (resource: string): Promise<Map<string, number>> =>
  sumBy(await scrape("/metrics"), "apiserver_request_total", { resource, group: resource === "pods" ? "" : "kubeflow.tkestack.io" }, ["verb", "subresource"]);
const controllerMetrics = async (): Promise<Map<string, number>> => scrape(`http://127.0.0.1:${metricsPort}/metrics`);

// ---- the loads ------------------------------------------------------------------------------


// "floor": the harness does a kernel's contractual API work itself, with no controller: it creates
// the JupyterKernel, then its pod (owned by it, with no finalizer, as DESIGN.md's contract has it),
// writes the kernel's status once when its watch sees the pod Running (the body the controller
// writes then, by server-side apply), and deletes the pod (uid precondition) right after the
// kernel rather than waiting for the garbage collector. No controller can do less or react sooner,
// so the floor's latency, burst and deletion against the direct pods bound what any controller
// could reach here.
type Mode = "direct" | "floor" | "kernels";
const create = async (mode: Mode, name: string): Promise<void> => {
  if (mode === "direct") await client.create(directPod(name));
  else if (mode === "kernels") await client.create(kernelObject(name));
  else {
    const kernel = await client.create(kernelObject(name));
    const r = desiredKernelPod(kernel, undefined, undefined, { bootstrapConfigMap: "elastic-jupyter-kernel-bootstrap" });
    if ("error" in r) throw new Error(r.error.message);
    const pod = await client.create(r.pod);
    floorObjects.set(name, { kernel, pod });
  }
};
/** The floor's kernels and their pods as created, by name, until removed. */
const floorObjects = new Map<string, { kernel: JupyterKernel & KubeObject; pod: Pod }>();
/** The floor's one status write per kernel, as soon as the harness's watch has seen its pod Running. */
async function floorStatusWrites(names: string[]): Promise<void> {
  await pool(names, 32, async (name) => {
    while (times.get(name)?.running === undefined || !floorObjects.has(name)) await sleep(10);
    const { kernel, pod } = floorObjects.get(name)!;
    const running: Pod = { ...pod, spec: { ...pod.spec!, nodeName: "gpu-node-0" }, status: { phase: "Running", podIP: "10.0.0.1", startTime: pod.metadata!.creationTimestamp, conditions: [{ type: "PodScheduled", status: "True" }, { type: "Ready", status: "True" }] } };
    await applyStatus(client, kernel, statusFromPod(kernel, running, new Date().toISOString()), { fieldManager: "elastic-jupyter" });
  });
}
const remove = async (mode: Mode, name: string): Promise<void> => {
  await client.delete(mode === "direct" ? POD_GVK : KERNEL_GVK, NS, name);
  const pod = mode === "floor" ? floorObjects.get(name)?.pod.metadata : undefined;
  if (pod) {
    // As the sidecar does: the pod goes at once instead of waiting for the garbage collector.
    await client.delete(POD_GVK, NS, pod.name!, { uid: pod.uid });
    floorObjects.delete(name);
  }
};

async function waitGone(names: string[], timeoutMs: number): Promise<number> {
  return until(`${names.length} pods gone`, () => names.every((n) => !livePods.has(n)), timeoutMs);
}

async function rateLoad(mode: Mode): Promise<Record<string, unknown>> {
  const names = Array.from({ length: RATE_COUNT }, (_, i) => `${mode[0]}-rate-${i}`);
  const statusWrites = mode === "floor" ? floorStatusWrites(names) : Promise.resolve();
  const started = new Map<string, number>();
  const interval = 1000 / RATE;
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < names.length; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const name = names[i]!;
    started.set(name, performance.now());
    inflight.push(create(mode, name));
  }
  await Promise.all(inflight);
  await until("all Running", () => names.every((n) => times.get(n)?.running !== undefined && (mode === "direct" || times.get(n)?.kernelRunning !== undefined)), 120_000);
  await statusWrites;
  const lat = (f: (t: Times) => number | undefined): number[] => names.map((n) => f(times.get(n)!)! - started.get(n)!);
  const result = {
    podCreated: mode !== "direct" ? dist(lat((t) => t.created)) : undefined,
    podRunning: dist(lat((t) => t.running)),
    kernelRunning: mode !== "direct" ? dist(lat((t) => t.kernelRunning)) : undefined,
  };
  await pool(names, 32, (n) => remove(mode, n));
  await waitGone(names, 180_000);
  return result;
}

async function burstLoad(mode: Mode, count: number, tag: string, onLive?: () => Promise<void>): Promise<Record<string, number>> {
  const names = Array.from({ length: count }, (_, i) => `${mode[0]}-${tag}-${i}`);
  const t0 = performance.now();
  const statusWrites = mode === "floor" ? floorStatusWrites(names) : Promise.resolve();
  await pool(names, 32, (n) => create(mode, n));
  const created = performance.now();
  const tRunning = await until(`${count} Running`, () => names.every((n) => times.get(n)?.running !== undefined), 600_000);
  const tKernels = mode === "kernels" ? await until(`${count} kernels Running`, () => names.every((n) => times.get(n)?.kernelRunning !== undefined), 600_000) : tRunning;
  await statusWrites;
  if (onLive && count > 0) await onLive();
  const d0 = performance.now();
  await pool(names, 32, (n) => remove(mode, n));
  const tGone = await waitGone(names, 900_000);
  return { createRequestsS: (created - t0) / 1000, allRunningS: (tRunning - t0) / 1000, allKernelsRunningS: (tKernels - t0) / 1000, allGoneS: (tGone - d0) / 1000 };
}

// ---- the run --------------------------------------------------------------------------------

mkdirSync(args.out!, { recursive: true });
const report: Record<string, unknown> = { seed: SEED, nodes: NODES, gpusPerNode: GPUS_PER_NODE, date: new Date().toISOString(), entry: args.entry };
const apiserverPid = pidOf("kube-apiserver");
const watching = startWatching();
watching.catch((err: unknown) => {
  log(`watch failed: ${String(err)}`);
  sidecar?.stop();
  if (!args["keep-cluster"]) cluster.down();
  process.exit(1);
});
await sleep(3000);
{ const a = sample(apiserverPid).cpuS; await sleep(3000); idleApiserverCpu = (sample(apiserverPid).cpuS - a) / 3; }
log(`the API server's idle CPU: ${idleApiserverCpu.toFixed(2)} CPU-s/s`);

try {
  // Direct-pod baselines first (no controller running, so it takes no CPU from them).
  log(`direct pods: ${RATE_COUNT} at ${RATE}/s`);
  await settle();
  const directRate = await rateLoad("direct");
  log(`direct pods: ${BURST} at once`);
  await settle();
  let a0 = sample(apiserverPid);
  const dp0 = await apiserverRequests("pods");
  const directBurst = await burstLoad("direct", BURST, "burst");
  const directBurstApiserverCpuS = sample(apiserverPid).cpuS - a0.cpuS;
  const directPodRequests = diff(dp0, await apiserverRequests("pods"));

  log(`the contract's floor, no controller: ${RATE_COUNT} kernels at ${RATE}/s, their pods created by the harness`);
  await settle();
  const floorRate = await rateLoad("floor");
  log(`the contract's floor, no controller: ${BURST} kernels and their pods created by the harness`);
  await settle();
  a0 = sample(apiserverPid);
  const fk0 = await apiserverRequests("jupyterkernels"), fp0 = await apiserverRequests("pods");
  const floorBurst = await burstLoad("floor", BURST, "burst");
  await until("the floor's kernels gone", () => JSON.parse(kubectl("get", "jupyterkernels", "-n", NS, "-o", "json")).items.length === 0, 120_000);
  const floorBurstApiserverCpuS = sample(apiserverPid).cpuS - a0.cpuS;
  const floorKernelRequests = diff(fk0, await apiserverRequests("jupyterkernels")), floorPodRequests = diff(fp0, await apiserverRequests("pods"));

  log("starting the controller (sidecar role)");
  await startController();
  await sleep(3000);
  const pid = sidecar!.process.pid!;
  const idle = sample(pid);
  const heap: Record<string, number> = { idle: await heapMiB("idle") };

  await settle();
  log(`kernels: ${RATE_COUNT} at ${RATE}/s`);
  let live300 = 0;
  const kernelRate = await (async () => {
    const r = rateLoad("kernels");
    await sleep((RATE_COUNT / RATE) * 1000 + 1000);
    live300 = sample(pid).rssMiB;
    heap.live300 = await heapMiB("live300");
    return r;
  })();

  log(`kernels: ${BURST} at once`);
  await settle();
  a0 = sample(apiserverPid);
  resetPeak(pid);
  const c0 = sample(pid);
  const k0 = await apiserverRequests("jupyterkernels"), p0 = await apiserverRequests("pods"), m0 = await controllerMetrics();
  let live2000 = 0;
  const kernelBurst = await burstLoad("kernels", BURST, "burst", async () => { await sleep(3000); live2000 = sample(pid).rssMiB; heap.live2000 = await heapMiB("live2000"); });
  // Pods are gone; the kernels' deletion has finished when the controller's cache has none left.
  const c1 = sample(pid);
  const kernelBurstApiserverCpuS = sample(apiserverPid).cpuS - a0.cpuS;
  const k1 = await apiserverRequests("jupyterkernels"), p1 = await apiserverRequests("pods"), m1 = await controllerMetrics();
  const perKernel = (d: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(d).map(([k, v]) => [k.trim() || "(none)", Math.round((v / BURST) * 100) / 100]));
  const controllerRequests = diff(sumBy(m0, "elastic_jupyter_api_requests_total", {}, ["verb", "resource"]), sumBy(m1, "elastic_jupyter_api_requests_total", {}, ["verb", "resource"]));
  const reconciles = diff(sumBy(m0, "elastic_jupyter_reconcile_total", { controller: "kernels" }, ["result"]), sumBy(m1, "elastic_jupyter_reconcile_total", { controller: "kernels" }, ["result"]));
  const burstRequests = {
    // The harness only POSTs and DELETEs kernels and watches; every other verb is someone else's.
    apiserverDirectPods: perKernel(directPodRequests),
    apiserverFloorJupyterKernels: perKernel(floorKernelRequests),
    apiserverFloorPods: perKernel(floorPodRequests),
    apiserverJupyterKernels: perKernel(diff(k0, k1)),
    apiserverPods: perKernel(diff(p0, p1)),
    controller: perKernel(controllerRequests),
    reconciles: perKernel(reconciles),
  };

  await settle();
  log(`kernels: ${LIVE} live`);
  let live5000 = 0, steady: Record<string, unknown> = {};
  const e0 = sumBy(await controllerMetrics(), "elastic_jupyter_reconcile_errors_total", {}, []);
  resetPeak(pid);
  const kernelLive = await burstLoad("kernels", LIVE, "live", async () => {
    await sleep(3000);
    live5000 = sample(pid).rssMiB;
    heap.live5000 = await heapMiB("live5000");
    // Steady state: nothing changes for 20 s; the controller should send nothing but watches.
    const s0 = sumBy(await controllerMetrics(), "elastic_jupyter_api_requests_total", {}, ["verb", "resource"]);
    await sleep(20_000);
    const s1 = sumBy(await controllerMetrics(), "elastic_jupyter_api_requests_total", {}, ["verb", "resource"]);
    steady = { windowS: 20, controllerRequests: diff(s0, s1) };
  });
  const e1 = sumBy(await controllerMetrics(), "elastic_jupyter_reconcile_errors_total", {}, []);
  const leftPods = JSON.parse(kubectl("get", "pods", "-n", NS, "-o", "json")).items.length as number;
  await until("kernels gone", () => JSON.parse(kubectl("get", "jupyterkernels", "-n", NS, "-o", "json")).items.length === 0, 300_000);
  const peak = sample(pid);

  Object.assign(report, {
    rate: { count: RATE_COUNT, perSecond: RATE, direct: directRate, floor: floorRate, kernels: kernelRate },
    burst: { count: BURST, direct: { ...directBurst, apiserverCpuS: directBurstApiserverCpuS }, floor: { ...floorBurst, apiserverCpuS: floorBurstApiserverCpuS }, kernels: { ...kernelBurst, apiserverCpuS: kernelBurstApiserverCpuS, controllerCpuS: c1.cpuS - c0.cpuS }, requestsPerKernel: burstRequests },
    live: { count: LIVE, kernels: kernelLive, reconcileErrors: (e1.get("") ?? 0) - (e0.get("") ?? 0), podsLeft: leftPods, steady },
    // Peaks: the most the controller held at any moment of the 2,000 and of the 5,000 kernels' life.
    controllerRssMiB: { idle: idle.rssMiB, live300, live2000, live5000, peak2000: c1.hwmMiB, peak5000: LIVE ? peak.hwmMiB : 0 },
    controllerHeapUsedMiB: heap,
    controllerMemoryMiB: memory,
    controllerNodeOptions: args["node-options"],
  });
} finally {
  watchers?.abort();
  sidecar?.stop();
  try { kubectl("delete", "namespace", NS, "--wait=false"); } catch { /* best effort */ }
  if (!args["keep-cluster"]) cluster.down();
}

writeFileSync(join(args.out!, "controller-scale.json"), JSON.stringify(report, null, 2) + "\n");
const table = formatTable(report);
writeFileSync(join(args.out!, "controller-scale.md"), table);
process.stdout.write(table);
process.exit(0);

function formatTable(r: Record<string, any>): string {
  const ms = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? "—" : `${x.toFixed(1)} ms`);
  const s = (x: number): string => `${x.toFixed(1)} s`;
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const fr = r.rate.floor;
  const dr = r.rate.direct.podRunning, kr = r.rate.kernels.podRunning, kc = r.rate.kernels.podCreated, kk = r.rate.kernels.kernelRunning;
  const db = r.burst.direct, kb = r.burst.kernels, fb = r.burst.floor;
  const rows = [
    ["measure", "direct pods", "JupyterKernels", "ratio", "target"],
    ["---", "---", "---", "---", "---"],
    [`${r.rate.count} at ${r.rate.perSecond}/s: CR → pod created p50 / p95 / p99`, "—", `${ms(kc.p50)} / ${ms(kc.p95)} / ${ms(kc.p99)}`, "", "p99 ≤ 30 ms"],
    [`${r.rate.count} at ${r.rate.perSecond}/s: create → pod Running p50`, ms(dr.p50), ms(kr.p50), ratio(kr.p50, dr.p50), "≤ 1.10×"],
    [`${r.rate.count} at ${r.rate.perSecond}/s: create → pod Running p95`, ms(dr.p95), ms(kr.p95), ratio(kr.p95, dr.p95), ""],
    [`${r.rate.count} at ${r.rate.perSecond}/s: create → pod Running p99`, ms(dr.p99), ms(kr.p99), ratio(kr.p99, dr.p99), "≤ 1.10×"],
    [`${r.rate.count} at ${r.rate.perSecond}/s: create → kernel status Running p50 / p99`, "—", `${ms(kk.p50)} / ${ms(kk.p99)}`, "", ""],
    [`${r.rate.count} at ${r.rate.perSecond}/s, the contract's floor (no controller: the harness creates each kernel, then its pod): CR → pod created p50 / p99`, "—", `${ms(fr.podCreated.p50)} / ${ms(fr.podCreated.p99)}`, "", "bounds the 30 ms row"],
    [`${r.rate.count} at ${r.rate.perSecond}/s, the contract's floor: create → pod Running p50 / p99`, `${ms(dr.p50)} / ${ms(dr.p99)}`, `${ms(fr.podRunning.p50)} / ${ms(fr.podRunning.p99)}`, `${ratio(fr.podRunning.p50, dr.p50)} / ${ratio(fr.podRunning.p99, dr.p99)}`, "bounds the 1.10× rows"],
    [`${r.burst.count} at once: all pods Running`, s(db.allRunningS), s(kb.allRunningS), ratio(kb.allRunningS, db.allRunningS), "≤ 1.25×"],
    [`${r.burst.count} at once: all kernel statuses Running`, "—", s(kb.allKernelsRunningS), "", ""],
    [`${r.burst.count} deleted: all pods gone`, s(db.allGoneS), s(kb.allGoneS), ratio(kb.allGoneS, db.allGoneS), "≤ 1.25×"],
    [`${r.burst.count}: API server CPU, create to gone`, s(db.apiserverCpuS), s(kb.apiserverCpuS), ratio(kb.apiserverCpuS, db.apiserverCpuS), ""],
    [`${r.burst.count} at once / deleted, the contract's floor (no controller: the harness creates and deletes each kernel and its owned pod)`, `${s(db.allRunningS)} / ${s(db.allGoneS)}`, `${s(fb.allRunningS)} / ${s(fb.allGoneS)}`, `${ratio(fb.allRunningS, db.allRunningS)} / ${ratio(fb.allGoneS, db.allGoneS)}`, "bounds the 1.25× rows"],
    [`${r.burst.count}: API server CPU, the contract's floor`, s(db.apiserverCpuS), s(fb.apiserverCpuS), ratio(fb.apiserverCpuS, db.apiserverCpuS), ""],
    [`${r.burst.count}: controller CPU, create to gone`, "—", `${kb.controllerCpuS.toFixed(1)} CPU-s`, "", "≤ 11.3 CPU-s"],
    [`${r.live.count} live: all Running / all gone`, "—", `${s(r.live.kernels.allKernelsRunningS)} / ${s(r.live.kernels.allGoneS)}`, "", "no errors, no pods left"],
    [`${r.live.count} live: reconcile errors / pods left`, "—", `${r.live.reconcileErrors} / ${r.live.podsLeft}`, "", "0 / 0"],
    ["controller RSS idle / 300 / 2,000 / 5,000 live (3 s after all pods Running)", "—", ["idle", "live300", "live2000", "live5000"].map((k) => (r.controllerRssMiB[k] ? r.controllerRssMiB[k].toFixed(0) : "—")).join(" / ") + " MiB", "", ""],
    ["controller peak RSS over the 2,000 / 5,000 kernels' life (creation to deletion)", "—", ["peak2000", "peak5000"].map((k) => (r.controllerRssMiB[k] ? r.controllerRssMiB[k].toFixed(0) : "—")).join(" / ") + " MiB", "", "2,000 ≤ 79 MiB (the seed's operator's peak, 83 MB); 5,000 ≤ 150 MiB"],
    ["controller V8 heap in use, idle / 300 / 2,000 / 5,000 live", "—", ["idle", "live300", "live2000", "live5000"].map((k) => (r.controllerHeapUsedMiB[k] === undefined ? "—" : r.controllerHeapUsedMiB[k].toFixed(0))).join(" / ") + " MiB", "", ""],
    ["controller RSS anonymous / file-backed (node binary), idle / 300 / 2,000 / 5,000 live", "—", ["idle", "live300", "live2000", "live5000"].map((k) => r.controllerMemoryMiB?.[k] ? `${r.controllerMemoryMiB[k].rssAnonMiB.toFixed(0)} + ${r.controllerMemoryMiB[k].rssFileMiB.toFixed(0)}` : "—").join(" / ") + " MiB", "", ""],
    ["controller V8 heap committed / external, idle / 2,000 live", "—", ["idle", "live2000"].map((k) => r.controllerMemoryMiB?.[k] ? `${r.controllerMemoryMiB[k].heapCommittedMiB.toFixed(0)} / ${r.controllerMemoryMiB[k].externalMiB.toFixed(0)}` : "—").join(", ") + " MiB", "", ""],
  ];
  const req = r.burst.requestsPerKernel;
  const fmt = (o: Record<string, number>): string => Object.entries(o).sort().map(([k, v]) => `${k}: ${v}`).join(", ") || "none";
  return [
    `# bench/controller-scale (seed ${r.seed}, ${r.nodes} kwok nodes x ${r.gpusPerNode} GPUs, ${r.date}${r.controllerNodeOptions ? `, controller node options: ${r.controllerNodeOptions}` : ""})`,
    "",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
    `Per kernel over the ${r.burst.count}-kernel burst (creation to deletion):`,
    `- API server, jupyterkernels (verb subresource): ${fmt(req.apiserverJupyterKernels)} (the harness's own: 1 POST, 1 DELETE)`,
    `- API server, pods: ${fmt(req.apiserverPods)} (per direct pod, the baseline: ${fmt(req.apiserverDirectPods)}; the harness's own: 1 POST, 1 DELETE)`,
    `- the contract's floor (no controller), API server: jupyterkernels ${fmt(req.apiserverFloorJupyterKernels)}; pods ${fmt(req.apiserverFloorPods)} (the harness's own: 1 POST, 1 APPLY status and 1 DELETE of the kernel, 1 POST and 1 DELETE of the pod)`,
    `- the controller's client (verb resource): ${fmt(req.controller)}`,
    `- kernel reconciles: ${fmt(req.reconciles)}`,
    r.live.steady.controllerRequests ? `- steady state (${r.live.count} live, ${r.live.steady.windowS} s): controller requests ${fmt(r.live.steady.controllerRequests)}` : "- steady state: not measured (--live 0)",
    "",
  ].join("\n");
}

// How many GPUs elastic kernels save: seeded notebook users replayed, time compressed, through the
// real sidecar (JupyterKernels -> pods, and its idle culler polling the gateway's REST API), the
// real kube-scheduler and kwok GPU nodes on the local control plane. The bench plays Enterprise
// Gateway (it creates JupyterKernels as the launcher does, serves GET/DELETE /api/kernels with
// the replayed users' activity) and the users. Only user behaviour and kernel activity are synthetic.
//
//   npm run bench:gpu-efficiency [-- --quick] [-- --seed 1 --users 100 --out bench/results --keep-cluster]
//
// Every (policy, pool size) runs at once, all replaying the same sessions: one namespace, gateway
// and sidecar per policy, and in it one kernelspec per pool size whose nodeSelector picks that
// pool's own kwok nodes (as one gateway serves several GPU kernelspecs). Policies: static
// (a kernel per notebook from open to close, never culled) and elastic (a kernel started by an
// execution when none is alive, culled after the kernelspec's cullIdleTimeout). Pools: fractions
// of each policy's ideal peak (GPUs held at once if none were ever short), or --pools. Time runs
// C times faster than the users'; a wait counts its time queued for a GPU in simulated time and
// the control plane's own latency as the real time it took (docs/gpu-efficiency.md). Writes
// gpu-efficiency.{json,md} to --out; docs/gpu-efficiency.png comes from the JSON (plot.sh).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel } from "@elastic-jupyter/api";
import type { KubeObject, WatchEvent } from "../../controller/src/runtime/client.ts";
import { API_VERSION, KIND, LABELS } from "../../controller/src/api.ts";
import { localCluster, root, startSidecar, type Sidecar } from "../lib/local-cluster.ts";
import { dist, pct } from "../lib/stats.ts";
import { idealHolds, peakConcurrency, policyName, sampleSessions, TRACE_MODEL, type Policy, type Session } from "./model.ts";
import { poolMetrics, summarize, type PoolEvents } from "./metrics.ts";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    seed: { type: "string", default: "1" },
    users: { type: "string" },
    "horizon-hours": { type: "string" },
    "start-spread-hours": { type: "string" },
    compression: { type: "string", default: "25" },
    "cull-minutes": { type: "string", default: "5,10,30,60" },
    fractions: { type: "string" },
    pools: { type: "string", default: "" },
    "gpus-per-node": { type: "string", default: "64" },
    "target-p95-seconds": { type: "string", default: "30" },
    out: { type: "string", default: join(root, "bench/results") },
    "keep-cluster": { type: "boolean", default: false },
    entry: { type: "string", default: join(root, "controller/dist/main.js") },
    render: { type: "string" },
  },
});
// --render FILE: recompute the summary and the table from a run's JSON (no cluster).
if (args.render) {
  const r = JSON.parse(readFileSync(args.render, "utf8"));
  r.summary = summarize(r.results, [...new Set<string>(r.results.map((x: { policy: string }) => x.policy))], r.targetP95WaitS);
  mkdirSync(args.out!, { recursive: true });
  writeFileSync(join(args.out!, "gpu-efficiency.json"), JSON.stringify(r, null, 2) + "\n");
  writeFileSync(join(args.out!, "gpu-efficiency.md"), formatTable(r));
  process.stdout.write(formatTable(r));
  process.exit(0);
}
const QUICK = args.quick!;
const num = (name: keyof typeof args, fallback: string, check: (v: number) => boolean, what: string): number => {
  const raw = (args[name] as string | undefined) ?? fallback;
  const v = Number(raw);
  if (!check(v)) { console.error(`--${name} must be ${what}, got ${JSON.stringify(raw)}`); process.exit(2); }
  return v;
};
const positive = (v: number): boolean => Number.isFinite(v) && v > 0;
const SEED = num("seed", "1", Number.isInteger, "a whole number");
const USERS = num("users", QUICK ? "20" : "100", (v) => Number.isInteger(v) && v > 0, "a whole number > 0");
const HORIZON_S = num("horizon-hours", QUICK ? "1" : "6", positive, "a positive number of hours") * 3600;
const SPREAD_S = num("start-spread-hours", QUICK ? "0.5" : "3", positive, "a positive number of hours") * 3600;
const C = num("compression", "25", (v) => Number.isInteger(v) && v >= 1, "a whole number >= 1");
const GPUS_PER_NODE = num("gpus-per-node", "64", (v) => Number.isInteger(v) && v > 0, "a whole number > 0");
const TARGET_P95_S = num("target-p95-seconds", "30", positive, "a positive number of seconds");
const list = (name: "cull-minutes" | "fractions", fallback: string): number[] => {
  const raw = args[name] ?? fallback;
  const xs = raw.split(",").map(Number);
  if (!xs.length || xs.some((x) => !positive(x))) { console.error(`--${name} must be a comma-separated list of positive numbers, got ${JSON.stringify(raw)}`); process.exit(2); }
  return xs;
};
const FRACTIONS = list("fractions", QUICK ? "1,1.2" : "0.8,0.9,1,1.1");
// The culler's interval is whole seconds (the CRD's cullInterval, minimum 1) and so are timeouts:
// 1 s real is C simulated seconds, and every timeout must be a whole number of real seconds.
const CULL_INTERVAL_REAL_S = 1;
const POLICIES: Policy[] = [{ kind: "static" }, ...list("cull-minutes", "5,10,30,60").map((m): Policy => ({ kind: "elastic", cullIdleTimeoutS: m * 60 }))];
for (const p of POLICIES) {
  if (p.kind === "elastic" && !Number.isInteger(p.cullIdleTimeoutS / C)) { console.error(`--cull-minutes: ${p.cullIdleTimeoutS / 60} min is not a whole number of real seconds at --compression ${C}`); process.exit(2); }
}
// --pools "static=60,64;elastic-5m=30,34": exact pool sizes for some policies, instead of fractions.
const EXPLICIT_POOLS = new Map<string, number[]>();
for (const part of args.pools!.split(";").filter(Boolean)) {
  const [name, sizes] = part.split("=");
  const xs = (sizes ?? "").split(",").map(Number);
  if (!POLICIES.some((p) => policyName(p) === name) || !xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) {
    console.error(`--pools must look like "static=60,64;elastic-5m=30,34" (policies: ${POLICIES.map(policyName).join(", ")}), got ${JSON.stringify(part)}`);
    process.exit(2);
  }
  EXPLICIT_POOLS.set(name!, xs);
}
const CLUSTER = { EJ_CLUSTER_NAME: "gpubench", EJ_PORT_BASE: "36443", EJ_CPU_NODES: "1", EJ_GPU_NODES: "0", EJ_KWOK_PARALLELISM: "16" };
const POOL_LABEL = "bench.elastic-jupyter.io/pool";
const RUN_LABEL = "bench.elastic-jupyter.io/gpu-efficiency";
const GATEWAY = "bench-gw";
const log = (m: string): void => { process.stderr.write(`[gpu-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`); };

// ---- the pools ------------------------------------------------------------------------------

const sessions = sampleSessions(SEED, USERS, SPREAD_S);
interface Pool {
  /** The policy's namespace (its gateway and sidecar). */
  ns: string;
  /** This pool's kernelspec in it, and the label value of its nodes. */
  kernelspec: string;
  label: string;
  policy: Policy;
  gpus: number;
  fraction: number;
  events: PoolEvents;
  culls: number;
  culledBusy: number;
  /** Real ms from creating a JupyterKernel to its status Running, per kernel start. */
  startLatencyMs: number[];
  /** Per kernel start, real ms from the create to each step the watches saw. */
  stages: Stages[];
}
/** Real ms from a kernel's create: its pod seen, first seen queued for a GPU (pod Unschedulable, or
 *  the kernel's status.reason Queued), bound to a node, Running; the kernel's status Running. */
interface Stages { podCreated?: number; queued?: number; podBound?: number; podRunning?: number; kernelRunning?: number }
/** One policy's namespace: its gateway's kernels by id (GET /api/kernels lists those Running) and its sidecar. */
interface Gateway { ns: string; kernels: Map<string, GwKernel>; sidecar?: Sidecar }
interface GwKernel { id: string; name: string; pool: Pool; running: boolean; busy: boolean; lastActivityMs: number; open: boolean; gone: boolean }

const idealPeak: Record<string, number> = {};
const pools: Pool[] = [];
for (const policy of POLICIES) {
  const peak = peakConcurrency(idealHolds(sessions, policy, C * CULL_INTERVAL_REAL_S, HORIZON_S));
  idealPeak[policyName(policy)] = peak;
  const sizes = EXPLICIT_POOLS.get(policyName(policy)) ?? [...new Set(FRACTIONS.map((f) => Math.max(1, Math.round(peak * f))))];
  for (const gpus of sizes) {
    pools.push({ ns: `gpub-${policyName(policy)}`, kernelspec: `gpu-g${gpus}`, label: `${policyName(policy)}-g${gpus}`, policy, gpus, fraction: gpus / peak, events: { waits: [], execs: [], holds: [] }, culls: 0, culledBusy: 0, startLatencyMs: [], stages: [] });
  }
}
const gateways = new Map(pools.map((p) => [p.ns, { ns: p.ns, kernels: new Map() } as Gateway]));
const poolOfKernel = new Map<string, Pool>(); // ns/name -> pool
const stagesOf = new Map<string, { t: number; s: Stages }>(); // ns/name -> when created, and the steps since
const totalGpus = pools.reduce((a, p) => a + p.gpus, 0);
log(`${USERS} users (seed ${SEED}), horizon ${HORIZON_S / 3600} h simulated at ${C}x (${(HORIZON_S / C / 60).toFixed(1)} min real); ideal peaks ${JSON.stringify(idealPeak)}; ${pools.length} pools, ${totalGpus} GPUs in all`);

// ---- the cluster: nodes per pool, a gateway, a kernelspec and a sidecar per namespace -----------

mkdirSync(args.out!, { recursive: true });
const logDir = join(args.out!, "gpu-efficiency-logs");
mkdirSync(logDir, { recursive: true });
log(`starting the local control plane "${CLUSTER.EJ_CLUSTER_NAME}"`);
const cluster = localCluster(CLUSTER);
const { client, kubectl } = cluster;
const apply = (objects: unknown[]): void => { cluster.kubectlIn(JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }), "apply", "-f", "-"); };

/** Nodes as ci/cluster makes GPU nodes (kwok-managed, the GPU operator's labels and taint), GPUS_PER_NODE each, the rest on one smaller node. */
function poolNodes(p: Pool): unknown[] {
  const sizes = Array.from({ length: Math.floor(p.gpus / GPUS_PER_NODE) }, () => GPUS_PER_NODE);
  if (p.gpus % GPUS_PER_NODE) sizes.push(p.gpus % GPUS_PER_NODE);
  return sizes.map((gpus, i) => {
    const capacity = { cpu: "32", memory: "256Gi", pods: "110", "nvidia.com/gpu": String(gpus) };
    return {
      apiVersion: "v1", kind: "Node",
      metadata: {
        name: `${p.label}-n${i}`,
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: { "kubernetes.io/hostname": `${p.label}-n${i}`, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok", "nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": String(gpus), [POOL_LABEL]: p.label },
      },
      spec: { taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }] },
      status: { allocatable: capacity, capacity },
    };
  });
}

function gatewayObjects(ns: string): unknown[] {
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
    {
      apiVersion: API_VERSION, kind: KIND.gateway, metadata: { name: GATEWAY, namespace: ns },
      // cullConnected: an open notebook tab keeps a connection; culling idle GPU kernels must not wait for it to close.
      spec: { cullInterval: CULL_INTERVAL_REAL_S, cullIdleTimeout: 0, cullConnected: true },
    },
  ];
}
function kernelspecObject(p: Pool): unknown {
  return {
    apiVersion: API_VERSION, kind: KIND.kernelSpec, metadata: { name: p.kernelspec, namespace: p.ns },
    spec: {
      language: "Python", image: "bench.local/pytorch:1", gpu: { count: 1 }, nodeSelector: { [POOL_LABEL]: p.label },
      cullIdleTimeout: p.policy.kind === "elastic" ? p.policy.cullIdleTimeoutS / C : 0,
    },
  };
}

const cleanup: (() => void)[] = [];
let finished = false;
function teardown(): void {
  for (const f of cleanup.reverse()) { try { f(); } catch { /* best effort */ } }
  if (!args["keep-cluster"]) cluster.down();
}
process.on("SIGINT", () => { teardown(); process.exit(130); });

// ---- the gateway's REST API, as Enterprise Gateway serves it, one base URL per namespace ---------

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const m = /^\/([^/]+)\/api\/kernels(?:\/([^/?]+))?/.exec(req.url ?? "");
  const gw = m ? gateways.get(m[1]!) : undefined;
  if (!gw) { res.writeHead(404).end(); return; }
  if (req.method === "GET" && !m![2]) {
    const body = [...gw.kernels.values()].filter((k) => k.running).map((k) => ({
      id: k.id, name: k.pool.kernelspec, last_activity: new Date(k.lastActivityMs).toISOString(),
      execution_state: k.busy ? "busy" : "idle", connections: k.open ? 1 : 0,
    }));
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    return;
  }
  if (req.method === "DELETE" && m![2]) {
    const k = gw.kernels.get(decodeURIComponent(m![2]));
    if (!k) { res.writeHead(404).end(); return; }
    k.pool.culls++;
    if (k.busy) k.pool.culledBusy++;
    shutdown(k).then(() => res.writeHead(204).end(), (e: unknown) => res.writeHead(500).end(String(e)));
    return;
  }
  res.writeHead(405).end();
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const gwPort = (server.address() as AddressInfo).port;
cleanup.push(() => server.close());

/** As the gateway shuts a kernel down: forget it, delete its JupyterKernel. */
async function shutdown(k: GwKernel): Promise<void> {
  gateways.get(k.pool.ns)!.kernels.delete(k.id);
  k.gone = true;
  await client.delete({ apiVersion: API_VERSION, kind: KIND.kernel }, k.pool.ns, k.name);
}

// ---- watching: kernels Running, pods holding GPUs ------------------------------------------------

let t0 = 0;
const simNow = (): number => ((performance.now() - t0) / 1000) * C;
const running = new Map<string, () => void>(); // ns/name -> resolves the start waiting for it
const podHold = new Map<string, { fromS: number; toS?: number }>();
const watchers = new AbortController();

async function watchAll<T extends KubeObject>(gvk: { apiVersion: string; kind: string }, labelSelector: string, onEvent: (e: WatchEvent<T>) => void): Promise<void> {
  let failures = 0;
  const retry = async (err: unknown): Promise<void> => {
    if (watchers.signal.aborted) return;
    if (++failures > 50) throw err;
    await sleep(200);
  };
  let resourceVersion = "";
  while (!resourceVersion) {
    try { resourceVersion = (await client.list<T>(gvk, { labelSelector, limit: 1 })).resourceVersion; } catch (err) { await retry(err); }
  }
  while (!watchers.signal.aborted) {
    await client.watch<T>(gvk, { labelSelector, resourceVersion, timeoutSeconds: 600 }, (e) => {
      if (e.object.metadata?.resourceVersion) resourceVersion = e.object.metadata.resourceVersion;
      if (e.type === "ERROR") throw new Error(`watch ${gvk.kind}: ${JSON.stringify(e.object)}`);
      if (e.type !== "BOOKMARK") onEvent(e);
    }, watchers.signal).catch(retry);
  }
}
const watching = Promise.all([
  watchAll<JupyterKernel>({ apiVersion: API_VERSION, kind: KIND.kernel }, RUN_LABEL, (e) => {
    const key = `${e.object.metadata!.namespace}/${e.object.metadata!.name}`;
    const st = stagesOf.get(key);
    if (st && e.object.status?.reason === "Queued") st.s.queued ??= performance.now() - st.t;
    if (e.type !== "DELETED" && e.object.status?.phase === "Running") running.get(key)?.();
  }),
  watchAll<Pod>({ apiVersion: "v1", kind: "Pod" }, "component=kernel", (e) => {
    const key = `${e.object.metadata!.namespace}/${e.object.metadata!.name}/${e.object.metadata!.uid}`;
    const st = stagesOf.get(`${e.object.metadata!.namespace}/${e.object.metadata!.name}`);
    if (st && e.type !== "DELETED") {
      const ms = performance.now() - st.t;
      st.s.podCreated ??= ms;
      if (e.object.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable")) st.s.queued ??= ms;
      if (e.object.spec?.nodeName) st.s.podBound ??= ms;
      if (e.object.status?.phase === "Running") st.s.podRunning ??= ms;
    }
    let h = podHold.get(key);
    if (!h && e.object.spec?.nodeName && e.type !== "DELETED") {
      podHold.set(key, (h = { fromS: simNow() }));
      poolOfKernel.get(`${e.object.metadata!.namespace}/${e.object.metadata!.name}`)?.events.holds.push(h);
    }
    if (h && e.type === "DELETED") h.toS ??= simNow();
  }),
]);
watching.catch((err: unknown) => { log(`watch failed: ${String(err)}`); teardown(); process.exit(1); });

// ---- kernels and users ------------------------------------------------------------------------

let kernelSeq = 0;
/**
 * Starts a kernel as the launcher does; resolves when its status is Running (undefined if not by
 * the deadline) with the user's wait in simulated seconds. Only the time queued for a GPU is
 * simulated (it ends when another simulated user's kernel goes); the rest is the control plane's
 * real latency, counted as the real seconds it would also take at full scale.
 */
async function startKernel(pool: Pool, user: number, deadlineS: number): Promise<{ kernel: GwKernel; waitS: number; queueS: number } | undefined> {
  const name = `g${pool.gpus}-u${user}-k${kernelSeq++}`;
  const k: GwKernel = { id: randomUUID(), name, pool, running: false, busy: false, lastActivityMs: Date.now(), open: true, gone: false };
  gateways.get(pool.ns)!.kernels.set(k.id, k);
  poolOfKernel.set(`${pool.ns}/${name}`, pool);
  const isRunning = new Promise<void>((r) => running.set(`${pool.ns}/${name}`, r));
  const t = performance.now();
  const stages: Stages = {};
  stagesOf.set(`${pool.ns}/${name}`, { t, s: stages });
  await client.create({
    apiVersion: API_VERSION, kind: KIND.kernel,
    metadata: { name, namespace: pool.ns, labels: { [LABELS.gateway]: GATEWAY, [RUN_LABEL]: String(SEED) } },
    spec: { kernelId: k.id, kernelSpec: { name: pool.kernelspec }, username: `user-${user}` },
  } as JupyterKernel);
  const horizon = sleep(Math.max(0, ((deadlineS - simNow()) / C) * 1000), "horizon" as const, { signal: watchers.signal }).catch(() => "horizon" as const);
  const got = await Promise.race([isRunning.then(() => "running" as const), horizon]);
  running.delete(`${pool.ns}/${name}`);
  if (got !== "running") return undefined;
  const totalMs = performance.now() - t;
  pool.startLatencyMs.push(totalMs);
  stages.kernelRunning = totalMs;
  pool.stages.push(stages);
  stagesOf.delete(`${pool.ns}/${name}`);
  k.running = true;
  k.lastActivityMs = Date.now();
  const queueMs = stages.queued !== undefined ? Math.max(0, (stages.podBound ?? totalMs) - stages.queued) : 0;
  return { kernel: k, waitS: (totalMs - queueMs) / 1000 + (queueMs / 1000) * C, queueS: (queueMs / 1000) * C };
}

const sleepSim = (s: number): Promise<void> => sleep((s / C) * 1000);
const sleepUntilSim = (s: number): Promise<void> => sleep(Math.max(0, ((s - simNow()) / C) * 1000));

/** One user's session in one pool. */
async function replay(pool: Pool, s: Session): Promise<void> {
  await sleepUntilSim(s.startS);
  let kernel: GwKernel | undefined;
  // A start's control-plane latency passes C times too fast in simulated time, but counts as its
  // real duration in the wait: the user makes the difference up from the next think times.
  let aheadS = 0;
  const think = (thinkS: number): Promise<void> => { const d = Math.min(aheadS, thinkS); aheadS -= d; return sleepSim(thinkS - d); };
  const started = async (wantS: number): Promise<{ kernel: GwKernel; waitS: number; queueS: number } | undefined> => {
    const r = await startKernel(pool, s.user, HORIZON_S);
    if (r) aheadS += Math.max(0, simNow() - wantS - r.waitS);
    return r;
  };
  if (pool.policy.kind === "static") {
    const wantS = simNow();
    const r = await started(wantS);
    pool.events.waits.push({ kind: "open", wantS, cold: true, ...(r ? { waitS: r.waitS, queueS: r.queueS } : {}) });
    if (!r) return;
    kernel = r.kernel;
  }
  for (const e of s.executions) {
    await think(e.thinkS);
    if (simNow() >= HORIZON_S || finished) return;
    if (pool.policy.kind === "elastic") {
      const wantS = simNow();
      const cold = !kernel || kernel.gone;
      if (!cold) pool.events.waits.push({ kind: "exec", wantS, cold, waitS: 0, queueS: 0 });
      else {
        const r = await started(wantS);
        pool.events.waits.push({ kind: "exec", wantS, cold, ...(r ? { waitS: r.waitS, queueS: r.queueS } : {}) });
        if (!r) return;
        kernel = r.kernel;
      }
    }
    kernel!.busy = true;
    kernel!.lastActivityMs = Date.now();
    const fromS = simNow();
    await sleepSim(e.execS);
    kernel!.busy = false;
    kernel!.lastActivityMs = Date.now();
    pool.events.execs.push({ fromS, toS: simNow() });
  }
  await think(s.closeAfterS);
  if (simNow() >= HORIZON_S || finished || !kernel) return;
  // Closing the notebook: static shuts its kernel down; an elastic kernel is left to the culler
  // (as most users leave theirs), with no client connected any more.
  kernel.open = false;
  if (pool.policy.kind === "static" && !kernel.gone) await shutdown(kernel);
}

// ---- the run ------------------------------------------------------------------------------------

const report: Record<string, unknown> = {
  date: new Date().toISOString(), seed: SEED, users: USERS, quick: QUICK, compression: C,
  horizonHours: HORIZON_S / 3600, startSpreadHours: SPREAD_S / 3600, gpusPerNode: GPUS_PER_NODE,
  cullIntervalSimulatedS: CULL_INTERVAL_REAL_S * C, targetP95WaitS: TARGET_P95_S, model: TRACE_MODEL,
  fractions: FRACTIONS, pools: args.pools || undefined, idealPeak,
};
try {
  log(`creating ${gateways.size} namespaces, ${pools.length} kernelspecs and their kwok nodes`);
  apply([...gateways.keys()].flatMap(gatewayObjects));
  apply(pools.flatMap(poolNodes));
  const wantNodes = pools.flatMap(poolNodes).length;
  for (let i = 0; ; i++) {
    const nodes = JSON.parse(kubectl("get", "nodes", "-o", "json")).items as { spec?: { taints?: { key: string }[] }; status?: { conditions?: { type: string; status: string }[] } }[];
    const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") && !n.spec?.taints?.some((t) => t.key.startsWith("node.kubernetes.io/"))).length;
    if (ready >= wantNodes) break;
    if (i > 300) throw new Error(`only ${ready} of ${wantNodes} nodes became Ready`);
    await sleep(500);
  }
  apply(pools.map(kernelspecObject));
  log(`starting ${gateways.size} sidecars`);
  for (const gw of gateways.values()) {
    const sidecar = await startSidecar({
      entry: args.entry!, kubeconfig: cluster.kubeconfig, namespace: gw.ns, logFile: join(logDir, `${gw.ns}.log`),
      extraArgs: ["--gateway", GATEWAY, "--gateway-url", `http://127.0.0.1:${gwPort}/${gw.ns}`, "--leader-elect=false"],
    });
    gw.sidecar = sidecar;
    cleanup.push(() => sidecar.stop());
  }

  // Calibration, on the largest static pool before the replay: the real create -> Running ->
  // gone round trip with GPUs free (the latency floor every cold start pays). The first one also
  // waits out the garbage collector and the caches warming up; it is not counted.
  const probe = pools.find((p) => p.policy.kind === "static")!;
  t0 = performance.now();
  const probeMs: number[] = [];
  for (let i = 0; i < 11; i++) {
    const t = performance.now();
    const started = await startKernel(probe, 100_000 + i, simNow() + 120 * C);
    if (!started) throw new Error("calibration kernel never ran");
    if (i > 0) probeMs.push(performance.now() - t);
    await shutdown(started.kernel);
  }
  probe.startLatencyMs.length = 0;
  probe.stages.length = 0;
  for (let i = 0; ; i++) {
    if (![...podHold.values()].some((h) => h.toS === undefined)) break;
    if (i > 600) throw new Error("calibration pods did not go away");
    await sleep(100);
  }
  podHold.clear();
  probe.events.holds.length = 0;
  report.calibration = { kernelStartRealMs: dist(probeMs), kernelStartSimulatedS: dist(probeMs.map((ms) => (ms / 1000) * C)) };
  log(`calibration: create -> Running p50 ${pct(probeMs, 50).toFixed(0)} ms, p95 ${pct(probeMs, 95).toFixed(0)} ms real (${((pct(probeMs, 95) / 1000) * C).toFixed(1)} s simulated)`);

  log(`replaying ${USERS} sessions in ${pools.length} pools for ${(HORIZON_S / C / 60).toFixed(1)} min`);
  t0 = performance.now();
  const apiserverCpu0 = cpuS(cluster.pidOf("kube-apiserver")), schedulerCpu0 = cpuS(cluster.pidOf("kube-scheduler"));
  const users = pools.flatMap((p) => sessions.map((s) => replay(p, s).catch((e: unknown) => { log(`${p.ns} user ${s.user}: ${String(e)}`); throw e; })));
  const progress = setInterval(() => {
    const waiting = pools.map((p) => `${p.label}:${[...gateways.get(p.ns)!.kernels.values()].filter((k) => k.pool === p && !k.running).length}`).filter((x) => !x.endsWith(":0"));
    log(`t=${(simNow() / 3600).toFixed(2)} h; kernels waiting for a GPU: ${waiting.join(" ") || "none"}`);
  }, 60_000);
  cleanup.push(() => clearInterval(progress));
  await sleepUntilSim(HORIZON_S);
  finished = true;
  const endS = simNow();
  report.cpuDuringReplayS = { apiserver: cpuS(cluster.pidOf("kube-apiserver")) - apiserverCpu0, scheduler: cpuS(cluster.pidOf("kube-scheduler")) - schedulerCpu0, sidecars: [...gateways.values()].reduce((a, g) => a + cpuS(g.sidecar!.process.pid!), 0) };
  log(`horizon reached (${(endS / 3600).toFixed(2)} h simulated); collecting`);

  const results = pools.map((p) => ({
    policy: policyName(p.policy), namespace: p.ns, kernelspec: p.kernelspec, pool: p.gpus, fractionOfIdealPeak: p.fraction,
    metrics: poolMetrics(p.events, HORIZON_S), culls: p.culls, culledWhileBusy: p.culledBusy,
    kernelStartRealMs: dist(p.startLatencyMs),
    kernelStartStagesRealMs: Object.fromEntries((["podCreated", "podBound", "podRunning", "kernelRunning"] as const).map((k) => [k, dist(p.stages.map((x) => x[k]).filter((x) => x !== undefined))])),
  }));
  // Trace coverage: what the horizon cut off (sessions longer than the run).
  const planned = sessions.reduce((a, s) => a + s.executions.length, 0);
  Object.assign(report, {
    results, summary: summarize(results, POLICIES.map(policyName), TARGET_P95_S),
    trace: { sessions: sessions.length, executionsPlanned: planned, executionsReplayedStatic: results.find((r) => r.policy === "static" && r.fractionOfIdealPeak === 1)?.metrics.executions },
    realLatencyFloorMs: { calibration: report.calibration, atIdealPeak: dist(pools.filter((p) => p.fraction === 1).flatMap((p) => p.startLatencyMs)) },
  });
} finally {
  finished = true;
  watchers.abort();
  teardown();
}

writeFileSync(join(args.out!, "gpu-efficiency.json"), JSON.stringify(report, null, 2) + "\n");
const table = formatTable(report);
writeFileSync(join(args.out!, "gpu-efficiency.md"), table);
process.stdout.write(table);
process.exit(0);

function cpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

function formatTable(r: Record<string, any>): string {
  const s = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? "—" : `${x.toFixed(1)} s`);
  const p = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? "—" : `${(x * 100).toFixed(0)}%`);
  const head = `# bench/gpu-efficiency (seed ${r.seed}, ${r.users} users, ${r.horizonHours} h simulated at ${r.compression}x, ${r.date}${r.quick ? ", --quick" : ""})`;
  const summary = [
    `Smallest pool whose p95 GPU wait (time queued for a GPU, simulated) is ≤ ${r.targetP95WaitS} s; pools tried: ${r.pools ? `${r.pools}; others ` : ""}fractions ${r.fractions.join(", ")} of each policy's ideal peak. The measured wait adds this machine's control-plane latency, in real seconds (see below).`,
    "",
    "| policy | GPUs (pools tried) | GPU wait p50 / p95 | measured wait p50 / p95 | allocation efficiency | cold-start rate | static GPUs / this |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...r.summary.map((x: any) => `| ${x.policy} | ${x.smallestPool === undefined ? `none (${x.testedPools.join(", ")})` : `${x.atMost ? "≤ " : ""}${x.smallestPool} (${x.testedPools.join(", ")})`} | ${s(x.at?.queueP50S)} / ${s(x.at?.queueP95S)} | ${s(x.at?.waitP50S)} / ${s(x.at?.waitP95S)} | ${p(x.at?.allocationEfficiency)} | ${x.policy === "static" ? "— (starts at open)" : p(x.at?.coldStartRate)} | ${x.staticOverThis ? `${x.staticOverThis.toFixed(2)}×` : "—"} |`),
  ];
  const sweep = [
    "| policy | GPUs (× ideal peak) | waits | queued for a GPU | GPU wait p50 / p95 | measured wait p50 / p95 / max | unfinished | allocation efficiency | cold-start rate | culls | kernel start p50 / p95 (real) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...r.results.map((x: any) => `| ${x.policy} | ${x.pool} (${x.fractionOfIdealPeak.toFixed(2)}) | ${x.metrics.waits} | ${x.metrics.queued} | ${s(x.metrics.queueP50S)} / ${s(x.metrics.queueP95S)} | ${s(x.metrics.waitP50S)} / ${s(x.metrics.waitP95S)} / ${s(x.metrics.waitMaxS)} | ${x.metrics.unfinishedWaits} | ${p(x.metrics.allocationEfficiency)} | ${p(x.metrics.coldStartRate)} | ${x.culls}${x.culledWhileBusy ? ` (${x.culledWhileBusy} busy)` : ""} | ${x.kernelStartRealMs.p50.toFixed(0)} / ${x.kernelStartRealMs.p95.toFixed(0)} ms |`),
  ];
  const cal = r.calibration.kernelStartRealMs;
  return [
    head, "", ...summary, "",
    `Latency floor (calibration, GPUs free): JupyterKernel create → status Running p50 ${cal.p50.toFixed(0)} ms, p95 ${cal.p95.toFixed(0)} ms real = ${((cal.p50 / 1000) * r.compression).toFixed(1)} / ${((cal.p95 / 1000) * r.compression).toFixed(1)} s simulated. Cull interval ${r.cullIntervalSimulatedS} s simulated (1 s real).`,
    `Trace: ${r.trace.sessions} sessions, ${r.trace.executionsPlanned} executions planned, ${r.trace.executionsReplayedStatic ?? "—"} started before the horizon (static, ideal peak). CPU during the replay: API server ${r.cpuDuringReplayS.apiserver.toFixed(0)} s, scheduler ${r.cpuDuringReplayS.scheduler.toFixed(0)} s, sidecars ${r.cpuDuringReplayS.sidecars.toFixed(0)} s.`,
    "", "Every pool:", "", ...sweep, "",
  ].join("\n");
}

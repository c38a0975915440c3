// Controllers and the manager against the real API server: a toy controller that mirrors each
// ConfigMap into a Secret it owns. Covers the owns-watch, retries with backoff, requeue-after,
// leader-only reconciling with two managers, hand-over on graceful stop, probes and metrics.
import { expect } from "chai";
import { freshNamespace, getJson, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { applyObject, ownedBy } from "../../src/runtime/apply.ts";
import { KubeClient, splitKey, type KubeObject } from "../../src/runtime/client.ts";
import type { ControllerSpec } from "../../src/runtime/controller.ts";
import { Manager, type ManagerConfig } from "../../src/runtime/manager.ts";

const configMaps = { apiVersion: "v1", kind: "ConfigMap" };
const secrets = { apiVersion: "v1", kind: "Secret" };
interface ConfigMap extends KubeObject { data?: Record<string, string> }
interface Secret extends KubeObject { data?: Record<string, string> }

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("controller and manager (real API server)", function () {
  this.timeout(120_000);
  let client: KubeClient;
  let ns: string;
  const managers: Manager[] = [];

  before(async () => {
    client = KubeClient.fromConfig(testCluster.kubeconfig);
    ns = await freshNamespace("rt-ctrl");
  });
  afterEach(async () => { await Promise.all(managers.splice(0).map((m) => m.stop())); });
  after(async () => { await kubectlOk(["delete", "namespace", ns, "--wait=false"]); });

  function config(identity: string, over: Partial<ManagerConfig> = {}): ManagerConfig {
    return {
      namespace: ns, leaderElect: false, leaseName: "toy", leaseNamespace: ns, identity,
      leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300, concurrency: 2,
      metricsAddr: { host: "127.0.0.1", port: 0 }, ...over,
    };
  }

  /** The toy reconciler: Secret "<cm>-copy" holds the ConfigMap's data and who wrote it. */
  function mirror(identity: string, calls: string[], opts: { failFirst?: number; requeueAfterMs?: number } = {}): (mgr: Manager) => ControllerSpec {
    const failures = new Map<string, number>();
    return (mgr) => ({
      name: "mirror",
      for: configMaps,
      owns: [secrets],
      reconcile: async (key) => {
        calls.push(key);
        const { namespace, name } = splitKey(key);
        const cm = mgr.cache.get<ConfigMap>(configMaps, namespace, name);
        if (!cm || name === "kube-root-ca.crt") return; // deleted: garbage collection removes the copy
        const n = failures.get(key) ?? 0;
        if (n < (opts.failFirst ?? 0)) { failures.set(key, n + 1); throw new Error(`planned failure ${n + 1}`); }
        const data: Record<string, string> = {};
        for (const [k, v] of Object.entries(cm.data ?? {})) data[k] = b64(v);
        await applyObject(mgr.client, ownedBy<Secret>({ apiVersion: "v1", kind: "Secret", metadata: { name: `${name}-copy`, namespace, annotations: { "reconciled-by": identity } }, data }, cm));
        return opts.requeueAfterMs ? { requeueAfterMs: opts.requeueAfterMs } : undefined;
      },
    });
  }

  const copyOf = (name: string) => client.get<Secret>(secrets, ns, `${name}-copy`);

  it("reconciles creates and updates, and restores an owned object deleted behind its back", async () => {
    const calls: string[] = [];
    const mgr = new Manager({ client, config: config("solo") });
    managers.push(mgr);
    mgr.add(mirror("solo", calls)(mgr));
    await mgr.start();
    expect(mgr.controllersRunning).to.equal(true);

    await client.create<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "m1", namespace: ns }, data: { a: "1" } });
    await waitFor("the copy", async () => (await copyOf("m1"))?.data?.a === b64("1"), 15_000, 50);
    await kubectlOk(["-n", ns, "patch", "configmap", "m1", "--type=merge", "-p", '{"data":{"a":"2"}}']);
    await waitFor("the updated copy", async () => (await copyOf("m1"))?.data?.a === b64("2"), 15_000, 50);

    // The Secret is owned: deleting it wakes its owner, which recreates it.
    const before = (await copyOf("m1"))!.metadata!.uid;
    await client.delete(secrets, ns, "m1-copy");
    await waitFor("a new copy", async () => { const s = await copyOf("m1"); return s && s.metadata?.uid !== before; }, 15_000, 50);

    // Probes and metrics on the manager's port.
    const base = `http://127.0.0.1:${mgr.metricsPort}`;
    expect((await fetch(`${base}/readyz`)).status).to.equal(200);
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).to.match(/elastic_jupyter_reconcile_total\{controller="mirror",result="success"\} [1-9]/);
    expect(metrics).to.match(/elastic_jupyter_reconcile_duration_seconds_count\{controller="mirror"\} [1-9]/);
    expect(metrics).to.include('elastic_jupyter_workqueue_depth{controller="mirror"}');
    expect(metrics).to.include("elastic_jupyter_kernels");
    expect(metrics).to.include("elastic_jupyter_gpus_requested");
  });

  it("retries a failing reconcile with backoff until it succeeds, and counts the errors", async () => {
    const calls: string[] = [];
    const mgr = new Manager({ client, config: config("retry") });
    managers.push(mgr);
    mgr.add(mirror("retry", calls, { failFirst: 3 })(mgr));
    await mgr.start();
    await client.create<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "flaky", namespace: ns }, data: { x: "y" } });
    await waitFor("the copy after retries", async () => (await copyOf("flaky"))?.data?.x === b64("y"), 15_000, 50);
    expect(calls.filter((k) => k === `${ns}/flaky`).length).to.be.at.least(4);
    const metrics = await (await fetch(`http://127.0.0.1:${mgr.metricsPort}/metrics`)).text();
    expect(metrics).to.match(/elastic_jupyter_reconcile_errors_total\{controller="mirror"\} [3-9]/);
  });

  it("requeues after the requested delay without any event", async () => {
    const calls: string[] = [];
    const mgr = new Manager({ client, config: config("ticker") });
    managers.push(mgr);
    mgr.add(mirror("ticker", calls, { requeueAfterMs: 200 })(mgr));
    await mgr.start();
    await client.create<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ticking", namespace: ns } });
    await waitFor("five ticks", async () => calls.filter((k) => k === `${ns}/ticking`).length >= 5, 10_000, 50);
  });

  it("queues every primary object again on the resync period, without events", async () => {
    const calls: string[] = [];
    const mgr = new Manager({ client, config: config("resync") });
    managers.push(mgr);
    mgr.add({ ...mirror("resync", calls)(mgr), resyncPeriodMs: 300 });
    await client.create<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "quiet", namespace: ns } });
    await mgr.start();
    await waitFor("three passes over the quiet object", async () => calls.filter((k) => k === `${ns}/quiet`).length >= 3, 10_000, 50);
  });

  it("is not ready while a cache cannot sync, and start() fails naming the kind and the API's error", async () => {
    const mgr = new Manager({ client, config: config("unsyncable"), syncTimeoutMs: 2000, informer: { backoffBaseMs: 100 } });
    managers.push(mgr);
    mgr.add({ name: "ghost", for: { apiVersion: "nowhere.example.com/v1", kind: "Ghost" }, reconcile: async () => {} });
    const started = mgr.start().catch((e: unknown) => e);
    await waitFor("the probe server", async () => mgr.metricsPort > 0, 5000, 20);
    const ready = await fetch(`http://127.0.0.1:${mgr.metricsPort}/readyz`);
    expect(ready.status).to.equal(503);
    expect(await ready.text()).to.include("caches not synced");
    const err = await started;
    expect(String(err)).to.match(/Ghost \(nowhere.example.com\/v1\) informer not synced after 2000 ms: last error: .*nowhere.example.com\/v1/);
  });

  it("stops its controllers the moment it loses the lease, and resumes when it wins it back", async () => {
    const calls: string[] = [];
    const mgr = new Manager({ client, config: config("fickle", { leaderElect: true, leaseName: "lost-and-found" }) });
    managers.push(mgr);
    mgr.add(mirror("fickle", calls)(mgr));
    await mgr.start();
    await waitFor("leading with controllers running", async () => mgr.isLeader && mgr.controllersRunning, 10_000, 20);
    // Another holder appears (as after a partition): our renewals fail, we must stop acting.
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
    await kubectlOk(["-n", ns, "patch", "lease", "lost-and-found", "--type=merge", "-p", JSON.stringify({ spec: { holderIdentity: "intruder", renewTime: now, leaseDurationSeconds: 3 } })]);
    const t0 = Date.now();
    await waitFor("controllers stopped", async () => !mgr.isLeader && !mgr.controllersRunning, 10_000, 20);
    expect(Date.now() - t0).to.be.below(2000 + 300 + 700); // renew deadline + retry period + slack
    await client.create<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "while-not-leading", namespace: ns } });
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).to.not.include(`${ns}/while-not-leading`);
    // The intruder never renews: its 3 s lease expires and we lead again, catching up on the object.
    await waitFor("leading again", async () => mgr.isLeader && mgr.controllersRunning, 10_000, 20);
    await waitFor("the object created meanwhile reconciled", async () => (await copyOf("while-not-leading")) !== undefined, 10_000, 50);
  });

  it("with two managers only the leader reconciles; a graceful stop hands over in about a retry period", async () => {
    const callsA: string[] = [], callsB: string[] = [];
    const a = new Manager({ client, config: config("mgr-a", { leaderElect: true, leaseName: "two-managers" }) });
    const b = new Manager({ client, config: config("mgr-b", { leaderElect: true, leaseName: "two-managers" }) });
    managers.push(a, b);
    a.add(mirror("mgr-a", callsA)(a));
    b.add(mirror("mgr-b", callsB)(b));
    await a.start();
    await waitFor("a to lead", async () => a.isLeader, 10_000, 50);
    await b.start();
    // Both are ready (caches synced); only a leads.
    expect((await fetch(`http://127.0.0.1:${b.metricsPort}/readyz`)).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.isLeader).to.equal(false);
    expect(b.controllersRunning).to.equal(false);

    await client.create<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "led", namespace: ns }, data: { k: "v" } });
    await waitFor("the leader's copy", async () => (await copyOf("led"))?.metadata?.annotations?.["reconciled-by"] === "mgr-a", 15_000, 50);
    expect(callsB).to.deep.equal([]);

    const t0 = Date.now();
    await a.stop();
    await waitFor("b to lead", async () => b.isLeader && b.controllersRunning, 10_000, 20);
    expect(Date.now() - t0).to.be.below(300 * 1.2 + 1500);
    // b starts with a full pass over the cache, and reconciles new objects.
    await client.create<ConfigMap>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "after-handover", namespace: ns }, data: { k: "v" } });
    await waitFor("b's copy", async () => (await copyOf("after-handover"))?.metadata?.annotations?.["reconciled-by"] === "mgr-b", 15_000, 50);
    expect(callsB).to.include(`${ns}/led`);
    const lease = await getJson<{ spec: { holderIdentity: string } }>(["-n", ns, "get", "lease", "two-managers"]);
    expect(lease.spec.holderIdentity).to.equal("mgr-b");
  });
});

// GPU policy on the real local control plane: the sidecar (a real process) admits GPU kernels under
// its gateway's and kernelspecs' gpuPolicy: per-kernel, per-user and per-namespace limits, refusals
// with the limit in words, a fair queue with positions in status and Events, its timeout, and a
// full cluster (the real scheduler finds no node) queueing kernels rather than failing them.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { freshNamespace, getJson, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";

const GPU = "nvidia.com/gpu";
const API = "kubeflow.tkestack.io/v1alpha1";

describe("sidecar: GPU policy and the fair GPU queue (controller as a real process)", function () {
  this.timeout(180_000);
  let ns: string;
  let controller: ControllerProcess;

  const apply = (obj: object) => kubectlOk(["-n", ns, "apply", "--server-side", "--field-manager=test", "--force-conflicts", "-f", "-"], JSON.stringify(obj));
  const kernelspec = (name: string, gpuPolicy: object, gpu: object = { count: 1, max: 4 }, more: object = {}) =>
    apply({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name }, spec: { language: "Python", displayName: name, image: "registry.example/pytorch:2", gpu, gpuPolicy, ...more } });
  const kernel = async (name: string, spec: string, user: string, more: object = {}) => {
    await apply({ apiVersion: API, kind: "JupyterKernel", metadata: { name, labels: { "kubeflow.tkestack.io/gateway": "gw" } }, spec: { kernelId: randomUUID(), kernelSpec: { name: spec }, username: user, ...more } });
    await new Promise((r) => setTimeout(r, 20)); // distinct creation order for the queue
  };
  const status = async (name: string) => (await getJson(["-n", ns, "get", "jupyterkernel", name])).status ?? {};
  const until = (name: string, what: string, ok: (s: any) => boolean, ms = 30_000) =>
    waitFor(`${name}: ${what}`, async () => { const s = await status(name); return ok(s) ? s : undefined; }, ms);
  const events = async (name: string) =>
    ((await getJson(["-n", ns, "get", "events", "--field-selector", `involvedObject.name=${name},involvedObject.kind=JupyterKernel`])).items as any[]).map((e) => `${e.reason}: ${e.message}`);
  const remove = (...names: string[]) => kubectlOk(["-n", ns, "delete", "jupyterkernel", "--wait=true", ...names]);

  before(async () => {
    await installCrds();
    ns = await freshNamespace("gpuq");
    await apply({ apiVersion: API, kind: "JupyterGateway", metadata: { name: "gw" }, spec: { launchTimeout: 300 } });
    controller = startController([
      "--role", "sidecar", "--namespace", ns, "--gateway", "gw", "--kubeconfig", testCluster.kubeconfig,
      "--metrics-addr", "127.0.0.1:0", "--kernels-dir", mkdtempSync(join(tmpdir(), "ej-kernels-")), "--leader-elect=false",
    ]);
  });

  // Each test starts with no kernel holding or waiting for GPUs, whatever the one before left.
  afterEach(() => kubectlOk(["-n", ns, "delete", "jupyterkernel", "--all", "--wait=true"]));

  after(async () => {
    const code = await controller?.stop();
    expect(code, `controller exit code (log: ${controller?.logFile})`).to.equal(0);
  });

  it("per kernel: more than maxPerKernel fails at once with the limit named", async () => {
    await kernelspec("per-kernel", { maxPerKernel: { [GPU]: 2 } });
    await kernel("k-big", "per-kernel", "alice", { gpus: 3 });
    const s = await until("k-big", "Failed", (s) => s.phase === "Failed");
    expect(s.reason).to.equal("GPULimitExceeded");
    expect(s.message).to.equal("the kernel asks for 3 nvidia.com/gpu, more than the 2 JupyterKernelSpec per-kernel allows per kernel (gpuPolicy.maxPerKernel)");
    expect(await events("k-big")).to.include(`GPULimitExceeded: ${s.message}`);
  });

  it("per user, whenFull Fail: a user's second GPU kernel is refused with what they hold; another user's runs", async () => {
    await kernelspec("per-user", { maxPerUser: { [GPU]: 1 }, whenFull: "Fail" });
    await kernel("u-alice-1", "per-user", "alice");
    await until("u-alice-1", "Running", (s) => s.phase === "Running");
    await kernel("u-alice-2", "per-user", "alice");
    await kernel("u-bob-1", "per-user", "bob");
    const refused = await until("u-alice-2", "Failed", (s) => s.phase === "Failed");
    expect(refused.reason).to.equal("GPUQuotaExceeded");
    expect(refused.message).to.equal(`user alice holds 1 of the 1 nvidia.com/gpu JupyterKernelSpec per-user allows per user in kernelspec per-user (gpuPolicy.maxPerUser)`);
    await until("u-bob-1", "Running", (s) => s.phase === "Running");
  });

  it("per namespace, queued: positions in status and Events, fair order across users when a GPU frees", async () => {
    // The gateway's policy: one GPU for the whole namespace.
    await apply({ apiVersion: API, kind: "JupyterGateway", metadata: { name: "gw" }, spec: { launchTimeout: 300, gpuPolicy: { maxPerNamespace: { [GPU]: 1 } } } });
    await kernelspec("shared", {});
    await kernel("q-alice-1", "shared", "alice");
    await until("q-alice-1", "Running", (s) => s.phase === "Running");
    await kernel("q-alice-2", "shared", "alice");
    await kernel("q-alice-3", "shared", "alice");
    await kernel("q-bob-1", "shared", "bob");
    // Bob holds no GPU and Alice holds one: Bob is first in line although he came last.
    const bob = await until("q-bob-1", "Queued 1st", (s) => s.reason === "Queued" && s.queuePosition === 1);
    expect(bob.phase).to.equal("Pending");
    expect(bob.message).to.match(new RegExp(`^waiting for GPUs, 1st of 3 in namespace ${ns}'s GPU queue: namespace ${ns} holds 1 of the 1 nvidia.com/gpu JupyterGateway gw allows \\(gpuPolicy.maxPerNamespace\\); gives up in \\d+ s$`));
    const a3 = await until("q-alice-3", "Queued 3rd", (s) => s.reason === "Queued" && s.queuePosition === 3);
    expect(a3.message).to.match(/, 3rd of 3 in namespace .*; an earlier kernel waits for it; gives up in \d+ s$/);
    await until("q-alice-2", "Queued 2nd", (s) => s.reason === "Queued" && s.queuePosition === 2);
    expect((await events("q-alice-2")).some((e) => e.startsWith(`Queued: waiting for GPUs, `) && e.includes(`in namespace ${ns}'s GPU queue`))).to.equal(true);
    // No pod for a queued kernel.
    expect((await getJson(["-n", ns, "get", "pods", "-l", "component=kernel"])).items.map((p: any) => p.metadata.name)).to.deep.equal(["q-alice-1"]);

    // Alice's GPU frees: now both hold none, and Bob was never served, so he goes before Alice's older kernels.
    await remove("q-alice-1");
    await until("q-bob-1", "Running", (s) => s.phase === "Running");
    expect((await events("q-bob-1")).some((e) => /^Admitted: got its GPUs after \d+ s in the queue$/.test(e))).to.equal(true);
    const a2 = await until("q-alice-2", "Queued 1st", (s) => s.reason === "Queued" && s.queuePosition === 1);
    expect(a2.message).to.match(/1st of 2/);
    await until("q-alice-3", "Queued 2nd", (s) => s.reason === "Queued" && s.queuePosition === 2);
    // Then Alice's oldest.
    await remove("q-bob-1");
    const running = await until("q-alice-2", "Running", (s) => s.phase === "Running");
    expect(running.queuePosition).to.equal(undefined);
    await until("q-alice-3", "1st", (s) => s.reason === "Queued" && s.queuePosition === 1);
    await remove("q-alice-2", "q-alice-3");
  });

  it("a queued kernel gives up at its queueTimeout with the reason it waited for", async () => {
    await kernelspec("short-wait", { queueTimeout: 3 });
    // The namespace limit (1 GPU) from the gateway still applies: hold it, then queue another.
    await kernel("t-1", "short-wait", "alice");
    await until("t-1", "Running", (s) => s.phase === "Running");
    const t0 = Date.now();
    await kernel("t-2", "short-wait", "bob");
    const s = await until("t-2", "Failed", (s) => s.phase === "Failed", 20_000);
    expect(s.reason).to.equal("QueueTimeout");
    expect(s.message).to.match(new RegExp(`^waited [34] s for GPUs \\(gpuPolicy.queueTimeout 3 s\\) and was still 1st of 1 in namespace ${ns}'s GPU queue: namespace ${ns} holds 1 of the 1 nvidia.com/gpu JupyterGateway gw allows`));
    expect(Date.now() - t0).to.be.lessThan(10_000);
    expect(await events("t-2")).to.include(`QueueTimeout: ${s.message}`);
  });

  it("a full cluster queues GPU kernels behind the one waiting for a node, instead of failing them", async () => {
    // Its own two kwok GPU nodes with 4 GPUs each, tainted so that only this test's kernels land
    // there: other tests add GPU-kind nodes (a HAMi node offers 40 nvidia.com/gpu) and may leave
    // GPU pods on the shared ones, and "full" must mean full.
    const pool = "elastic-jupyter.test/pool";
    const nodes = [0, 1].map((i) => `${ns}-gpu-${i}`);
    for (const name of nodes) {
      await kubectlOk(["apply", "-f", "-"], JSON.stringify({
        apiVersion: "v1", kind: "Node",
        metadata: { name, annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" }, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", type: "kwok", [pool]: ns } },
        spec: { taints: [{ key: pool, value: ns, effect: "NoSchedule" }] },
        status: { allocatable: { cpu: "32", memory: "256Gi", pods: "110", [GPU]: "4" }, capacity: { cpu: "32", memory: "256Gi", pods: "110", [GPU]: "4" } },
      }));
    }
    try {
      for (const name of nodes) {
        await waitFor(`node ${name} to be ready`, async () => (await getJson(["get", "node", name])).status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"), 60_000);
      }
      await apply({ apiVersion: API, kind: "JupyterGateway", metadata: { name: "gw" }, spec: { launchTimeout: 300, gpuPolicy: { queueTimeout: 120 } } });
      await kernelspec("whole-node", {}, { count: 4, max: 4 }, { nodeSelector: { [pool]: ns }, tolerations: [{ key: pool, operator: "Equal", value: ns, effect: "NoSchedule" }] });
      await kernel("f-1", "whole-node", "alice");
      await kernel("f-2", "whole-node", "bob");
      await until("f-1", "Running", (s) => s.phase === "Running");
      await until("f-2", "Running", (s) => s.phase === "Running");
      await kernel("f-3", "whole-node", "carol");
      const head = await until("f-3", "Queued for a node", (s) => s.reason === "Queued" && /no node has a free nvidia.com\/gpu/.test(s.message ?? ""));
      expect(head.queuePosition).to.equal(1);
      expect(head.message).to.match(/Insufficient nvidia.com\/gpu/);
      await kernel("f-4", "whole-node", "dave");
      const behind = await until("f-4", "Queued 2nd", (s) => s.reason === "Queued" && s.queuePosition === 2);
      expect(behind.message).to.match(/no node has a free nvidia.com\/gpu/);
      const pods = (await getJson(["-n", ns, "get", "pods", "-l", "component=kernel"])).items.map((p: any) => p.metadata.name).sort();
      expect(pods).to.deep.equal(["f-1", "f-2", "f-3"]); // one pod waits for a node, the rest wait in our queue
      await remove("f-1");
      await until("f-3", "Running", (s) => s.phase === "Running");
      await until("f-4", "head of the queue, its pod waiting for a node", (s) => s.reason === "Queued" && s.queuePosition === 1 && /no node has a free/.test(s.message ?? ""));
    } finally {
      await kubectlOk(["-n", ns, "delete", "jupyterkernel", "--all", "--wait=true"]);
      await kubectlOk(["delete", "node", ...nodes, "--wait=false"]);
    }
  });

  it("a ResourceQuota's refusal under a gpuPolicy: Fail ends the kernel at once with the quota's words; Queue waits until queueTimeout", async () => {
    await apply({ apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "no-gpus" }, spec: { hard: { "requests.nvidia.com/gpu": "0" } } });
    try {
      await waitFor("the quota to be counted", async () => (await getJson(["-n", ns, "get", "resourcequota", "no-gpus"])).status?.hard !== undefined);
      await kernelspec("quota-fail", { whenFull: "Fail" });
      await kernel("rq-1", "quota-fail", "alice");
      const failed = await until("rq-1", "Failed", (s) => s.phase === "Failed");
      expect(failed.reason).to.equal("QuotaExceeded");
      expect(failed.message).to.match(/exceeded quota: no-gpus, requested: requests.nvidia.com\/gpu=1, used: requests.nvidia.com\/gpu=0, limited: requests.nvidia.com\/gpu=0/);
      await kernelspec("quota-wait", { queueTimeout: 3 });
      await kernel("rq-2", "quota-wait", "bob");
      await until("rq-2", "Pending on the quota", (s) => s.reason === "QuotaExceeded" && s.phase === "Pending");
      const timedOut = await until("rq-2", "Failed", (s) => s.phase === "Failed", 20_000);
      expect(timedOut.reason).to.equal("QueueTimeout");
      expect(timedOut.message).to.match(/^waited 3 s \(gpuPolicy.queueTimeout\) for a ResourceQuota to allow the kernel pod: .*exceeded quota: no-gpus/);
    } finally {
      await kubectlOk(["-n", ns, "delete", "resourcequota", "no-gpus"]);
    }
  });
});

import { expect } from "chai";
import type { GpuPolicy } from "@elastic-jupyter/api";
import { decideAdmission, effectivePolicy, simulateQueue, type AdmissionContext, type GpuHolder, type GpuRequest } from "../../src/kernels/admission.ts";

const now = new Date("2026-12-03T12:00:00Z");
const GPU = "nvidia.com/gpu";
const MIG = "nvidia.com/mig-1g.10gb";

function request(key: string, user: string, ageS: number, policy: GpuPolicy, more: Partial<GpuRequest> = {}): GpuRequest {
  const eff = effectivePolicy([{ name: "gw", policy, launchTimeoutS: 120 }], undefined)!;
  return { key: `team-a/${key}`, user, usage: { [GPU]: 1 }, createdMs: now.getTime() - ageS * 1000, ...eff, ...more };
}
const holder = (key: string, user: string, usage: Record<string, number> = { [GPU]: 1 }, kernelSpec?: string): GpuHolder => ({ key: `team-a/${key}`, user, usage, ...(kernelSpec ? { kernelSpec } : {}) });
const ctx = (holders: GpuHolder[], waiting: GpuRequest[], more: Partial<AdmissionContext> = {}): AdmissionContext =>
  ({ holders, waiting, clusterFull: new Map(), lastAdmittedMs: new Map(), namespace: "team-a", now, ...more });

describe("GPU admission", () => {
  it("no policy at all: nothing to decide", () => {
    expect(effectivePolicy([{ name: "gw" }], { name: "py" })).to.equal(undefined);
  });

  it("queueTimeout defaults to the launch timeout less 5 s, and is clamped below it; the kernel's KERNEL_LAUNCH_TIMEOUT wins", () => {
    expect(effectivePolicy([{ name: "gw", policy: {}, launchTimeoutS: 120 }], undefined)!.queueTimeoutS).to.equal(115);
    expect(effectivePolicy([{ name: "gw", policy: { queueTimeout: 600 } }], undefined)!.queueTimeoutS).to.equal(25); // EG's default 30 s
    expect(effectivePolicy([{ name: "gw", policy: { queueTimeout: 60 }, launchTimeoutS: 300 }], { name: "py", policy: { queueTimeout: 20 } })!.queueTimeoutS).to.equal(20);
    expect(effectivePolicy([{ name: "gw", policy: {} }], undefined, 90)!.queueTimeoutS).to.equal(85);
    expect(effectivePolicy([{ name: "gw", policy: { whenFull: "Fail" } }], { name: "py", policy: { whenFull: "Queue" } })!.whenFull).to.equal("Queue");
  });

  it("a direct kernel is under every gateway policy of its namespace, and its notebook's launch timeout", () => {
    const eff = effectivePolicy([{ name: "a", policy: { maxPerNamespace: { [GPU]: 4 } } }, { name: "b" }, { name: "c", policy: { maxPerUser: { [GPU]: 1 }, whenFull: "Fail" } }], undefined, 300)!;
    expect(eff.policies.map((p) => p.source)).to.deep.equal(["JupyterGateway a", "JupyterGateway c"]);
    expect(eff.queueTimeoutS).to.equal(295);
    expect(eff.whenFull).to.equal("Queue"); // the first gateway with a policy speaks for the namespace
    const r: GpuRequest = { key: "team-a/k", user: "nb", usage: { [GPU]: 1 }, createdMs: now.getTime(), ...eff };
    const d = decideAdmission(r, ctx([holder("x", "nb")], [r]));
    expect(d.kind).to.equal("queue");
    expect((d as { message: string }).message).to.match(/JupyterGateway c/);
  });

  it("per kernel: a request over maxPerKernel fails at once, whatever whenFull says", () => {
    const r = request("k1", "alice", 0, { maxPerKernel: { [GPU]: 2 } }, { usage: { [GPU]: 4 } });
    const d = decideAdmission(r, ctx([], [r]));
    expect(d).to.deep.include({ kind: "fail", reason: "GPULimitExceeded" });
    expect((d as { message: string }).message).to.equal("the kernel asks for 4 nvidia.com/gpu, more than the 2 JupyterGateway gw allows per kernel (gpuPolicy.maxPerKernel)");
  });

  it("a request bigger than the per-user limit itself fails at once rather than waiting forever", () => {
    const r = request("k1", "alice", 0, { maxPerUser: { [GPU]: 2 } }, { usage: { [GPU]: 3 } });
    expect(decideAdmission(r, ctx([], [r]))).to.deep.include({ kind: "fail", reason: "GPULimitExceeded" });
  });

  it("per user, Fail: refused with the limit and what the user holds", () => {
    const r = request("k3", "alice", 0, { maxPerUser: { [GPU]: 2 }, whenFull: "Fail" });
    const d = decideAdmission(r, ctx([holder("k1", "alice"), holder("k2", "alice"), holder("b1", "bob")], [r]));
    expect(d).to.deep.equal({ kind: "fail", reason: "GPUQuotaExceeded", message: "user alice holds 2 of the 2 nvidia.com/gpu JupyterGateway gw allows per user in namespace team-a (gpuPolicy.maxPerUser)" });
    // Bob is under the limit: admitted.
    const b = request("b2", "bob", 0, { maxPerUser: { [GPU]: 2 }, whenFull: "Fail" });
    expect(decideAdmission(b, ctx([holder("k1", "alice"), holder("k2", "alice"), holder("b1", "bob")], [b])).kind).to.equal("admit");
  });

  it("per namespace, Queue: waits with its position and the limit in the message, and a retry at its timeout", () => {
    const p: GpuPolicy = { maxPerNamespace: { [GPU]: 2 } };
    const r1 = request("q1", "carol", 10, p), r2 = request("q2", "dave", 5, p);
    const c = ctx([holder("k1", "alice"), holder("k2", "bob")], [r1, r2]);
    const d = decideAdmission(r2, c);
    expect(d.kind).to.equal("queue");
    const q = d as Extract<typeof d, { kind: "queue" }>;
    expect(q.position).to.equal(2);
    expect(q.length).to.equal(2);
    expect(q.retryAfterMs).to.equal(110_000);
    expect(q.message).to.equal("waiting for GPUs, 2nd of 2 in namespace team-a's GPU queue: namespace team-a holds 2 of the 2 nvidia.com/gpu JupyterGateway gw allows (gpuPolicy.maxPerNamespace); an earlier kernel waits for it; gives up in 110 s");
  });

  it("times out with the reason it waited for", () => {
    const p: GpuPolicy = { maxPerNamespace: { [GPU]: 1 }, queueTimeout: 30 };
    const r = request("q1", "carol", 31, p);
    const d = decideAdmission(r, ctx([holder("k1", "alice")], [r]));
    expect(d).to.deep.include({ kind: "fail", reason: "QueueTimeout" });
    expect((d as { message: string }).message).to.match(/^waited 31 s for GPUs \(gpuPolicy.queueTimeout 30 s\) and was still 1st of 1 in namespace team-a's GPU queue: namespace team-a holds 1 of the 1 nvidia.com\/gpu/);
  });

  it("order: the oldest first among users holding the same, and a freed GPU goes to the first in line", () => {
    const p: GpuPolicy = { maxPerNamespace: { [GPU]: 1 } };
    const a = request("a", "alice", 30, p), b = request("b", "bob", 20, p), c = request("c", "carol", 10, p);
    const { admitted, held } = simulateQueue(ctx([], [c, b, a]));
    expect([...admitted]).to.deep.equal(["team-a/a"]);
    expect([...held.keys()]).to.deep.equal(["team-a/b", "team-a/c"]);
  });

  it("fairness: a user holding fewer GPUs goes first, however late they came", () => {
    const p: GpuPolicy = { maxPerNamespace: { [GPU]: 3 } };
    // Alice holds 2 and asks for more; Bob holds none and came later: Bob gets the one free GPU.
    const a2 = request("a3", "alice", 60, p), b1 = request("b1", "bob", 1, p);
    const { admitted } = simulateQueue(ctx([holder("a1", "alice"), holder("a2", "alice")], [a2, b1]));
    expect([...admitted]).to.deep.equal(["team-a/b1"]);
  });

  it("fairness: between users holding the same, the one served longest ago goes first", () => {
    const p: GpuPolicy = { maxPerNamespace: { [GPU]: 1 } };
    const a = request("a2", "alice", 60, p), b = request("b1", "bob", 10, p);
    const lastAdmittedMs = new Map([["alice", now.getTime() - 5_000]]);
    const { admitted } = simulateQueue(ctx([], [a, b], { lastAdmittedMs }));
    expect([...admitted]).to.deep.equal(["team-a/b1"]);
  });

  it("a user at their own limit does not hold up others; a full namespace holds up everyone behind", () => {
    const p: GpuPolicy = { maxPerUser: { [GPU]: 1 }, maxPerNamespace: { [GPU]: 3 } };
    const a = request("a2", "alice", 60, p), b = request("b1", "bob", 10, p), c = request("c1", "carol", 5, p);
    const { admitted, held } = simulateQueue(ctx([holder("a1", "alice")], [a, b, c]));
    expect([...admitted].sort()).to.deep.equal(["team-a/b1", "team-a/c1"]);
    expect(held.get("team-a/a2")).to.match(/^user alice holds 1 of the 1 nvidia.com\/gpu/);
  });

  it("no starvation: a big request first in line is not overtaken by later small ones", () => {
    const p: GpuPolicy = { maxPerNamespace: { [GPU]: 4 } };
    const big = request("big", "alice", 60, p, { usage: { [GPU]: 3 } }), small = request("small", "bob", 1, p);
    const { admitted, held } = simulateQueue(ctx([holder("x", "carol"), holder("y", "dave")], [big, small]));
    expect([...admitted]).to.deep.equal([]);
    expect([...held.keys()]).to.deep.equal(["team-a/big", "team-a/small"]);
  });

  it("kinds are counted apart: a full MIG limit does not hold up whole GPUs", () => {
    const p: GpuPolicy = { maxPerNamespace: { [GPU]: 2, [MIG]: 1 } };
    const mig = request("mig", "alice", 60, p, { usage: { [MIG]: 1 } }), gpu = request("gpu", "bob", 1, p);
    const { admitted } = simulateQueue(ctx([holder("m0", "carol", { [MIG]: 1 })], [mig, gpu]));
    expect([...admitted]).to.deep.equal(["team-a/gpu"]);
  });

  it("a full cluster (one of our pods waits for a node) queues every later kernel wanting that resource, behind it", () => {
    const p: GpuPolicy = {};
    const r = request("q1", "alice", 1, p);
    const d = decideAdmission(r, ctx([], [r], { clusterFull: new Map([[GPU, "0/4 nodes are available: 4 Insufficient nvidia.com/gpu."]]) }));
    expect(d.kind).to.equal("queue");
    expect((d as { message: string }).message).to.equal("waiting for GPUs, 2nd of 2 in namespace team-a's GPU queue: no node has a free nvidia.com/gpu (0/4 nodes are available: 4 Insufficient nvidia.com/gpu.); gives up in 114 s");
  });

  it("a kernelspec's limit counts only its own kernels", () => {
    const eff = effectivePolicy([{ name: "gw", policy: {} }], { name: "a100", policy: { maxPerUser: { [GPU]: 1 } } }, 120)!;
    const r: GpuRequest = { key: "team-a/k", user: "alice", kernelSpec: "a100", usage: { [GPU]: 1 }, createdMs: now.getTime(), ...eff };
    expect(decideAdmission(r, ctx([holder("t4", "alice", { [GPU]: 1 }, "t4")], [r])).kind).to.equal("admit");
    const d = decideAdmission(r, ctx([holder("x", "alice", { [GPU]: 1 }, "a100")], [r]));
    expect((d as { message: string }).message).to.match(/user alice holds 1 of the 1 nvidia.com\/gpu JupyterKernelSpec a100 allows per user in kernelspec a100/);
  });
});

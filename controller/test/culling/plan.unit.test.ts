import { expect } from "chai";
import type { JupyterGateway, JupyterKernelSpec } from "@elastic-jupyter/api";
import { cullPolicy, cullsAnything, DEFAULT_CULL_IDLE_TIMEOUT_S, idleGpuSecondsSince, idleGpusByKernelspec, kernelsToCull, type GatewayKernel } from "../../src/culling/plan.ts";

const now = new Date("2026-11-25T12:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const kernel = (id: string, name: string, idleS: number, more: Partial<GatewayKernel> = {}): GatewayKernel =>
  ({ id, name, last_activity: ago(idleS), execution_state: "idle", connections: 0, ...more });
const gateway = (spec: JupyterGateway["spec"]): JupyterGateway => ({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterGateway", metadata: { name: "gw" }, spec });
const kernelspec = (name: string, cullIdleTimeout?: number): JupyterKernelSpec => ({
  apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name },
  spec: { language: "python", image: "python:3", ...(cullIdleTimeout !== undefined ? { cullIdleTimeout } : {}) },
});

describe("culling plan", () => {
  it("a kernelspec's cullIdleTimeout overrides the gateway's; unset kernelspecs use the gateway's", () => {
    const p = cullPolicy(gateway({ cullIdleTimeout: 600 }), [kernelspec("gpu", 60), kernelspec("cpu")]);
    const ids = kernelsToCull([kernel("g1", "gpu", 61), kernel("g2", "gpu", 59), kernel("c1", "cpu", 300), kernel("c2", "cpu", 601)], p, now).map((d) => d.id);
    expect(ids).to.deep.equal(["g1", "c2"]);
  });

  it("0 never culls, per kernelspec or for the gateway", () => {
    const p = cullPolicy(gateway({ cullIdleTimeout: 0 }), [kernelspec("pinned", 0), kernelspec("gpu", 60)]);
    expect(kernelsToCull([kernel("a", "pinned", 1e6), kernel("b", "other", 1e6), kernel("c", "gpu", 61)], p, now).map((d) => d.id)).to.deep.equal(["c"]);
    expect(cullsAnything(p)).to.equal(true);
    expect(cullsAnything(cullPolicy(gateway({ cullIdleTimeout: 0 }), [kernelspec("pinned", 0)]))).to.equal(false);
  });

  it("defaults to the stock gateway image's 12 h and a 60 s interval", () => {
    const p = cullPolicy(gateway({}), []);
    expect(p).to.deep.include({ defaultTimeoutS: DEFAULT_CULL_IDLE_TIMEOUT_S, intervalS: 60, cullConnected: false });
    expect(kernelsToCull([kernel("a", "x", 43_199), kernel("b", "x", 43_201)], p, now).map((d) => d.id)).to.deep.equal(["b"]);
  });

  it("never culls a busy kernel; a connected one only with cullConnected", () => {
    const kernels = [kernel("busy", "gpu", 100, { execution_state: "busy" }), kernel("connected", "gpu", 100, { connections: 1 }), kernel("starting", "gpu", 100, { execution_state: "starting" })];
    expect(kernelsToCull(kernels, cullPolicy(gateway({}), [kernelspec("gpu", 10)]), now).map((d) => d.id)).to.deep.equal(["starting"]);
    expect(kernelsToCull(kernels, cullPolicy(gateway({ cullConnected: true }), [kernelspec("gpu", 10)]), now).map((d) => d.id)).to.deep.equal(["connected", "starting"]);
  });

  it("says why: kernelspec, idle seconds and the timeout that applied; skips unreadable activity", () => {
    const p = cullPolicy(gateway({}), [kernelspec("gpu", 10)]);
    expect(kernelsToCull([kernel("a", "gpu", 25), { ...kernel("b", "gpu", 0), last_activity: "not a time" }], p, now))
      .to.deep.equal([{ id: "a", kernelspec: "gpu", idleS: 25, timeoutS: 10 }]);
  });

  it("idle GPUs: only kernels the gateway reports idle, summed per kernelspec, those without GPUs left out", () => {
    const gpus: Record<string, number> = { a: 2, b: 1, c: 4, d: 0 };
    const idle = idleGpusByKernelspec([kernel("a", "gpu", 5), kernel("b", "gpu", 5), kernel("c", "gpu", 5, { execution_state: "busy" }), kernel("d", "cpu", 5), kernel("e", "gpu", 5, { execution_state: "starting" })], (id) => gpus[id] ?? 0);
    expect([...idle]).to.deep.equal([["gpu", 3]]);
  });

  it("idle GPU-seconds: the previous pass's idle GPUs times the time since; nothing without a previous pass", () => {
    const t = now.getTime();
    expect([...idleGpuSecondsSince({ atMs: t - 30_000, byKernelspec: new Map([["gpu", 3], ["mig", 0.5]]) }, t)]).to.deep.equal([["gpu", 90], ["mig", 15]]);
    expect(idleGpuSecondsSince(undefined, t).size).to.equal(0);
    expect(idleGpuSecondsSince({ atMs: t, byKernelspec: new Map([["gpu", 3]]) }, t).size).to.equal(0);
  });
});

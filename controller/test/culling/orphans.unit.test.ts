import { expect } from "chai";
import type { JupyterGateway, JupyterKernel } from "@elastic-jupyter/api";
import { DEFAULT_ORPHAN_GRACE_S, orphanGraceS, planOrphans, type OrphanObservation } from "../../src/culling/orphans.ts";
import { servedBy } from "../../src/sidecar.ts";

const now = new Date("2026-12-03T12:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const GRACE = 300;

function kernel(n: number, opts: { ageS?: number; phase?: string; gateway?: string; deleting?: boolean; idInEnv?: boolean } = {}): JupyterKernel {
  const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  return {
    apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel",
    metadata: {
      name: `kernel-${n}`, namespace: "team", uid: `uid-${n}`, creationTimestamp: ago(opts.ageS ?? 3600),
      labels: { "kubeflow.tkestack.io/gateway": opts.gateway ?? "gw" },
      ...(opts.deleting ? { deletionTimestamp: ago(1) } : {}),
    },
    spec: opts.idInEnv
      ? { kernelSpec: { name: "gpu" }, template: { spec: { containers: [{ name: "kernel", env: [{ name: "KERNEL_ID", value: id }] }] } } }
      : { kernelId: id, kernelSpec: { name: "gpu" } },
    ...(opts.phase ? { status: { phase: opts.phase as "Running" } } : {}),
  };
}
const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function observe(kernels: JupyterKernel[], known: number[] | undefined, absentSince: Record<string, number> = {}, graceS = GRACE): OrphanObservation {
  return {
    servedBy: (k) => servedBy(k, "gw"), kernels,
    known: known && new Set(known.map(idOf)), absentSince: new Map(Object.entries(absentSince)), graceS, now,
  };
}
const seenAbsentAgo = (s: number) => now.getTime() - s * 1000;
const gateway = (spec: JupyterGateway["spec"]): JupyterGateway => ({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterGateway", metadata: { name: "gw" }, spec });

describe("culling: orphaned kernels", () => {
  it("a kernel first seen missing is only remembered; missing for less than the grace period it stays", () => {
    const first = planOrphans(observe([kernel(1, { phase: "Running" })], []));
    expect(first.orphans).to.deep.equal([]);
    expect([...first.absentSince]).to.deep.equal([["uid-1", now.getTime()]]);
    const later = planOrphans(observe([kernel(1, { phase: "Running" })], [], { "uid-1": seenAbsentAgo(GRACE - 1) }));
    expect(later.orphans).to.deep.equal([]);
    expect(later.absentSince.get("uid-1")).to.equal(seenAbsentAgo(GRACE - 1));
  });

  it("missing for the whole grace period, an old kernel is an orphan, with a message saying why", () => {
    const plan = planOrphans(observe([kernel(1, { phase: "Running" }), kernel(2, { phase: "Running" })], [2], { "uid-1": seenAbsentAgo(GRACE) }));
    expect(plan.orphans.map((o) => [o.kernel.metadata!.name, o.kernelId, o.absentS])).to.deep.equal([["kernel-1", idOf(1), GRACE]]);
    expect(plan.orphans[0]!.message).to.equal(`the gateway has not known kernel ${idOf(1)} for 300 s (orphanGracePeriod 300 s): ended to free its resources and GPUs`);
  });

  it("a kernel the gateway lists again is forgotten (a later absence starts a new grace period)", () => {
    const plan = planOrphans(observe([kernel(1, { phase: "Running" })], [1], { "uid-1": seenAbsentAgo(GRACE * 10) }));
    expect(plan.orphans).to.deep.equal([]);
    expect(plan.absentSince.size).to.equal(0);
  });

  it("decides nothing when the gateway's list failed, and keeps what it had seen", () => {
    const plan = planOrphans(observe([kernel(1, { phase: "Running" }), kernel(2)], undefined, { "uid-1": seenAbsentAgo(GRACE * 10) }));
    expect(plan.orphans).to.deep.equal([]);
    expect([...plan.absentSince]).to.deep.equal([["uid-1", seenAbsentAgo(GRACE * 10)]]);
  });

  it("leaves terminal and deleting kernels alone", () => {
    const long = { "uid-1": seenAbsentAgo(GRACE * 10), "uid-2": seenAbsentAgo(GRACE * 10), "uid-3": seenAbsentAgo(GRACE * 10) };
    const plan = planOrphans(observe([kernel(1, { phase: "Failed" }), kernel(2, { phase: "Succeeded" }), kernel(3, { phase: "Running", deleting: true })], [], long));
    expect(plan.orphans).to.deep.equal([]);
    expect(plan.absentSince.size).to.equal(0);
  });

  it("leaves another gateway's kernels alone; unlabelled ones (made by hand) are every gateway's", () => {
    const long = { "uid-1": seenAbsentAgo(GRACE * 10), "uid-2": seenAbsentAgo(GRACE * 10) };
    const hand = kernel(2, { phase: "Running" });
    delete hand.metadata!.labels;
    const plan = planOrphans(observe([kernel(1, { phase: "Running", gateway: "other" }), hand], [], long));
    expect(plan.orphans.map((o) => o.kernel.metadata!.name)).to.deep.equal(["kernel-2"]);
  });

  it("never ends a kernel younger than the grace period: a Pending kernel (e.g. Queued for a GPU) is still being launched", () => {
    const queued: JupyterKernel = { ...kernel(1, { ageS: GRACE - 5 }), status: { phase: "Pending", reason: "Queued" } };
    // Even if some earlier pass had seen it missing for long (clock jumps, a reused uid map).
    const plan = planOrphans(observe([queued], [], { "uid-1": seenAbsentAgo(GRACE * 10) }));
    expect(plan.orphans).to.deep.equal([]);
    expect(plan.absentSince.get("uid-1")).to.equal(seenAbsentAgo(GRACE * 10));
    // Old enough and missing long enough: it is past any launch, so it goes.
    const old: JupyterKernel = { ...kernel(1, { ageS: GRACE + 5 }), status: { phase: "Pending", reason: "Queued" } };
    expect(planOrphans(observe([old], [], { "uid-1": seenAbsentAgo(GRACE) })).orphans).to.have.length(1);
  });

  it("finds the kernel id in the template's KERNEL_ID env as the pod does", () => {
    const k = kernel(1, { phase: "Running", idInEnv: true });
    expect(planOrphans(observe([k], [1], {})).absentSince.size).to.equal(0);
    expect(planOrphans(observe([k], [], { "uid-1": seenAbsentAgo(GRACE) })).orphans).to.have.length(1);
  });

  it("grace 0 disables: nothing remembered, nothing ended", () => {
    const plan = planOrphans(observe([kernel(1, { phase: "Running" })], [], { "uid-1": seenAbsentAgo(GRACE * 10) }, 0));
    expect(plan).to.deep.equal({ absentSince: new Map(), orphans: [] });
  });

  it("the grace period: 300 s unset, 0 disables, never less than the launch timeout plus 30 s", () => {
    expect(orphanGraceS(gateway({}))).to.equal(DEFAULT_ORPHAN_GRACE_S).and.equal(300);
    expect(orphanGraceS(gateway({ orphanGracePeriod: 0, launchTimeout: 600 }))).to.equal(0);
    expect(orphanGraceS(gateway({ orphanGracePeriod: 5 }))).to.equal(60); // EG's default launch timeout 30 + 30
    expect(orphanGraceS(gateway({ orphanGracePeriod: 5, launchTimeout: 600 }))).to.equal(630);
    expect(orphanGraceS(gateway({ launchTimeout: 600 }))).to.equal(630);
    expect(orphanGraceS(gateway({ orphanGracePeriod: 900, launchTimeout: 600 }))).to.equal(900);
    // spec.extraEnv can replace the gateway's launch timeout: the longer one counts, an unreadable one as 3600.
    expect(orphanGraceS(gateway({ launchTimeout: 10, extraEnv: [{ name: "EG_KERNEL_LAUNCH_TIMEOUT", value: "1200" }] }))).to.equal(1230);
    expect(orphanGraceS(gateway({ extraEnv: [{ name: "EG_KERNEL_LAUNCH_TIMEOUT", valueFrom: { configMapKeyRef: { name: "c", key: "k" } } }] }))).to.equal(3630);
  });
});

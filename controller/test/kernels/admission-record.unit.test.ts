// The namespace's GPU admission record (kernels/admission-record.ts): what counts, what expires,
// what a malformed annotation becomes. gpu-admitters.test.ts runs it between two real sidecars.
import { expect } from "chai";
import type { Pod } from "kubernetes-types/core/v1.js";
import { RECORD_TTL_MS, parseAdmissions, recordedHolders, withAdmission, type AdmissionRecord, type RecordedAdmission } from "../../src/kernels/admission-record.ts";
import { KernelWriteState } from "../../src/kernels/reconciler.ts";

const GPU = "nvidia.com/gpu";
const NOW = Date.parse("2026-12-03T10:00:00Z");
const admission = (name: string, agoMs: number, more: Partial<RecordedAdmission> = {}): RecordedAdmission =>
  ({ name, uid: `uid-${name}`, user: "alice", kernelSpec: "python-gpu", usage: { [GPU]: 1 }, at: NOW - agoMs, ...more });
const record = (...admissions: RecordedAdmission[]): AdmissionRecord => ({ namespace: "team-a", resourceVersion: "7", admissions });

describe("GPU admission record", () => {
  it("counts recent admissions of other kernels whose pods this admitter has not seen", () => {
    const r = record(admission("k-1", 100), admission("k-2", 200), admission("k-3", RECORD_TTL_MS + 1), admission("self", 50));
    const holders = recordedHolders(r, "self", (a) => a.name === "k-2", NOW);
    expect(holders).to.deep.equal([{ key: "team-a/k-1", user: "alice", kernelSpec: "python-gpu", usage: { [GPU]: 1 }, expiresAtMs: NOW - 100 + RECORD_TTL_MS }]);
  });

  it("adds an admission, replacing the kernel's earlier one and dropping expired ones; or removes one", () => {
    const r = record(admission("k-1", RECORD_TTL_MS + 5), admission("k-2", 1000), admission("k-3", 10));
    expect(withAdmission(r, "k-2", admission("k-2", 0), NOW).map((a) => [a.name, NOW - a.at])).to.deep.equal([["k-3", 10], ["k-2", 0]]);
    expect(withAdmission(r, "k-3", undefined, NOW).map((a) => a.name)).to.deep.equal(["k-2"]);
  });

  it("reads only well-formed admissions from the annotation", () => {
    const good = admission("k-1", 0);
    expect(parseAdmissions(JSON.stringify([good, { name: "k-2" }, null, { ...good, name: "k-3", usage: { [GPU]: "1" } }, "x"]))).to.deep.equal([good]);
    expect(parseAdmissions("{not json")).to.deep.equal([]);
    expect(parseAdmissions(JSON.stringify({ name: "k-1" }))).to.deep.equal([]);
    expect(parseAdmissions(undefined)).to.deep.equal([]);
  });

  it("remembers which kernels' pods the admitter has seen (by the kernel's uid), and forgets old ones only past a bound", () => {
    const state = new KernelWriteState();
    const pod = (owner: string): Pod => ({ metadata: { name: owner, ownerReferences: [{ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", name: owner, uid: owner, controller: true }] } });
    state.podSeen(pod("uid-a"), NOW);
    state.podSeen({ metadata: { name: "not-a-kernel-pod" } }, NOW);
    expect(state.sawPodOf("uid-a")).to.equal(true);
    expect(state.sawPodOf("uid-b")).to.equal(false);
    for (let i = 0; i < 1000; i++) state.podSeen(pod(`uid-${i}`), NOW + RECORD_TTL_MS + 1);
    expect(state.sawPodOf("uid-a"), "past the TTL and the bound: forgotten").to.equal(false);
    expect(state.sawPodOf("uid-999")).to.equal(true);
  });
});

import { expect } from "chai";
import { controllerOf, controllerReference, findCondition, isConditionTrue, ownedBy, setCondition, type Condition } from "../../src/runtime/apply.ts";

const t0 = new Date("2026-01-01T10:00:00.123Z");
const t1 = new Date("2026-01-01T10:05:00Z");

describe("setCondition", () => {
  it("adds a new condition with the transition time (seconds precision) and observedGeneration", () => {
    const out = setCondition(undefined, { type: "Ready", status: "False", reason: "TemplateNotFound", message: "no template x" }, 3, t0);
    expect(out).to.deep.equal([{ type: "Ready", status: "False", reason: "TemplateNotFound", message: "no template x", lastTransitionTime: "2026-01-01T10:00:00Z", observedGeneration: 3 }]);
  });

  it("keeps lastTransitionTime when the status does not change, but updates reason, message and generation", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "Pending", message: "a" }, 1, t0);
    const second = setCondition(first, { type: "Ready", status: "False", reason: "Unschedulable", message: "b" }, 2, t1);
    expect(second[0]).to.include({ reason: "Unschedulable", message: "b", observedGeneration: 2, lastTransitionTime: "2026-01-01T10:00:00Z" });
  });

  it("moves lastTransitionTime when the status changes", () => {
    const first = setCondition([], { type: "Ready", status: "False", reason: "Pending" }, 1, t0);
    const second = setCondition(first, { type: "Ready", status: "True", reason: "PodReady" }, 1, t1);
    expect(second[0]!.lastTransitionTime).to.equal("2026-01-01T10:05:00Z");
    expect(second[0]!.message).to.equal("");
  });

  it("leaves other conditions and their order alone, and does not mutate its input", () => {
    const base: Condition[] = [
      { type: "Scheduled", status: "True", reason: "Scheduled", message: "", lastTransitionTime: "2026-01-01T09:00:00Z" },
      { type: "Ready", status: "False", reason: "Pending", message: "", lastTransitionTime: "2026-01-01T09:00:00Z" },
    ];
    const copy = structuredClone(base);
    const out = setCondition(base, { type: "Ready", status: "True", reason: "PodReady" }, 4, t1);
    expect(base).to.deep.equal(copy);
    expect(out.map((c) => c.type)).to.deep.equal(["Scheduled", "Ready"]);
    expect(out[0]).to.deep.equal(base[0]);
    expect(isConditionTrue(out, "Ready")).to.equal(true);
    expect(isConditionTrue(out, "Missing")).to.equal(false);
    expect(findCondition(out, "Scheduled")?.reason).to.equal("Scheduled");
  });

  it("omits observedGeneration when not given", () => {
    const out = setCondition([], { type: "Ready", status: "Unknown", reason: "Starting" }, undefined, t0);
    expect(out[0]).to.not.have.property("observedGeneration");
  });

  it("rejects a bad status or a reason that is not a CamelCase word, naming the condition", () => {
    expect(() => setCondition([], { type: "Ready", status: "yes" as never, reason: "X" }, 1)).to.throw(/Ready: status must be True, False or Unknown/);
    expect(() => setCondition([], { type: "Ready", status: "True", reason: "not ready" }, 1)).to.throw(/Ready: reason must be a CamelCase word/);
    expect(() => setCondition([], { type: "Ready", status: "True", reason: "" }, 1)).to.throw(/reason/);
  });
});

describe("owner references", () => {
  const owner = { apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: "k1", namespace: "ns", uid: "u-1" } };

  it("makes the owner the controller with blockOwnerDeletion", () => {
    expect(controllerReference(owner)).to.deep.equal({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", name: "k1", uid: "u-1", controller: true, blockOwnerDeletion: true });
  });

  it("refuses an owner without a UID (not read from the API server)", () => {
    expect(() => controllerReference({ ...owner, metadata: { name: "k1" } })).to.throw(/metadata.uid/);
  });

  it("ownedBy replaces another controller but keeps non-controller references", () => {
    const child = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", ownerReferences: [
      { apiVersion: "v1", kind: "X", name: "old", uid: "u-0", controller: true },
      { apiVersion: "v1", kind: "Y", name: "friend", uid: "u-9" },
    ] } };
    const out = ownedBy(child, owner);
    expect(out.metadata.ownerReferences.map((r) => r.uid)).to.deep.equal(["u-9", "u-1"]);
    expect(controllerOf(out)?.name).to.equal("k1");
    expect(child.metadata.ownerReferences).to.have.length(2);
  });
});

import { expect } from "chai";
import type { JupyterKernel } from "@elastic-jupyter/api";
import { servedBy } from "../src/sidecar.ts";

const kernel = (labels?: Record<string, string>): JupyterKernel => ({
  apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: "k", ...(labels ? { labels } : {}) }, spec: { kernelId: "0b1e0c0e-0000-4000-8000-000000000000" } as JupyterKernel["spec"],
});

describe("sidecar: which kernels a gateway's sidecar reconciles", () => {
  it("its own (labelled by its launcher) and unlabelled ones, never another gateway's", () => {
    expect(servedBy(kernel({ "kubeflow.tkestack.io/gateway": "cpu" }), "cpu")).to.equal(true);
    expect(servedBy(kernel({ "kubeflow.tkestack.io/gateway": "gpu" }), "cpu")).to.equal(false);
    expect(servedBy(kernel(), "cpu")).to.equal(true);
    // A sidecar run without --gateway (tests, a single shared gateway) serves every kernel.
    expect(servedBy(kernel({ "kubeflow.tkestack.io/gateway": "gpu" }), "")).to.equal(true);
  });
});

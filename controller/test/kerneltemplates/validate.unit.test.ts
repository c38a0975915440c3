import { expect } from "chai";
import type { JupyterKernelTemplate } from "@elastic-jupyter/api";
import { kernelTemplateStatus, validateKernelTemplate } from "../../src/kerneltemplates/validate.ts";

function template(t: JupyterKernelTemplate["spec"]["template"]): JupyterKernelTemplate {
  return { apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelTemplate", metadata: { name: "t", namespace: "default", generation: 2 }, spec: { template: t } };
}

describe("kernel template validation", () => {
  it("accepts SEED.md's template (labels straight under metadata) and notes the restartPolicy it cannot keep", () => {
    const seed = template({ metadata: { app: "enterprise-gateway", component: "kernel" }, spec: { restartPolicy: "Always", containers: [{ name: "kernel" }] } });
    expect(validateKernelTemplate(seed)).to.deep.equal([]);
    const ready = kernelTemplateStatus(seed, "t").conditions![0]!;
    expect(ready).to.include({ type: "Ready", status: "True", reason: "Valid", observedGeneration: 2 });
    expect(ready.message).to.contain("restartPolicy Always is replaced by Never");
  });

  it("names each problem's field", () => {
    const bad = template({
      metadata: { labels: { "bad key!": "x" }, team: "has spaces" },
      spec: {
        containers: [{ name: "kernel" }, { name: "kernel" }, { name: "Helper_1", image: "busybox" }],
        volumes: [{ name: "v", emptyDir: {} }, { name: "v", emptyDir: {} }],
      },
    });
    bad.spec.template.spec!.containers[0]!.volumeMounts = [{ name: "missing", mountPath: "/m" }];
    const problems = validateKernelTemplate(bad);
    expect(problems).to.have.length(6);
    expect(problems.join("\n")).to.contain('label key "bad key!"')
      .and.contain('label "team" has an invalid value')
      .and.contain("containers[1].name \"kernel\" is used twice")
      .and.contain("containers[2].name \"Helper_1\" must be a DNS label")
      .and.contain("volumes[1].name \"v\" is used twice")
      .and.contain("containers[0].volumeMounts[0] refers to volume \"missing\"");
    const ready = kernelTemplateStatus(bad, "t").conditions![0]!;
    expect(ready).to.include({ status: "False", reason: "InvalidTemplate" });
  });

  it("requires an image on every container but the kernel's", () => {
    const t = template({ spec: { containers: [{ name: "kernel" }, { name: "proxy" }] } });
    expect(validateKernelTemplate(t)).to.deep.equal(["spec.template.spec.containers[1].image is required (only the kernel container takes its image from the kernelspec)"]);
    expect(validateKernelTemplate(template({ spec: { containers: [{ name: "main" }] } }))).to.deep.equal([]);
  });

  it("rejects a non-string legacy label", () => {
    const t = template({ metadata: { extra: { nested: "x" } } as never });
    expect(validateKernelTemplate(t)[0]).to.contain("spec.template.metadata.extra must be a string");
  });
});

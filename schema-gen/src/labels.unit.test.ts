// The NetworkPolicy label sets select exactly the pods they are named for: the controller renders
// each set onto its pods even when a user's template tries to set those labels, and no set
// matches another kind's pods.
import { expect } from "chai";
import type { Pod } from "kubernetes-types/core/v1.js";
import { API_VERSION, KIND } from "../../controller/src/api.ts";
import { desiredGatewayDeployment } from "../../controller/src/gateways/deployment.ts";
import { desiredKernelPod } from "../../controller/src/kernels/pod.ts";
import { desiredNotebookDeployment } from "../../controller/src/notebooks/deployment.ts";
import type { JupyterGateway, JupyterKernel, JupyterNotebook } from "./api/index.ts";
import { labelsInCommon, podLabelSets, podLabelsHelpers } from "./labels.ts";

const GATEWAY = "enterprise-gateway";

/** Every set's labels, with the chart's gateway named GATEWAY. */
function sets(): Record<"gateway" | "kernel" | "notebook", Record<string, string>> {
  const byName = Object.fromEntries(podLabelSets(GATEWAY).map((s) => [s.name, s.labels]));
  return { gateway: byName["ej.labels.gatewayPods"]!, kernel: byName["ej.labels.kernelPods"]!, notebook: byName["ej.labels.notebookPods"]! };
}

/** Labels a user's template sets, trying to take every label of `labels` away. */
const overriding = (labels: Record<string, string>) => Object.fromEntries(Object.keys(labels).map((k) => [k, "user"]));

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function gatewayPodLabels(): Record<string, string> {
  const gw: JupyterGateway = { apiVersion: API_VERSION, kind: KIND.gateway, metadata: { name: GATEWAY, namespace: "ns", uid: "u" }, spec: {} };
  return desiredGatewayDeployment(gw, { gatewayImage: "g", sidecarImage: "s", gatewayFiles: {} }).spec!.template.metadata!.labels!;
}

function kernelPodLabels(templateLabels: Record<string, string>): Record<string, string> {
  const kernel: JupyterKernel = {
    apiVersion: API_VERSION, kind: KIND.kernel, metadata: { name: "k", namespace: "ns", uid: "u" },
    spec: { kernelId: "0b7e7d3c-3a47-4d0b-9d63-2a1f5e0b6c11", template: { metadata: { labels: templateLabels }, spec: { containers: [{ name: "kernel", image: "img" }] } } },
  };
  const result = desiredKernelPod(kernel, undefined, undefined, { bootstrapConfigMap: "b" });
  if ("error" in result) throw new Error(result.error.message);
  return (result.pod as Pod).metadata!.labels!;
}

function notebookPodLabels(templateLabels: Record<string, string>): Record<string, string> {
  const nb: JupyterNotebook = { apiVersion: API_VERSION, kind: KIND.notebook, metadata: { name: "nb", namespace: "ns", uid: "u" }, spec: { template: { metadata: { labels: templateLabels } } } };
  return desiredNotebookDeployment(nb, undefined, { notebookImage: "img" }).spec!.template.metadata!.labels!;
}

describe("NetworkPolicy pod labels (generated from the controller's label functions)", () => {
  it("labelsInCommon keeps what two label sets agree on", () => {
    expect(labelsInCommon({ a: "1", b: "2", c: "3" }, { a: "1", b: "x" })).to.deep.equal({ a: "1" });
  });

  it("every set is on its pods, even over a user's template labels", () => {
    const s = sets();
    expect(matches(s.gateway, gatewayPodLabels()), JSON.stringify(gatewayPodLabels())).to.equal(true);
    expect(matches(s.kernel, kernelPodLabels(overriding(s.kernel)))).to.equal(true);
    expect(matches(s.notebook, notebookPodLabels(overriding(s.notebook)))).to.equal(true);
  });

  it("no set selects another kind's pods", () => {
    const s = sets();
    const pods = { gateway: gatewayPodLabels(), kernel: kernelPodLabels({}), notebook: notebookPodLabels({}) };
    for (const [set, selector] of Object.entries(s)) {
      for (const [kind, labels] of Object.entries(pods)) {
        expect(matches(selector, labels), `${set} labels on a ${kind} pod`).to.equal(set === kind);
      }
    }
  });

  it("renders quoted values, the gateway's name as the chart's expression, and refuses an empty set", () => {
    const text = podLabelsHelpers(podLabelSets(), "NOTICE");
    expect(text).to.include('kubeflow.tkestack.io/gateway: {{ include "ej.gateway.name" . | quote }}');
    expect(text).to.include('component: "kernel"');
    expect(text).not.to.include("\u0000");
    expect(() => podLabelsHelpers([{ name: "x", why: "y", labels: {} }], "NOTICE")).to.throw(/select every pod/);
  });
});

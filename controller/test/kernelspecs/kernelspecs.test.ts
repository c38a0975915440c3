// The kernelspec and kernel template controllers on the real local control plane.
import { expect } from "chai";
import { freshNamespace, getJson, kubectl, kubectlOk, waitFor } from "../../../ci/test/cluster.ts";
import type { ControllerProcess } from "../testing/controller-process.ts";
import { startOperator, waitForReady } from "../gateways/operator-harness.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
const apply = (ns: string, obj: object) => kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify(obj));
const kernelJson = async (ns: string, name: string) => JSON.parse((await getJson(["get", "configmap", `${name}-kernelspec`, "-n", ns])).data["kernel.json"]);

describe("operator: kernelspecs and kernel templates", function () {
  this.timeout(90_000);
  let ns: string;
  let operator: ControllerProcess;

  before(async () => {
    ns = await freshNamespace("kernelspecs");
    operator = await startOperator(ns);
  });
  after(async () => {
    await operator?.stop();
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("a missing template is a condition, not a crash; creating it makes the kernelspec Ready", async () => {
    await apply(ns, { apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "py" }, spec: { language: "python", image: "img:1", template: { name: "tpl" } } });
    const c = await waitForReady("jupyterkernelspec", ns, "py", "False", "TemplateNotFound");
    expect(c.message).to.contain(`${ns}/tpl`);
    expect((await getJson(["get", "jupyterkernelspec", "py", "-n", ns])).status.configMapName).to.equal("py-kernelspec");
    await apply(ns, { apiVersion: API, kind: "JupyterKernelTemplate", metadata: { name: "tpl" }, spec: { template: { metadata: { labels: { team: "a" } }, spec: { containers: [{ name: "kernel" }] } } } });
    await waitForReady("jupyterkerneltemplate", ns, "tpl", "True", "Valid");
    await waitForReady("jupyterkernelspec", ns, "py", "True", "ConfigMapReady");
    expect(operator.child.exitCode).to.equal(null);
  });

  it("editing a kernelspec updates its ConfigMap in place", async () => {
    const before = await getJson(["get", "configmap", "py-kernelspec", "-n", ns]);
    await kubectlOk(["patch", "jupyterkernelspec", "py", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { displayName: "Python 3 (GPU)", image: "img:2", cullIdleTimeout: 600 } })]);
    await waitFor("kernel.json to follow the edit", async () => (await kernelJson(ns, "py")).display_name === "Python 3 (GPU)");
    const k = await kernelJson(ns, "py");
    expect(k.metadata.process_proxy.config.image_name).to.equal("img:2");
    expect(k.metadata.cull_idle_timeout).to.equal(600);
    expect((await getJson(["get", "configmap", "py-kernelspec", "-n", ns])).metadata.uid).to.equal(before.metadata.uid);
  });

  it("an invalid template shows on the template and on the kernelspecs using it", async () => {
    await kubectlOk(["patch", "jupyterkerneltemplate", "tpl", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { template: { metadata: { labels: { team: "not valid!" } } } } })]);
    const t = await waitForReady("jupyterkerneltemplate", ns, "tpl", "False", "InvalidTemplate");
    expect(t.message).to.contain("not valid!");
    const k = await waitForReady("jupyterkernelspec", ns, "py", "False", "TemplateInvalid");
    expect(k.message).to.contain(`${ns}/tpl`);
    await kubectlOk(["patch", "jupyterkerneltemplate", "tpl", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { template: { metadata: { labels: { team: "b" } } } } })]);
    await waitForReady("jupyterkernelspec", ns, "py", "True");
  });

  it("deleting a kernelspec removes its ConfigMap", async () => {
    await kubectlOk(["delete", "jupyterkernelspec", "py", "-n", ns, "--wait=true"]);
    await waitFor("garbage collection of the ConfigMap", async () => (await kubectl(["get", "configmap", "py-kernelspec", "-n", ns])).code !== 0, 60_000);
  });
});

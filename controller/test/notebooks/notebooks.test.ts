// The notebook controller on the real local control plane, with the operator as a real process.
import { expect } from "chai";
import { freshNamespace, getJson, kubectl, kubectlOk, waitFor } from "../../../ci/test/cluster.ts";
import type { ControllerProcess } from "../testing/controller-process.ts";
import { podUids, startOperator, waitForReady } from "../gateways/operator-harness.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
const apply = (ns: string, obj: object) => kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify(obj));
const tokenOf = async (ns: string, secret: string) => Buffer.from((await getJson(["get", "secret", secret, "-n", ns])).data.token, "base64").toString();

describe("operator: notebooks", function () {
  this.timeout(90_000);
  let ns: string;
  let operator: ControllerProcess;

  before(async () => {
    ns = await freshNamespace("notebooks");
    operator = await startOperator(ns);
  });
  after(async () => {
    await operator?.stop();
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("without its gateway: Ready=False GatewayNotFound, and Ready once the gateway is created", async () => {
    await apply(ns, { apiVersion: API, kind: "JupyterNotebook", metadata: { name: "nb" }, spec: { gateway: { name: "gw" } } });
    const c = await waitForReady("jupyternotebook", ns, "nb", "False", "GatewayNotFound");
    expect(c.message).to.contain(`${ns}/gw`);
    // The workload exists meanwhile and already points at where the gateway will be.
    const env = (await getJson(["get", "deployment", "nb", "-n", ns])).spec.template.spec.containers[0].env;
    expect(env).to.deep.include({ name: "JUPYTER_GATEWAY_URL", value: `http://gw.${ns}:8888` });
    await apply(ns, { apiVersion: API, kind: "JupyterGateway", metadata: { name: "gw" }, spec: {} });
    await waitForReady("jupyternotebook", ns, "nb", "True", "Available", 60_000);
    expect((await getJson(["get", "jupyternotebook", "nb", "-n", ns])).status.url).to.equal(`http://nb.${ns}:8888`);
  });

  it("generates a token Secret once and never replaces it, even when the notebook changes", async () => {
    const token = await tokenOf(ns, "nb-token");
    expect(token).to.match(/^[0-9a-f]{48}$/);
    const env = (await getJson(["get", "deployment", "nb", "-n", ns])).spec.template.spec.containers[0].env;
    expect(env).to.deep.include({ name: "JUPYTER_TOKEN", valueFrom: { secretKeyRef: { name: "nb-token", key: "token" } } });
    const before = await podUids(ns, "kubeflow.tkestack.io/notebook=nb");
    await kubectlOk(["patch", "jupyternotebook", "nb", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { resources: { requests: { cpu: "200m" } } } })]);
    await waitFor("the notebook to roll to its new template", async () => {
      const now = await podUids(ns, "kubeflow.tkestack.io/notebook=nb");
      return now.length === 1 && now[0] !== before[0];
    }, 30_000);
    await waitForReady("jupyternotebook", ns, "nb", "True");
    expect(await tokenOf(ns, "nb-token")).to.equal(token);
  });

  it("the gateway's generated token reaches the gateway, its sidecar and the notebook, and survives gateway changes", async () => {
    const token = await tokenOf(ns, "gw-gateway-token");
    expect(token).to.match(/^[0-9a-f]{48}$/);
    const ref = { secretKeyRef: { name: "gw-gateway-token", key: "token" } };
    const gwPod = (await getJson(["get", "deployment", "gw", "-n", ns])).spec.template.spec;
    const envOf = (c: string) => gwPod.containers.find((x: any) => x.name === c).env;
    expect(envOf("gateway")).to.deep.include({ name: "EG_AUTH_TOKEN", valueFrom: ref });
    expect(envOf("sidecar")).to.deep.include({ name: "EJ_GATEWAY_TOKEN", valueFrom: ref });
    const nbEnv = (await getJson(["get", "deployment", "nb", "-n", ns])).spec.template.spec.containers[0].env;
    expect(nbEnv).to.deep.include({ name: "JUPYTER_GATEWAY_AUTH_TOKEN", valueFrom: ref });
    await kubectlOk(["patch", "jupytergateway", "gw", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { launchTimeout: 90 } })]);
    await waitFor("the gateway Deployment to follow", async () => (await getJson(["get", "deployment", "gw", "-n", ns])).spec.template.spec.containers[0].env
      .some((e: any) => e.name === "EG_KERNEL_LAUNCH_TIMEOUT" && e.value === "90"), 30_000);
    expect(await tokenOf(ns, "gw-gateway-token")).to.equal(token);
  });

  it("honours auth.mode: disable (no Secret) and a user's own token Secret", async () => {
    await apply(ns, { apiVersion: API, kind: "JupyterNotebook", metadata: { name: "open" }, spec: { gateway: { name: "gw" }, auth: { mode: "disable" } } });
    await waitForReady("jupyternotebook", ns, "open", "True", undefined, 60_000);
    expect((await kubectl(["get", "secret", "open-token", "-n", ns])).code).to.not.equal(0);
    const env = (await getJson(["get", "deployment", "open", "-n", ns])).spec.template.spec.containers[0].env;
    expect(env.find((e: { name: string }) => e.name === "JUPYTER_TOKEN")).to.equal(undefined);

    await apply(ns, { apiVersion: API, kind: "JupyterNotebook", metadata: { name: "mine" }, spec: { gateway: { name: "gw" }, auth: { secretName: "my-token" } } });
    await waitForReady("jupyternotebook", ns, "mine", "False", "TokenSecretNotFound");
    await kubectlOk(["create", "secret", "generic", "my-token", "-n", ns, "--from-literal=tokn=typo"]);
    await kubectlOk(["annotate", "jupyternotebook", "mine", "-n", ns, "touched=0"]);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getJson(["get", "jupyternotebook", "mine", "-n", ns])).status.conditions[0].reason).to.equal("TokenSecretNotFound");
    await kubectlOk(["delete", "secret", "my-token", "-n", ns]);
    await kubectlOk(["create", "secret", "generic", "my-token", "-n", ns, "--from-literal=token=s3cret"]);
    // Nothing watches an unlabelled Secret: the operator looks again every 30 s; a touch is faster.
    await kubectlOk(["annotate", "jupyternotebook", "mine", "-n", ns, "touched=1", "--overwrite"]);
    await waitForReady("jupyternotebook", ns, "mine", "True", undefined, 60_000);
    expect(await tokenOf(ns, "my-token")).to.equal("s3cret");
  });

  it("merges spec.template into the pod", async () => {
    await kubectlOk(["patch", "jupyternotebook", "open", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { template: { metadata: { labels: { team: "a" } }, spec: { containers: [{ name: "notebook", env: [{ name: "EXTRA", value: "1" }] }] } } } })]);
    await waitFor("the override in the Deployment", async () => {
      const t = (await getJson(["get", "deployment", "open", "-n", ns])).spec.template;
      return t.metadata.labels.team === "a" && t.spec.containers[0].env.some((e: { name: string }) => e.name === "EXTRA");
    });
  });

  it("puts back a child someone deleted, and undoes edits to fields it manages", async () => {
    const svc = await getJson(["get", "service", "open", "-n", ns]);
    await kubectlOk(["delete", "service", "open", "-n", ns]);
    await waitFor("the Service to be recreated", async () => {
      const r = await kubectl(["get", "service", "open", "-n", ns, "-o", "jsonpath={.metadata.uid}"]);
      return r.code === 0 && r.stdout && r.stdout !== svc.metadata.uid;
    });
    await kubectlOk(["set", "image", "deployment/open", "notebook=evil:latest", "-n", ns]);
    await waitFor("the image edit to be reverted", async () => (await getJson(["get", "deployment", "open", "-n", ns])).spec.template.spec.containers[0].image !== "evil:latest");
  });

  it("reports a Deployment of the same name that something else controls, instead of failing silently", async () => {
    await kubectlOk(["create", "configmap", "other-owner", "-n", ns]);
    const owner = await getJson(["get", "configmap", "other-owner", "-n", ns]);
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({
      apiVersion: "apps/v1", kind: "Deployment",
      metadata: { name: "clash", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "other-owner", uid: owner.metadata.uid, controller: true }] },
      spec: { replicas: 0, selector: { matchLabels: { app: "clash" } }, template: { metadata: { labels: { app: "clash" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
    }));
    await apply(ns, { apiVersion: API, kind: "JupyterNotebook", metadata: { name: "clash" }, spec: { auth: { mode: "disable" } } });
    const c = await waitForReady("jupyternotebook", ns, "clash", "False", "ApplyFailed");
    expect(c.message).to.contain("deployments/clash");
    expect(operator.child.exitCode).to.equal(null);
  });

  it("deleting a notebook removes its Deployment, Service, ConfigMap and generated Secret", async () => {
    await kubectlOk(["delete", "jupyternotebook", "nb", "-n", ns, "--wait=true"]);
    await waitFor("garbage collection", async () => {
      const left = await kubectlOk(["get", "deployments,services,secrets,configmaps", "-n", ns, "-l", "kubeflow.tkestack.io/notebook=nb", "-o", "name"]);
      return left.trim() === "";
    }, 60_000);
  });
});

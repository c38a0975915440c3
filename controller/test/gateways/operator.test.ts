// Acceptance of the operator role on the real local control plane: SEED.md's examples, applied
// unchanged, become running gateways and notebooks; kernelspec changes do not restart gateways;
// other changes roll them; deleting a gateway removes what it owned.
import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getJson, kubectl, kubectlOk, repoRoot, waitFor } from "../../../ci/test/cluster.ts";
import type { ControllerProcess } from "../testing/controller-process.ts";
import { podUids, startOperator, startSidecar, waitForReady } from "./operator-harness.ts";

const ns = "default"; // SEED.md's examples refer to namespace default explicitly
const elastic = join(repoRoot, "examples/elastic");
const custom = join(repoRoot, "examples/elastic-with-custom-kernels");
const GW = "jupytergateway-elastic";
const GW_CUSTOM = "jupytergateway-elastic-with-custom-kernels";
const NB = "jupyternotebook-elastic";

/** The kernelspec directories in a kernels directory (the sidecar's symlinks). */
const kernelsIn = (dir: string): string[] => readdirSync(dir).filter((f) => !f.startsWith(".")).sort();

async function cleanDefaultNamespace(): Promise<void> {
  await kubectl(["delete", "jupyternotebooks,jupytergateways,jupyterkernelspecs,jupyterkerneltemplates", "--all", "-n", ns, "--wait=true"]);
  await waitFor("children of earlier runs to be garbage-collected", async () => {
    const left = await kubectlOk(["get", "deployments,services,configmaps,serviceaccounts,roles", "-n", ns, "-l", "app.kubernetes.io/managed-by=elastic-jupyter", "-o", "name"]);
    return left.trim() === "";
  }, 60_000);
}

describe("operator: SEED.md examples on a real control plane", function () {
  this.timeout(120_000);
  let operator: ControllerProcess;

  before(async () => {
    operator = await startOperator(ns);
    await cleanDefaultNamespace();
  });
  after(async () => {
    await operator?.stop();
    await cleanDefaultNamespace();
  });

  it("applies both example sets unchanged and gets Deployments, Services, RBAC, ConfigMaps and Ready CRs", async () => {
    await kubectlOk(["apply", "-n", ns, "-f", elastic, "-f", custom]);
    for (const [kind, name] of [["jupytergateway", GW], ["jupytergateway", GW_CUSTOM], ["jupyternotebook", NB], ["jupyternotebook", "jupyternotebook-elastic-with-custom-kernels"], ["jupyterkernelspec", "python-kubernetes"], ["jupyterkerneltemplate", "jupyterkerneltemplate-elastic-with-custom-kernels"]] as const) {
      await waitForReady(kind, ns, name, "True", undefined, 60_000);
    }
    for (const gw of [GW, GW_CUSTOM]) {
      const dep = await getJson(["get", "deployment", gw, "-n", ns]);
      const containers = dep.spec.template.spec.containers;
      expect(containers.map((c: { name: string }) => c.name)).to.deep.equal(["gateway", "sidecar"]);
      expect(containers[0].command).to.equal(undefined);
      const svc = await getJson(["get", "service", gw, "-n", ns]);
      expect(svc.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).to.deep.equal(["http:8888", "response:8877"]);
      await kubectlOk(["get", "serviceaccount", gw, "-n", ns]);
      const role = await getJson(["get", "role", gw, "-n", ns]);
      expect(role.rules.length).to.be.greaterThan(0);
      const binding = await getJson(["get", "rolebinding", gw, "-n", ns]);
      expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: gw, namespace: ns }]);
      await kubectlOk(["get", "configmap", `${gw}-gateway-files`, `${gw}-kernel-bootstrap`, "-n", ns]);
    }
    expect((await getJson(["get", "deployment", GW_CUSTOM, "-n", ns])).spec.template.spec.containers[0].image).to.equal("ccr.ccs.tencentyun.com/kubeflow-oteam/enterprise-gateway:dev");
    const kernelJson = JSON.parse((await getJson(["get", "configmap", "python-kubernetes-kernelspec", "-n", ns])).data["kernel.json"]);
    expect(kernelJson.metadata.process_proxy.class_name).to.equal("elastic_jupyter.process_proxy.JupyterKernelProcessProxy");
    expect(kernelJson.argv).to.include("{public_key}");
    // The notebook points at the gateway, with auth disabled as the example asks.
    const nbEnv = (await getJson(["get", "deployment", NB, "-n", ns])).spec.template.spec.containers[0].env;
    expect(nbEnv).to.deep.include({ name: "JUPYTER_GATEWAY_URL", value: `http://${GW}.${ns}:8888` });
  });

  it("runs every pod on the fake nodes", async () => {
    for (const sel of [`kubeflow.tkestack.io/gateway=${GW}`, `kubeflow.tkestack.io/gateway=${GW_CUSTOM}`, `kubeflow.tkestack.io/notebook=${NB}`, "kubeflow.tkestack.io/notebook=jupyternotebook-elastic-with-custom-kernels"]) {
      await waitFor(`pods ${sel} running on a kwok node`, async () => {
        const pods = await getJson<{ items: any[] }>(["get", "pods", "-n", ns, "-l", sel]);
        return pods.items.length === 1 && pods.items.every((p) => p.status.phase === "Running" && /^cpu-node-\d$/.test(p.spec.nodeName));
      }, 30_000);
    }
  });

  it("adds and removes a kernelspec on a running gateway without a new gateway pod", async () => {
    const selector = `kubeflow.tkestack.io/gateway=${GW_CUSTOM}`;
    const before = await podUids(ns, selector);
    const generation = (await getJson(["get", "deployment", GW_CUSTOM, "-n", ns])).metadata.generation;
    expect(before).to.have.length(1);
    // kwok pods run no containers, so the gateway pod's sidecar runs here as a real process, with
    // the gateway's ServiceAccount token (only its Role) and a directory for the kernels volume.
    const dir = mkdtempSync(join(tmpdir(), "ej-kernels-"));
    const sidecar = await startSidecar(ns, GW_CUSTOM, dir);
    try {
      await waitFor("the sidecar to sync the listed kernelspec", async () => kernelsIn(dir).join() === "python-kubernetes");

      await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "python-gpu" },
        spec: { language: "python", image: "quay.io/jupyter/pytorch-notebook:cuda12-2026-08-24" },
      }));
      await waitForReady("jupyterkernelspec", ns, "python-gpu", "True");
      await kubectlOk(["patch", "jupytergateway", GW_CUSTOM, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { kernels: ["python-kubernetes", "python-gpu"] } })]);
      await waitForReady("jupytergateway", ns, GW_CUSTOM, "True");
      await waitFor("python-gpu in the kernels directory", async () => kernelsIn(dir).join() === "python-gpu,python-kubernetes");
      expect(JSON.parse(readFileSync(join(dir, "python-gpu", "kernel.json"), "utf8")).argv).to.include("python-gpu");
      // Editing the kernelspec reaches the running gateway's directory too.
      await kubectlOk(["patch", "jupyterkernelspec", "python-gpu", "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { displayName: "PyTorch (1 GPU)" } })]);
      await waitFor("the edited kernel.json in the kernels directory", async () => JSON.parse(readFileSync(join(dir, "python-gpu", "kernel.json"), "utf8")).display_name === "PyTorch (1 GPU)");

      await kubectlOk(["patch", "jupytergateway", GW_CUSTOM, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { kernels: ["python-kubernetes"] } })]);
      await waitForReady("jupytergateway", ns, GW_CUSTOM, "True");
      await waitFor("python-gpu gone from the kernels directory", async () => kernelsIn(dir).join() === "python-kubernetes");

      // The same sidecar, with the same Role, turns a JupyterKernel (as the launcher creates it)
      // into a pod that mounts this gateway's kernel bootstrap ConfigMap.
      await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: "kernel-0b7e7d3c" },
        spec: { kernelId: "0b7e7d3c-3a47-4d0b-9d63-2a1f5e0b6c11", kernelSpec: { name: "python-kubernetes" }, responseAddress: "10.0.0.1:8877", publicKey: "k", portRange: "0..0" },
      }));
      const kernel = await waitFor("the kernel to run", async () => {
        const k = await getJson(["get", "jupyterkernel", "kernel-0b7e7d3c", "-n", ns]);
        return k.status?.phase === "Running" ? k : undefined;
      }, 30_000);
      const pod = await getJson(["get", "pod", kernel.status.podName, "-n", ns]);
      expect(pod.spec.volumes.map((v: { configMap?: { name: string } }) => v.configMap?.name)).to.include(`${GW_CUSTOM}-kernel-bootstrap`);
      await kubectlOk(["get", "configmap", `${GW_CUSTOM}-kernel-bootstrap`, "-n", ns]);
      await kubectlOk(["delete", "jupyterkernel", "kernel-0b7e7d3c", "-n", ns]);
      // Nothing failed, and in particular nothing was forbidden by the gateway's Role. (403 as a
      // number of its own: the log's random metrics port may contain the digits, e.g. 40369.)
      const bad = sidecar.lines.filter((l) => l.level === "error" || /forbidden|\b403\b/i.test(JSON.stringify(l)));
      expect(bad, `sidecar log ${sidecar.logFile}`).to.deep.equal([]);
    } finally {
      await sidecar.stop();
    }
    // Give a (wrong) rollout every chance to show up before comparing.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await podUids(ns, selector)).to.deep.equal(before);
    expect((await getJson(["get", "deployment", GW_CUSTOM, "-n", ns])).metadata.generation).to.equal(generation);
  });

  it("reports a listed kernelspec that does not exist, and recovers when it is created", async () => {
    await kubectlOk(["patch", "jupytergateway", GW_CUSTOM, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { kernels: ["python-kubernetes", "r-kernel"] } })]);
    const c = await waitForReady("jupytergateway", ns, GW_CUSTOM, "False", "KernelSpecNotFound");
    expect(c.message).to.contain("r-kernel");
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "r-kernel" }, spec: { language: "R", image: "quay.io/jupyter/r-notebook:2026-08-24" } }));
    await waitForReady("jupytergateway", ns, GW_CUSTOM, "True");
  });

  it("rolls the gateway when another setting changes", async () => {
    const selector = `kubeflow.tkestack.io/gateway=${GW_CUSTOM}`;
    const before = await podUids(ns, selector);
    await kubectlOk(["patch", "jupytergateway", GW_CUSTOM, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { launchTimeout: 120 } })]);
    await waitFor("a new gateway pod", async () => {
      const now = await podUids(ns, selector);
      return now.length === 1 && now[0] !== before[0];
    }, 30_000);
    const env = (await getJson(["get", "deployment", GW_CUSTOM, "-n", ns])).spec.template.spec.containers[0].env;
    expect(env).to.deep.include({ name: "EG_KERNEL_LAUNCH_TIMEOUT", value: "120" });
    await waitForReady("jupytergateway", ns, GW_CUSTOM, "True");
  });

  it("deleting a gateway removes everything it owned; its notebook reports GatewayNotFound and recovers", async () => {
    await kubectlOk(["delete", "jupytergateway", GW, "-n", ns, "--wait=true"]);
    await waitFor("the gateway's children to be garbage-collected", async () => {
      const left = await kubectlOk(["get", "deployments,services,configmaps,serviceaccounts,roles,rolebindings", "-n", ns, "-l", `kubeflow.tkestack.io/gateway=${GW}`, "-o", "name"]);
      return left.trim() === "";
    }, 60_000);
    const c = await waitForReady("jupyternotebook", ns, NB, "False", "GatewayNotFound");
    expect(c.message).to.contain(`${ns}/${GW}`);
    await kubectlOk(["apply", "-n", ns, "-f", join(elastic, "kubeflow.tkestack.io_v1alpha1_jupytergateway.yaml")]);
    await waitForReady("jupyternotebook", ns, NB, "True", "Available", 60_000);
  });
});

// The culler in a real sidecar process against the real local control plane. The gateway's REST API
// is a small local server here, so the test can make it refuse the sidecar's token or forget its
// kernels at will; the e2e (ci/test/e2e/culling.test.ts) does the same against a real Enterprise
// Gateway. What is checked is what an admin sees: the JupyterGateway's Culling condition, the
// metrics, and kernels ended with a reason.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { freshNamespace, getJson, kubectl, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
const GW = "gw";
const KERNEL_ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";

/** Answers GET /api/kernels as Enterprise Gateway does with EG_AUTH_TOKEN set. */
function fakeGateway(state: { token: string; kernels: unknown[] }): Server {
  return createServer((req, res) => {
    if (req.headers.authorization !== `token ${state.token}`) return void res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ reason: null, message: "Unauthorized" }));
    if (req.method === "GET" && req.url === "/api/kernels") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(state.kernels));
    res.writeHead(404).end();
  });
}

const cullingCondition = async (ns: string): Promise<any> =>
  ((await getJson(["-n", ns, "get", "jupytergateway", GW])).status?.conditions ?? []).find((c: any) => c.type === "Culling");

describe("sidecar culling: the Culling condition, failure metrics and orphaned kernels (controller as a real process)", function () {
  this.timeout(120_000);
  let ns: string;
  let controller: ControllerProcess;
  let server: Server;
  let metricsUrl: string;
  const gateway = { token: "wrong", kernels: [] as unknown[] };
  const metric = async (line: RegExp): Promise<number> => {
    const m = line.exec(await (await fetch(metricsUrl)).text());
    return m ? Number(m[1]) : 0;
  };

  before(async () => {
    await installCrds();
    ns = await freshNamespace("culling");
    server = fakeGateway(gateway);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    // launchTimeout 1: the orphan grace period can then be as short as 31 s (launch timeout + 30 s).
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterGateway", metadata: { name: GW }, spec: { cullInterval: 1, launchTimeout: 1, orphanGracePeriod: 1 } }));
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "python-gpu" },
      spec: { language: "Python", image: "registry.example/pytorch:2", gpu: { count: 1 }, cullIdleTimeout: 3600 },
    }));
    // The operator is not running: its Ready condition, as it would write it, shows the sidecar's stays beside it.
    await kubectlOk(["-n", ns, "patch", "jupytergateway", GW, "--subresource=status", "--type=merge", "--field-manager=elastic-jupyter", "-p",
      JSON.stringify({ status: { conditions: [{ type: "Ready", status: "True", reason: "Available", message: "test", lastTransitionTime: "2026-12-03T00:00:00Z" }] } })]);
    controller = startController([
      "--role", "sidecar", "--namespace", ns, "--kubeconfig", testCluster.kubeconfig, "--metrics-addr", "127.0.0.1:0", "--leader-elect=false",
      "--gateway", GW, "--gateway-url", `http://127.0.0.1:${(server.address() as AddressInfo).port}`, "--gateway-token", "s3cret",
    ]);
    const running = await waitFor("controller running", async () => controller.lines.find((l) => l.msg === "running"));
    metricsUrl = `http://127.0.0.1:${String(running.metricsPort)}/metrics`;
  });

  after(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    expect(await controller?.stop(), `controller exit code (log: ${controller?.logFile})`).to.equal(0);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("a gateway answering 401 sets Culling False/GatewayUnauthorized with the error, counts the failure and warns; a good answer sets it True", async () => {
    const c = await waitFor("Culling False", async () => { const x = await cullingCondition(ns); return x?.status === "False" ? x : undefined; });
    expect(c).to.include({ reason: "GatewayUnauthorized" });
    expect(c.message).to.contain("HTTP 401");
    expect(await metric(/^elastic_jupyter_culling_failures_total\{reason="GatewayUnauthorized"\} (\d+)/m)).to.be.at.least(1);
    expect(controller.lines.some((l) => l.level === "warn" && String(l.msg).startsWith("culling: cannot list") && l.reason === "GatewayUnauthorized")).to.equal(true);
    // The condition sits beside the operator's, which the sidecar's field manager leaves alone.
    const gw = await getJson(["-n", ns, "get", "jupytergateway", GW, "--show-managed-fields"]);
    expect(gw.status.conditions.map((x: any) => x.type)).to.deep.equal(["Ready", "Culling"]);
    expect(gw.metadata.managedFields.find((m: any) => m.manager === "elastic-jupyter-sidecar")?.subresource).to.equal("status");

    gateway.token = "s3cret";
    const ok = await waitFor("Culling True", async () => { const x = await cullingCondition(ns); return x?.status === "True" ? x : undefined; });
    expect(ok.reason).to.equal("GatewayAnswered");
    const after = await getJson(["-n", ns, "get", "jupytergateway", GW]);
    expect(after.status.conditions.map((x: any) => x.type)).to.deep.equal(["Ready", "Culling"]);
  });

  it("a GPU kernel the gateway does not know is ended after the grace period: Failed/Orphaned, then deleted with its pod", async function () {
    this.timeout(150_000);
    const name = `kernel-${KERNEL_ID}`;
    // A finalizer of the test's keeps the deleted object readable, to see the status the sidecar wrote before deleting.
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: API, kind: "JupyterKernel", metadata: { name, finalizers: ["test.elastic-jupyter.dev/hold"], labels: { "kubeflow.tkestack.io/gateway": GW } },
      spec: { kernelId: KERNEL_ID, kernelSpec: { name: "python-gpu" } },
    }));
    const running = await waitFor("the kernel Running on a GPU node", async () => {
      const k = await getJson(["-n", ns, "get", "jupyterkernel", name]);
      return k.status?.phase === "Running" ? k : undefined;
    });
    expect(running.status.gpus).to.equal(1);
    const created = Date.parse(running.metadata.creationTimestamp);
    const ended = await waitFor("the orphaned kernel to be deleted", async () => {
      const k = await getJson(["-n", ns, "get", "jupyterkernel", name]);
      return k.metadata.deletionTimestamp ? k : undefined;
    }, 90_000);
    // Not before the grace period: launchTimeout 1 + 30 s, counted from creation and from first seen missing.
    expect(Date.parse(ended.metadata.deletionTimestamp) - created).to.be.at.least(31_000 - 1000);
    expect(ended.status).to.include({ phase: "Failed", reason: "Orphaned" });
    expect(ended.status.message).to.match(new RegExp(`^the gateway has not known kernel ${KERNEL_ID} for 3\\d s \\(orphanGracePeriod 31 s\\): ended to free its resources and GPUs$`));
    expect(await metric(/^elastic_jupyter_kernels_culled_total\{kernelspec="python-gpu",reason="orphaned"\} (\d+)/m)).to.equal(1);
    expect(controller.lines.some((l) => l.msg === "ended orphaned kernel" && l.kernelId === KERNEL_ID && l.gpus === 1)).to.equal(true);
    // Once the kernel is gone (the test's finalizer removed), garbage collection takes its pod and GPU.
    await kubectlOk(["-n", ns, "patch", "jupyterkernel", name, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await waitFor("the kernel pod gone", async () => (await getJson(["-n", ns, "get", "pods", "-l", `kernel_id=${KERNEL_ID}`])).items.length === 0, 30_000);
  });

  it("a kernel the gateway lists is left alone, and its idle GPUs are counted", async function () {
    this.timeout(60_000);
    const id = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d";
    const name = `kernel-${id}`;
    gateway.kernels = [{ id, name: "python-gpu", last_activity: new Date().toISOString(), execution_state: "idle", connections: 1 }];
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: API, kind: "JupyterKernel", metadata: { name, labels: { "kubeflow.tkestack.io/gateway": GW } },
      spec: { kernelId: id, kernelSpec: { name: "python-gpu" } },
    }));
    await waitFor("the kernel Running", async () => (await getJson(["-n", ns, "get", "jupyterkernel", name])).status?.phase === "Running");
    await waitFor("the idle GPU gauge", async () => (await metric(new RegExp(`^elastic_jupyter_gpus_idle\\{namespace="${ns}",kernelspec="python-gpu"\\} (\\S+)`, "m"))) === 1);
    await waitFor("idle GPU-seconds", async () => (await metric(new RegExp(`^elastic_jupyter_idle_gpu_seconds_total\\{namespace="${ns}",kernelspec="python-gpu"\\} (\\S+)`, "m"))) >= 2, 20_000);
    // Past the 31 s grace period, it is still there (it was never missing from the gateway's list).
    await new Promise((r) => setTimeout(r, 33_000));
    expect((await getJson(["-n", ns, "get", "jupyterkernel", name])).metadata.deletionTimestamp).to.equal(undefined);
  });
});

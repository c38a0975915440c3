// The sidecar role as a real process against the real local control plane: JupyterKernels become
// pods on kwok's fake nodes, status follows the pods, GPUs are scheduled for real, and the
// kernelspec directory follows its ConfigMaps.
import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshNamespace, getJson, kubectl, kubectlOk, repoRoot, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";
import type { JupyterKernelSpec } from "@elastic-jupyter/api";
import { desiredKernelspecConfigMap } from "../../src/kernelspecs/configmap.ts";

const EXAMPLES = join(repoRoot, "examples/elastic-with-custom-kernels");

function uuid(): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

function kernelYaml(name: string, id: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name }, spec: { kernelId: id, ...spec } });
}

async function kernelStatus(ns: string, name: string): Promise<any> {
  return (await getJson(["-n", ns, "get", "jupyterkernel", name])).status ?? {};
}

describe("sidecar: kernels become pods (controller as a real process)", function () {
  this.timeout(120_000);
  let ns: string;
  let kernelsDir: string;
  let controller: ControllerProcess;

  before(async () => {
    await installCrds();
    ns = await freshNamespace("kernels");
    kernelsDir = mkdtempSync(join(tmpdir(), "ej-kernels-"));
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "python" },
      spec: { language: "Python", displayName: "Python", image: "registry.example/py:1" },
    }));
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "python-gpu" },
      spec: { language: "Python", displayName: "Python with GPUs", image: "registry.example/pytorch:2", gpu: { count: 1, max: 4 } },
    }));
    controller = startController([
      "--role", "sidecar", "--namespace", ns, "--kubeconfig", testCluster.kubeconfig,
      "--metrics-addr", "127.0.0.1:0", "--kernels-dir", kernelsDir, "--leader-elect=false",
    ]);
  });

  after(async () => {
    const code = await controller?.stop();
    expect(code, `controller exit code (log: ${controller?.logFile})`).to.equal(0);
  });

  it("places a 2-GPU kernel on a GPU node", async () => {
    const id = uuid();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(`kernel-${id}`, id, { kernelSpec: { name: "python-gpu" }, gpus: 2 }));
    const s = await waitFor("GPU kernel Running", async () => {
      const st = await kernelStatus(ns, `kernel-${id}`);
      return st.phase === "Running" ? st : undefined;
    });
    expect(s.nodeName).to.match(/^gpu-node-/);
    expect(s.gpus).to.equal(2);
  });

  it("reports a 99-GPU kernel Unschedulable with the scheduler's reason within seconds", async () => {
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "python-huge" },
      spec: { language: "Python", displayName: "Huge", image: "registry.example/pytorch:2", gpu: { count: 1, max: 128 } },
    }));
    const id = uuid();
    const t0 = Date.now();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(`kernel-${id}`, id, { kernelSpec: { name: "python-huge" }, gpus: 99 }));
    const s = await waitFor("Unschedulable", async () => {
      const st = await kernelStatus(ns, `kernel-${id}`);
      return st.reason === "Unschedulable" ? st : undefined;
    }, 15_000);
    expect(Date.now() - t0).to.be.below(15_000);
    expect(s.phase).to.equal("Pending");
    expect(s.message).to.contain("Insufficient nvidia.com/gpu");
    expect(s.conditions.find((c: any) => c.type === "Scheduled")).to.include({ status: "False", reason: "Unschedulable" });
  });

  it("fails at once, with a clear message, a kernel asking for more GPUs than its kernelspec allows", async () => {
    const id = uuid();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(`kernel-${id}`, id, { kernelSpec: { name: "python-gpu" }, gpus: 8 }));
    const s = await waitFor("Failed", async () => {
      const st = await kernelStatus(ns, `kernel-${id}`);
      return st.phase === "Failed" ? st : undefined;
    }, 10_000);
    expect(s.reason).to.equal("GPULimitExceeded");
    expect(s.message).to.equal("requested 8 nvidia.com/gpu, but kernelspec python-gpu allows at most 4 (set by spec.gpu.max)");
    expect((await kubectl(["-n", ns, "get", "pod", `kernel-${id}`])).code, "no pod was created").to.not.equal(0);
  });

  it("removes the pod when the kernel is deleted", async () => {
    const id = uuid();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(`kernel-${id}`, id, { kernelSpec: { name: "python" } }));
    await waitFor("pod", async () => (await kubectl(["-n", ns, "get", "pod", `kernel-${id}`])).code === 0);
    await kubectlOk(["-n", ns, "delete", "jupyterkernel", `kernel-${id}`, "--wait=false"]);
    // Garbage collection; on a fresh cluster the collector learns the new CRD kinds on its 30 s
    // discovery resync, so allow for one.
    await waitFor("pod gone", async () => (await kubectl(["-n", ns, "get", "pod", `kernel-${id}`])).code !== 0, 60_000);
  });

  it("recreates a pod killed before the kernel was ready", async () => {
    const id = uuid();
    // A node selector nothing matches keeps the pod Pending, so it is never ready.
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(`kernel-${id}`, id, {
      kernelSpec: { name: "python" },
      template: { spec: { nodeSelector: { "no-such-node": "true" }, containers: [{ name: "kernel" }] } },
    }));
    const first = await waitFor("first pod", async () => {
      const r = await kubectl(["-n", ns, "get", "pod", `kernel-${id}`, "-o", "jsonpath={.metadata.uid}"]);
      return r.code === 0 && r.stdout ? r.stdout : undefined;
    });
    await waitFor("status sees the pod", async () => (await kernelStatus(ns, `kernel-${id}`)).podUID === first);
    await kubectlOk(["-n", ns, "delete", "pod", `kernel-${id}`, "--wait=true"]);
    const second = await waitFor("a new pod", async () => {
      const r = await kubectl(["-n", ns, "get", "pod", `kernel-${id}`, "-o", "jsonpath={.metadata.uid}"]);
      return r.code === 0 && r.stdout && r.stdout !== first ? r.stdout : undefined;
    }, 20_000);
    expect(second).to.not.equal(first);
    const s = await waitFor("status on the new pod", async () => {
      const st = await kernelStatus(ns, `kernel-${id}`);
      return st.podUID === second ? st : undefined;
    });
    expect(s.restarts).to.equal(1);
    expect(s.phase).to.equal("Pending");
  });

  it("ends the kernel in a terminal phase when its pod is killed after it was ready", async () => {
    const id = uuid();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(`kernel-${id}`, id, { kernelSpec: { name: "python" } }));
    await waitFor("Running", async () => (await kernelStatus(ns, `kernel-${id}`)).phase === "Running");
    await kubectlOk(["-n", ns, "delete", "pod", `kernel-${id}`, "--wait=true"]);
    const s = await waitFor("Failed", async () => {
      const st = await kernelStatus(ns, `kernel-${id}`);
      return st.phase === "Failed" ? st : undefined;
    });
    expect(s.reason).to.equal("PodDeleted");
    await new Promise((r) => setTimeout(r, 2000));
    expect((await kubectl(["-n", ns, "get", "pod", `kernel-${id}`])).code, "a terminal kernel is never revived").to.not.equal(0);
  });

  it("accepts the original operator's kernel shape (no spec.kernelId; KERNEL_ID in its template) and gives it a pod EG can find", async () => {
    const id = uuid();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: "seed-shaped" },
      spec: { template: { spec: { containers: [{ name: "kernel", image: "registry.example/py:1", env: [{ name: "KERNEL_ID", value: id }] }] } } },
    }));
    await waitFor("seed-shaped kernel Running", async () => (await kernelStatus(ns, "seed-shaped")).phase === "Running");
    const pods = await getJson<{ items: any[] }>(["-n", ns, "get", "pods", "-l", `kernel_id=${id},component=kernel`]);
    expect(pods.items.map((p) => p.metadata.name)).to.deep.equal(["seed-shaped"]);
  });

  it("keeps the kernelspec directory in step with its kernelspecs' ConfigMaps (add, edit, delete) and ignores ConfigMaps no kernelspec controls", async () => {
    // The operator's rendering, applied here by hand (no operator runs in this suite).
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "r-kernel" }, spec: { language: "R", displayName: "R v1", image: "registry.example/r:1" },
    }));
    const spec = await getJson<JupyterKernelSpec>(["-n", ns, "get", "jupyterkernelspec", "r-kernel"]);
    const rendered = (displayName: string) => JSON.stringify(desiredKernelspecConfigMap({ ...spec, spec: { ...spec.spec, displayName } }));
    const written = () => JSON.parse(readFileSync(join(kernelsDir, "r-kernel", "kernel.json"), "utf8"));
    await kubectlOk(["-n", ns, "apply", "-f", "-"], rendered("R v1"));
    await waitFor("kernel.json written", async () => existsSync(join(kernelsDir, "r-kernel", "kernel.json")));
    expect(written().display_name).to.equal("R v1");
    await kubectlOk(["-n", ns, "apply", "-f", "-"], rendered("R v2"));
    await waitFor("kernel.json updated", async () => written().display_name === "R v2");

    // Anyone who may create ConfigMaps in the namespace: an argv for the gateway to run.
    const forged = (name: string, kernelspec: string, extra: object = {}) => JSON.stringify({
      apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels: { "kubeflow.tkestack.io/kernelspec": kernelspec }, ...extra },
      data: { "kernel.json": JSON.stringify({ display_name: "pwn", language: "python", argv: ["sh", "-c", "touch /tmp/pwned"], metadata: { process_proxy: { class_name: "elastic_jupyter.process_proxy.JupyterKernelProcessProxy" } } }) },
    });
    await kubectlOk(["-n", ns, "apply", "-f", "-"], forged("evil-kernelspec", "evil"));
    // Even one claiming the real kernelspec as its owner (uid and all) carries a foreign argv.
    await kubectlOk(["-n", ns, "apply", "-f", "-"], forged("python-kernelspec", "python", { ownerReferences: [{ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", name: "python", uid: (await getJson<JupyterKernelSpec>(["-n", ns, "get", "jupyterkernelspec", "python"])).metadata!.uid, controller: true }] }));
    await waitFor("the sidecar to say why it skipped both", async () =>
      controller.lines.filter((l) => l.msg === "kernelspec ConfigMap skipped" && /evil-kernelspec: JupyterKernelSpec evil does not exist|python-kernelspec: kernel.json argv/.test(String(l.why))).length >= 2);
    expect(readdirSync(kernelsDir).filter((f) => !f.startsWith(".")).sort()).to.deep.equal(["r-kernel"]);

    await kubectlOk(["-n", ns, "delete", "configmap", "r-kernel-kernelspec"]);
    await waitFor("kernelspec removed", async () => !readdirSync(kernelsDir).includes("r-kernel"));
  });
});

// SEED.md's custom-kernels example refers to its template in namespace `default`, so this runs
// there, as SEED's `kubectl apply` does, with a sidecar watching `default`.
describe("sidecar: SEED's custom-kernels kernelspec and template, unchanged", function () {
  this.timeout(60_000);
  const ns = "default";
  let controller: ControllerProcess;
  let id: string;

  before(async () => {
    await installCrds();
    await kubectlOk(["-n", ns, "apply", "-f", join(EXAMPLES, "kubeflow.tkestack.io_v1alpha1_jupyterkerneltemplate.yaml")]);
    await kubectlOk(["-n", ns, "apply", "-f", join(EXAMPLES, "kubeflow.tkestack.io_v1alpha1_jupyterkernelspec.yaml")]);
    controller = startController(["--role", "sidecar", "--namespace", ns, "--kubeconfig", testCluster.kubeconfig, "--metrics-addr", "127.0.0.1:0", "--leader-elect=false"]);
  });

  after(async () => {
    if (id) await kubectl(["-n", ns, "delete", "jupyterkernel", `kernel-${id}`, "--wait=false"]);
    expect(await controller?.stop(), `controller exit code (log: ${controller?.logFile})`).to.equal(0);
  });

  it("turns SEED's custom kernelspec + template into a Running pod; status shows phase, node and IP", async () => {
    id = uuid();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(`kernel-${id}`, id, { kernelSpec: { name: "python-kubernetes" } }));
    const status = await waitFor("kernel Running", async () => {
      const s = await kernelStatus(ns, `kernel-${id}`);
      return s.phase === "Running" ? s : undefined;
    });
    expect(status.nodeName).to.match(/^cpu-node-/);
    expect(status.podIP).to.match(/^10\.244\./);
    expect(status.conditions.find((c: any) => c.type === "Ready").status).to.equal("True");
    const pod = await getJson(["-n", ns, "get", "pod", `kernel-${id}`]);
    expect(pod.metadata.labels).to.include({ kernel_id: id, component: "kernel", app: "enterprise-gateway" });
    expect(pod.spec.containers[0].image).to.equal("ccr.ccs.tencentyun.com/kubeflow-oteam/jupyter-kernel-py:2.5.0");
    const pods = await getJson<{ items: any[] }>(["-n", ns, "get", "pods", "-l", `kernel_id=${id},component=kernel`]);
    expect(pods.items, "EG's label selector finds exactly one pod").to.have.length(1);
  });

});

// What a kernel costs the API server, counted by the controller's own request metrics: the bar of
// issue 14 (≤ 3 writes over a kernel's life, deletion aside; no GETs). Its own namespace and
// controller, so no other kernel's writes are counted.
describe("sidecar: a kernel's cost in API requests, and the GPU gauges", function () {
  this.timeout(90_000);
  let ns: string;
  let controller: ControllerProcess;
  let metricsUrl: string;

  const scrape = async (): Promise<Map<string, number>> => {
    const text = await (await fetch(metricsUrl)).text();
    return new Map(text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]));
  };
  const sum = (m: Map<string, number>, prefix: string, ...has: string[]): number =>
    [...m].filter(([k]) => k.startsWith(prefix) && has.every((h) => k.includes(h))).reduce((n, [, v]) => n + v, 0);

  before(async () => {
    await installCrds();
    ns = await freshNamespace("kernel-cost");
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "python-gpu" },
      spec: { language: "Python", displayName: "Python with GPUs", image: "registry.example/pytorch:2", gpu: { count: 1, max: 4 } },
    }));
    controller = startController(["--role", "sidecar", "--namespace", ns, "--kubeconfig", testCluster.kubeconfig, "--metrics-addr", "127.0.0.1:0", "--leader-elect=false"]);
    const running = await waitFor("controller running", async () => controller.lines.find((l) => l.msg === "running"));
    metricsUrl = `http://127.0.0.1:${String(running.metricsPort)}/metrics`;
  });

  after(async () => {
    expect(await controller?.stop(), `controller exit code (log: ${controller?.logFile})`).to.equal(0);
  });

  it("starts a kernel with one pod create and at most two status writes, no GETs; deletes its pod itself; the GPU gauges follow", async () => {
    const before = await scrape();
    const id = uuid();
    const name = `kernel-${id}`;
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelYaml(name, id, { kernelSpec: { name: "python-gpu" }, gpus: 2 }));
    await waitFor("kernel Running", async () => (await kernelStatus(ns, name)).phase === "Running");
    const running = await waitFor("GPU gauges", async () => {
      const m = await scrape();
      return sum(m, "elastic_jupyter_gpus_bound") - sum(before, "elastic_jupyter_gpus_bound") === 2 ? m : undefined;
    });
    const delta = (...has: string[]): number => sum(running, "elastic_jupyter_api_requests_total", ...has) - sum(before, "elastic_jupyter_api_requests_total", ...has);
    expect(delta('verb="create"', 'resource="pods"'), "pod creates").to.equal(1);
    expect(delta('verb="patch"', 'resource="jupyterkernels/status"'), "status writes").to.be.within(1, 2);
    expect(delta('verb="get"'), "GETs").to.equal(0);
    expect(sum(running, "elastic_jupyter_gpus_requested") - sum(before, "elastic_jupyter_gpus_requested")).to.equal(2);
    expect(sum(running, "elastic_jupyter_kernels", 'phase="Running"')).to.equal(1);

    await kubectlOk(["-n", ns, "delete", "jupyterkernel", name, "--wait=false"]);
    await waitFor("pod gone", async () => (await kubectl(["-n", ns, "get", "pod", name])).code !== 0, 30_000);
    expect(controller.lines.some((l) => l.msg === "deleted the pod of a deleted kernel" && l.kernel === `${ns}/${name}`), "the sidecar, not only the garbage collector, deleted the pod").to.equal(true);
    const gone = await waitFor("gauges back", async () => {
      const m = await scrape();
      return sum(m, "elastic_jupyter_gpus_requested") === sum(before, "elastic_jupyter_gpus_requested") ? m : undefined;
    });
    expect(sum(gone, "elastic_jupyter_kernels", 'phase="Running"')).to.equal(0);
  });
});

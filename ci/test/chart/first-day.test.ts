// A platform team's first day: the values files teams write, installed with Helm under the
// operator as the operator chart runs it, work end to end on the local control plane. The gateway
// serves exactly the kernelspecs the values define (what its sidecar syncs into the gateway's
// kernels directory is what the notebook server lists), and kernels launched as the gateway's
// launcher launches them land on the right fake nodes (A100 GPU nodes, a MIG node) with the right
// resources, tolerations, pull secrets, registry and a restricted security context, in namespaces
// that enforce restricted Pod Security. (Enterprise Gateway itself runs in the e2e suite.)
import { expect } from "chai";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshNamespace, getJson, kubectl, kubectlOk, run, waitFor } from "../cluster.ts";
import type { ControllerProcess } from "../../../controller/test/testing/controller-process.ts";
import { serviceAccountKubeconfig, startSidecar, waitForReady } from "../../../controller/test/gateways/operator-harness.ts";
import { EXAMPLES, HELMS, TEAM_CHART, helm, helmOk } from "./helm.ts";
import { startChartOperator, type ChartOperator } from "./chart-operator.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
const GATEWAY = "enterprise-gateway";
const MIG_NODE = "mig-node-0";
const GATEWAY_NODE = "cpu-node-0";
const GATEWAY_NODE_LABEL = "node-role.example.com/jupyter";

/** A kwok node with seven 1g.10gb MIG slices, tainted as the GPU operator taints MIG nodes. */
const migNode = {
  apiVersion: "v1", kind: "Node",
  metadata: {
    name: MIG_NODE, annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    labels: { "kubernetes.io/hostname": MIG_NODE, "kubernetes.io/os": "linux", type: "kwok", "nvidia.com/mig.config": "all-1g.10gb" },
  },
  spec: { taints: [{ key: "nvidia.com/mig", value: "present", effect: "NoSchedule" }] },
  status: {
    allocatable: { cpu: "32", memory: "256Gi", pods: "110", "nvidia.com/mig-1g.10gb": "7" },
    capacity: { cpu: "32", memory: "256Gi", pods: "110", "nvidia.com/mig-1g.10gb": "7" },
  },
};

describe("a platform team's first day: values files as teams write them work end to end", function () {
  this.timeout(600_000);
  let opNs: string;
  let chartOperator: ChartOperator;
  const sidecars: ControllerProcess[] = [];
  const namespaces: string[] = [];
  let seq = 0;

  /** Installs the team chart with a values file in a fresh restricted namespace and runs its gateway's sidecar. */
  async function install(valuesFile: string, prefix: string): Promise<{ ns: string; kernelsDir: string }> {
    const ns = await freshNamespace(prefix);
    namespaces.push(ns);
    await kubectlOk(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]);
    await kubectlOk(["-n", ns, "create", "secret", "docker-registry", "regcred", "--docker-server=registry.example.com", "--docker-username=u", "--docker-password=p"]);
    await helmOk(HELMS.helm3, ["install", "jupyter", TEAM_CHART, "--namespace", ns, "-f", join(EXAMPLES, valuesFile)]);
    await waitForReady("jupytergateway", ns, GATEWAY, "True", undefined, 120_000);
    const kernelsDir = mkdtempSync(join(tmpdir(), "ej-kernels-"));
    sidecars.push(await startSidecar(ns, GATEWAY, kernelsDir, await gatewayServiceAccount(ns)));
    return { ns, kernelsDir };
  }

  /** The gateway's ServiceAccount: the chart names one when pods need pull Secrets. */
  async function gatewayServiceAccount(ns: string): Promise<string> {
    return (await getJson<any>(["-n", ns, "get", "jupytergateway", GATEWAY])).spec.serviceAccountName ?? GATEWAY;
  }

  /** A JupyterKernel as the gateway's launcher creates it (with the gateway's ServiceAccount); resolves with its Running pod. */
  async function launch(ns: string, kernelSpec: string, extra: object = {}): Promise<{ status: any; pod: any }> {
    const id = `5f1c0b9e-0000-4000-8000-${String(++seq).padStart(12, "0")}`;
    const name = `kernel-${id}`;
    const r = await run("kubectl", ["--kubeconfig", await serviceAccountKubeconfig(ns, await gatewayServiceAccount(ns)), "-n", ns, "create", "-f", "-"], {
      input: JSON.stringify({ apiVersion: API, kind: "JupyterKernel", metadata: { name, labels: { "kubeflow.tkestack.io/gateway": GATEWAY } }, spec: { kernelId: id, kernelSpec: { name: kernelSpec }, username: "alice", ...extra } }),
    });
    expect(r.code, r.stderr).to.equal(0);
    const status = await waitFor(`${name} to run or fail`, async () => {
      const s = (await getJson<any>(["-n", ns, "get", "jupyterkernel", name])).status;
      return s?.phase === "Running" || s?.phase === "Failed" ? s : undefined;
    }, 30_000);
    const pod = status.phase === "Running" ? await getJson<any>(["-n", ns, "get", "pod", name]) : undefined;
    return { status, pod };
  }

  const served = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith(".")).sort();

  before(async () => {
    opNs = await freshNamespace("first-day-op");
    chartOperator = await startChartOperator("first-day-op", opNs);
    await kubectlOk(["apply", "-f", "-"], JSON.stringify(migNode));
    await kubectlOk(["label", "node", GATEWAY_NODE, `${GATEWAY_NODE_LABEL}=true`, "--overwrite"]);
    await waitFor("the MIG node to be ready", async () => (await getJson<any>(["get", "node", MIG_NODE])).status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"), 60_000);
  });

  after(async () => {
    for (const s of sidecars) await s.stop();
    for (const ns of namespaces) await helm(HELMS.helm3, ["uninstall", "jupyter", "--namespace", ns]);
    const errors = chartOperator?.process.lines.filter((l) => l.level === "error") ?? [];
    expect(await chartOperator?.stop(), `operator exit code (log: ${chartOperator?.process.logFile})`).to.equal(0);
    await kubectl(["delete", "node", MIG_NODE, "--wait=false"]);
    await kubectl(["label", "node", GATEWAY_NODE, `${GATEWAY_NODE_LABEL}-`]);
    for (const ns of [opNs, ...namespaces]) if (ns) await kubectl(["delete", "namespace", ns, "--wait=false"]);
    expect(errors, JSON.stringify(errors.slice(0, 3))).to.deep.equal([]);
  });

  it("platform-team.yaml: the gateway serves the A100 and MIG kernelspecs; their kernels land on the right nodes with the right resources, tolerations, pull secret, registry and restricted pods", async () => {
    const { ns, kernelsDir } = await install("platform-team.yaml", "first-day");
    const gw = await getJson<any>(["-n", ns, "get", "jupytergateway", GATEWAY]);
    expect(gw.spec.kernels).to.deep.equal(["pytorch-a100", "pytorch-mig"]);
    expect(gw.spec.defaultKernel).to.equal("pytorch-a100");
    await waitFor("the sidecar to sync both kernelspecs", async () => served(kernelsDir).length === 2, 30_000);
    expect(served(kernelsDir)).to.deep.equal(["pytorch-a100", "pytorch-mig"]);
    const gatewayPod = await waitFor("the gateway pod", async () => (await getJson<any>(["-n", ns, "get", "pods", "-l", "app.kubernetes.io/component=gateway"])).items[0]);
    expect(gatewayPod.spec.nodeName).to.equal(GATEWAY_NODE);
    expect(gatewayPod.spec.imagePullSecrets).to.deep.equal([{ name: "regcred" }]);

    const a100 = await launch(ns, "pytorch-a100", { gpus: 2 });
    expect(a100.status.phase, JSON.stringify(a100.status)).to.equal("Running");
    expect(a100.pod.spec.nodeName).to.match(/^gpu-node-/);
    const a100Kernel = a100.pod.spec.containers[0];
    expect(a100Kernel.image).to.equal("registry.example.com/ml/pytorch-notebook:2026.11");
    expect(a100Kernel.resources).to.deep.equal({ requests: { cpu: "4", memory: "32Gi", "nvidia.com/gpu": "2" }, limits: { memory: "64Gi", "nvidia.com/gpu": "2" } });
    expect(a100.pod.spec.nodeSelector).to.deep.equal({ "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB" });
    expect(a100.pod.spec.tolerations.map((t: any) => t.key)).to.include("nvidia.com/gpu");
    expect(a100.pod.spec.imagePullSecrets).to.deep.equal([{ name: "regcred" }]);
    expect(a100.pod.spec.securityContext).to.deep.include({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(a100.status.gpus).to.equal(2);

    const mig = await launch(ns, "pytorch-mig");
    expect(mig.status.phase, JSON.stringify(mig.status)).to.equal("Running");
    expect(mig.pod.spec.nodeName).to.equal(MIG_NODE);
    expect(mig.pod.spec.containers[0].resources.limits).to.deep.equal({ memory: "10Gi", "nvidia.com/mig-1g.10gb": "1" });
    expect(mig.pod.spec.tolerations.map((t: any) => t.key).sort()).to.include.members(["nvidia.com/mig", "nvidia.com/mig-1g.10gb"]);
    expect(mig.pod.spec.imagePullSecrets).to.deep.equal([{ name: "regcred" }]);

    // Users may ask for up to gpu.max at launch, not more: a message, no pod.
    const three = await launch(ns, "pytorch-a100", { gpus: 3 });
    expect(three.status).to.include({ phase: "Failed", reason: "GPULimitExceeded" });
    expect(three.status.message).to.contain("at most 2");
  });

  it("minimal.yaml: the gateway serves its one kernelspec and a kernel runs", async () => {
    const { ns, kernelsDir } = await install("minimal.yaml", "first-day-min");
    await waitFor("the sidecar to sync the kernelspec", async () => served(kernelsDir).length === 1, 30_000);
    const gw = await getJson<any>(["-n", ns, "get", "jupytergateway", GATEWAY]);
    expect(served(kernelsDir)).to.deep.equal(gw.spec.kernels);
    const k = await launch(ns, gw.spec.defaultKernel);
    expect(k.status.phase, JSON.stringify(k.status)).to.equal("Running");
    expect(k.pod.spec.nodeName).to.match(/^cpu-node-/);
  });
});

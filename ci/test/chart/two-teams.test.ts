// Two teams on one cluster, as platform teams run it: the operator chart once, and team A's and
// team B's releases of the team chart side by side. The operator runs as a real process with the
// token of the ServiceAccount the operator chart created (so the chart's own ClusterRole and
// leader-election Role are what it has), each gateway's sidecar with its gateway's ServiceAccount.
// Team B's users try to reach what is team A's: its gateway token, its gateway's kernels, an image
// A's kernelspec does not allow, a privileged kernel pod. Each is refused with a message; then A
// opts in to serving B, and takes it back.
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { freshNamespace, getJson, kubectl, kubectlOk, run, waitFor } from "../cluster.ts";
import type { ControllerProcess } from "../../../controller/test/testing/controller-process.ts";
import { serviceAccountKubeconfig, startSidecar, waitForReady } from "../../../controller/test/gateways/operator-harness.ts";
import { HELMS, TEAM_CHART, helm, helmOk } from "./helm.ts";
import { startChartOperator, type ChartOperator } from "./chart-operator.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
const GATEWAY = "enterprise-gateway"; // the team chart's default gateway name
const KERNEL_A = "5f1c0b9e-0000-4000-8000-00000000000a";

function teamValues(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "ej-team-"));
  const file = join(dir, "values.yaml");
  writeFileSync(file, stringify({
    gateway: { kernels: ["python"], defaultKernel: "python", ...extra },
    notebooks: [{ name: "alice" }],
    kernelSpecs: [{ name: "python", language: "python", image: "registry.example/team/py:1" }],
    kernelTemplates: [],
  }));
  return file;
}

describe("two teams under one operator: nothing of team A reaches team B", function () {
  this.timeout(600_000);
  let opNs: string, a: string, b: string;
  let chartOperator: ChartOperator;
  let operator: ControllerProcess;
  const sidecars: ControllerProcess[] = [];
  const release = "tenants-op";
  const asAdmin = (ns: string, obj: object) => kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify(obj));

  before(async () => {
    [opNs, a, b] = [await freshNamespace("tenants-op"), await freshNamespace("team-a"), await freshNamespace("team-b")];
    for (const ns of [a, b]) await kubectlOk(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]);
    chartOperator = await startChartOperator(release, opNs);
    operator = chartOperator.process;
    for (const ns of [a, b]) await helmOk(HELMS.helm3, ["install", "team", TEAM_CHART, "--namespace", ns, "-f", teamValues()]);
    for (const ns of [a, b]) await waitForReady("jupytergateway", ns, GATEWAY, "True", undefined, 120_000);
    for (const ns of [a, b]) sidecars.push(await startSidecar(ns, GATEWAY, mkdtempSync(join(tmpdir(), "ej-kernels-"))));
  });

  after(async () => {
    for (const s of sidecars) await s.stop();
    expect(await chartOperator?.stop(), `operator exit code (log: ${operator?.logFile})`).to.equal(0);
    for (const ns of [a, b]) if (ns) await helm(HELMS.helm3, ["uninstall", "team", "--namespace", ns]);
    for (const ns of [opNs, a, b]) if (ns) await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("B's notebook pointing at A's gateway is Ready=False GatewayNotAllowed, and A's token never reaches B", async () => {
    await asAdmin(b, { apiVersion: API, kind: "JupyterNotebook", metadata: { name: "mallory" }, spec: { gateway: { name: GATEWAY, namespace: a } } });
    const c = await waitForReady("jupyternotebook", b, "mallory", "False", "GatewayNotAllowed", 60_000);
    expect(c.message).to.contain(`${a}/${GATEWAY}`).and.contain("spec.allowedNamespaces").and.contain(b);
    expect((await kubectl(["-n", b, "get", "secret", "mallory-gateway-token"])).code, "no copy of A's token in B").to.not.equal(0);
    const env = (await getJson<any>(["-n", b, "get", "deployment", "mallory"])).spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
    expect(env).to.not.include("JUPYTER_GATEWAY_AUTH_TOKEN");
    // B's own notebook and gateway are fine.
    await waitForReady("jupyternotebook", b, "alice", "True", undefined, 60_000);
  });

  it("nothing B runs can act in A's namespace: B's gateway account cannot create A's kernels or pods, nor read A's secrets", async () => {
    const bGateway = await serviceAccountKubeconfig(b, GATEWAY);
    const kernel = { apiVersion: API, kind: "JupyterKernel", metadata: { name: `kernel-${KERNEL_A}`, namespace: a }, spec: { kernelId: KERNEL_A, kernelSpec: { name: "python" } } };
    const create = await run("kubectl", ["--kubeconfig", bGateway, "-n", a, "create", "-f", "-"], { input: JSON.stringify(kernel) });
    expect(create.code).to.not.equal(0);
    expect(create.stderr).to.contain("forbidden").and.contain(`system:serviceaccount:${b}:${GATEWAY}`);
    for (const [verb, resource] of [["create", "pods"], ["get", "secrets"], ["list", "jupyterkernels.kubeflow.tkestack.io"]] as const) {
      const r = await run("kubectl", ["--kubeconfig", bGateway, "auth", "can-i", verb, resource, "-n", a]);
      expect(r.stdout.trim(), `${verb} ${resource} in ${a}`).to.equal("no");
    }
    // A's gateway admits notebooks of its own namespace only: no ingress peer names another namespace.
    const netpols = (await getJson<any>(["-n", a, "get", "networkpolicy"])).items;
    const gatewayPolicy = netpols.find((p: any) => p.spec.podSelector.matchLabels?.["app.kubernetes.io/component"] === "gateway");
    expect(gatewayPolicy, "A's gateway NetworkPolicy").to.not.equal(undefined);
    for (const rule of gatewayPolicy.spec.ingress) for (const peer of rule.from ?? []) expect(peer.namespaceSelector, JSON.stringify(peer)).to.equal(undefined);
  });

  it("a kernel in B cannot borrow A's kernelspec, run an image A's kernelspec does not allow, or get a privileged pod: each is Failed with a message and no pod", async () => {
    const launch = async (ns: string, name: string, id: string, spec: object) => {
      // As each gateway's launcher does: with the gateway's own ServiceAccount.
      const r = await run("kubectl", ["--kubeconfig", await serviceAccountKubeconfig(ns, GATEWAY), "-n", ns, "create", "-f", "-"], {
        input: JSON.stringify({ apiVersion: API, kind: "JupyterKernel", metadata: { name, labels: { "kubeflow.tkestack.io/gateway": GATEWAY } }, spec: { kernelId: id, ...spec } }),
      });
      expect(r.code, r.stderr).to.equal(0);
      return waitFor(`${ns}/${name} Failed`, async () => {
        const s = (await getJson<any>(["-n", ns, "get", "jupyterkernel", name])).status;
        return s?.phase === "Failed" ? s : undefined;
      }, 30_000);
    };
    const borrowed = await launch(b, "borrow", "5f1c0b9e-0000-4000-8000-000000000001", { kernelSpec: { name: "python", namespace: a } });
    expect(borrowed.reason).to.equal("KernelSpecNotFound");
    expect(borrowed.message).to.contain(`${a}/python`);
    const image = await launch(a, "image", "5f1c0b9e-0000-4000-8000-000000000002", { kernelSpec: { name: "python" }, image: "evil.example/miner:1" });
    expect(image.reason).to.equal("ImageNotAllowed");
    expect(image.message).to.contain("evil.example/miner:1").and.contain(`${a}/python`);
    const privileged = await launch(b, "privileged", "5f1c0b9e-0000-4000-8000-000000000003", {
      kernelSpec: { name: "python" }, template: { spec: { containers: [{ name: "kernel", securityContext: { privileged: true } }] } },
    });
    expect(privileged.reason).to.equal("PodPolicyViolation");
    expect(privileged.message).to.contain("securityContext.privileged").and.contain("kernelPodPolicy.allowPrivileged");
    for (const [ns, name] of [[b, "borrow"], [a, "image"], [b, "privileged"]] as const) {
      expect((await kubectl(["-n", ns, "get", "pod", name])).code, `no pod ${ns}/${name}`).to.not.equal(0);
    }
    // The same kernelspec, asked properly, runs: the refusals are the policy, not a broken setup.
    const ok = await run("kubectl", ["--kubeconfig", await serviceAccountKubeconfig(a, GATEWAY), "-n", a, "create", "-f", "-"], {
      input: JSON.stringify({ apiVersion: API, kind: "JupyterKernel", metadata: { name: "fine", labels: { "kubeflow.tkestack.io/gateway": GATEWAY } }, spec: { kernelId: "5f1c0b9e-0000-4000-8000-000000000004", kernelSpec: { name: "python" } } }),
    });
    expect(ok.code, ok.stderr).to.equal(0);
    await waitFor("A's own kernel Running", async () => (await getJson<any>(["-n", a, "get", "jupyterkernel", "fine"])).status?.phase === "Running", 30_000);
  });

  it("when A lists B in allowedNamespaces, B's notebook gets the token; when A takes it back, the copy is deleted", async () => {
    await helmOk(HELMS.helm3, ["upgrade", "team", TEAM_CHART, "--namespace", a, "-f", teamValues({ allowedNamespaces: [b] })]);
    await waitFor("the copy of A's token in B", async () => (await kubectl(["-n", b, "get", "secret", "mallory-gateway-token"])).code === 0, 60_000);
    const copy = await getJson<any>(["-n", b, "get", "secret", "mallory-gateway-token"]);
    const original = await getJson<any>(["-n", a, "get", "secret", `${GATEWAY}-gateway-token`]);
    expect(copy.data.token).to.equal(original.data.token);
    await waitFor("mallory no longer GatewayNotAllowed", async () => {
      const r = (await getJson<any>(["-n", b, "get", "jupyternotebook", "mallory"])).status?.conditions?.find((c: any) => c.type === "Ready");
      return r && r.reason !== "GatewayNotAllowed";
    }, 60_000);

    await helmOk(HELMS.helm3, ["upgrade", "team", TEAM_CHART, "--namespace", a, "-f", teamValues()]);
    await waitForReady("jupyternotebook", b, "mallory", "False", "GatewayNotAllowed", 60_000);
    await waitFor("the copy deleted", async () => (await kubectl(["-n", b, "get", "secret", "mallory-gateway-token"])).code !== 0, 60_000);
  });

  it("the operator, with only the chart's permissions, logged no error", () => {
    const errors = operator.lines.filter((l) => l.level === "error");
    expect(errors, JSON.stringify(errors.slice(0, 3))).to.deep.equal([]);
  });
});

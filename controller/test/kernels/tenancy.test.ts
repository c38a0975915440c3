// What a notebook user or a kernel template may get, checked against the real API server with the
// sidecar as a real process, in a namespace that enforces the restricted Pod Security Standard:
// kernel pods are restricted without any template, a template asking for more than the cluster
// admin's policy is refused by the controller, an image the kernelspec does not allow never runs,
// and every refusal of a kernel pod by the API server (Pod Security, validation, ResourceQuota)
// becomes kernel status at once.
import { expect } from "chai";
import { freshNamespace, getJson, kubectl, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
let seq = 0;
function uuid(): string {
  const n = (++seq).toString(16).padStart(4, "0");
  return `7e4a${n}-0000-4000-8000-${Date.now().toString(16).padStart(12, "0").slice(-12)}`;
}

describe("sidecar: kernel pods stay within what the kernelspec and the cluster admin allow", function () {
  this.timeout(120_000);
  let ns: string;
  let sidecar: ControllerProcess;
  const apply = (obj: object) => kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify(obj));
  const status = async (name: string) => (await getJson(["-n", ns, "get", "jupyterkernel", name])).status ?? {};
  const podExists = async (name: string) => (await kubectl(["-n", ns, "get", "pod", name])).code === 0;
  /** Creates a kernel and waits until its status says `until`; returns that status. */
  async function launch(spec: object, until: (s: any) => boolean, what: string, timeoutMs = 20_000): Promise<{ name: string; status: any }> {
    const id = uuid();
    const name = `kernel-${id}`;
    await apply({ apiVersion: API, kind: "JupyterKernel", metadata: { name }, spec: { kernelId: id, ...spec } });
    const s = await waitFor(what, async () => { const st = await status(name); return until(st) ? st : undefined; }, timeoutMs);
    return { name, status: s };
  }

  before(async () => {
    await installCrds();
    ns = await freshNamespace("tenancy");
    // The namespace refuses anything beyond restricted, as a careful platform team sets it.
    await kubectlOk(["label", "namespace", ns, "pod-security.kubernetes.io/enforce=restricted"]);
    await apply({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "python" }, spec: { language: "Python", image: "registry.example/py:1" } });
    await apply({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "python-any-team-image" }, spec: { language: "Python", image: "registry.example/py:1", allowedImages: ["registry.example/team-a/*"] } });
    await apply({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "python-2gpu" }, spec: { language: "Python", image: "registry.example/py:1", gpu: { count: 2 } } });
    // The cluster admin allows root (but nothing else), so that Pod Security, not the controller, refuses it below.
    sidecar = startController([
      "--role", "sidecar", "--namespace", ns, "--kubeconfig", testCluster.kubeconfig, "--metrics-addr", "127.0.0.1:0",
      "--leader-elect=false", "--kernel-pod-policy", JSON.stringify({ allowRunAsRoot: true }),
    ]);
  });

  after(async () => {
    expect(await sidecar?.stop(), `sidecar exit code (log: ${sidecar?.logFile})`).to.equal(0);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("a kernel without any template gets a restricted pod that restricted Pod Security admits", async () => {
    const { name } = await launch({ kernelSpec: { name: "python" } }, (s) => s.phase === "Running", "kernel Running");
    const pod = await getJson(["-n", ns, "get", "pod", name]);
    expect(pod.spec.securityContext).to.deep.include({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.spec.containers[0].securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(pod.spec.automountServiceAccountToken).to.equal(false);
  });

  it("a privileged kernel template is a Failed kernel naming the field and the setting, and no pod", async () => {
    const { name, status: s } = await launch({
      kernelSpec: { name: "python" },
      template: { spec: { containers: [{ name: "kernel", securityContext: { privileged: true } }], hostNetwork: true } },
    }, (st) => st.phase === "Failed", "kernel Failed");
    expect(s.reason).to.equal("PodPolicyViolation");
    expect(s.message).to.contain("spec.containers[kernel].securityContext.privileged").and.contain("spec.hostNetwork").and.contain("kernelPodPolicy.allowPrivileged");
    expect(await podExists(name), "no pod").to.equal(false);
  });

  it("an image the kernelspec does not allow is a Failed kernel and no pod; one it allows runs", async () => {
    const refused = await launch({ kernelSpec: { name: "python" }, image: "evil.example/miner:1" }, (st) => st.phase === "Failed", "kernel Failed");
    expect(refused.status.reason).to.equal("ImageNotAllowed");
    expect(refused.status.message).to.contain("evil.example/miner:1").and.contain(`${ns}/python`).and.contain("spec.allowedImages");
    expect(await podExists(refused.name)).to.equal(false);
    const outside = await launch({ kernelSpec: { name: "python-any-team-image" }, image: "registry.example/team-b/py:1" }, (st) => st.phase === "Failed", "kernel Failed");
    expect(outside.status.message).to.contain("allows only registry.example/team-a/*");
    const allowed = await launch({ kernelSpec: { name: "python-any-team-image" }, image: "registry.example/team-a/py:2" }, (st) => st.phase === "Running", "kernel Running");
    expect((await getJson(["-n", ns, "get", "pod", allowed.name])).spec.containers[0].image).to.equal("registry.example/team-a/py:2");
  });

  it("a pod Pod Security refuses is a Failed kernel with the API server's words at once", async () => {
    const t0 = Date.now();
    const { status: s } = await launch({
      kernelSpec: { name: "python" },
      template: { spec: { securityContext: { runAsUser: 0 }, containers: [{ name: "kernel" }] } },
    }, (st) => st.phase === "Failed", "kernel Failed", 10_000);
    expect(Date.now() - t0).to.be.below(10_000);
    expect(s.reason).to.equal("PodSecurityRefused");
    expect(s.message).to.contain('violates PodSecurity "restricted');
  });

  it("an invalid pod (GPU request unequal to its limit) is a Failed kernel with the API server's words", async () => {
    const { status: s } = await launch({
      kernelSpec: { name: "python" },
      template: { spec: { containers: [{ name: "kernel", resources: { requests: { "nvidia.com/gpu": "1" }, limits: { "nvidia.com/gpu": "2" } } }] } },
    }, (st) => st.phase === "Failed", "kernel Failed", 10_000);
    expect(s.reason).to.equal("PodInvalid");
    expect(s.message).to.contain("must be equal to nvidia.com/gpu limit");
  });

  it("a full ResourceQuota keeps the kernel Pending with a reason naming the quota, until the quota allows it", async () => {
    await apply({ apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "gpus" }, spec: { hard: { "requests.nvidia.com/gpu": "1" } } });
    await waitFor("the quota to be counted", async () => (await getJson(["-n", ns, "get", "resourcequota", "gpus"])).status?.hard !== undefined);
    const { name, status: s } = await launch({ kernelSpec: { name: "python-2gpu" } }, (st) => st.reason === "QuotaExceeded", "kernel QuotaExceeded", 10_000);
    expect(s.phase).to.equal("Pending");
    expect(s.message).to.contain("exceeded quota: gpus");
    expect(await podExists(name)).to.equal(false);
    await kubectlOk(["-n", ns, "patch", "resourcequota", "gpus", "--type=merge", "-p", JSON.stringify({ spec: { hard: { "requests.nvidia.com/gpu": "4" } } })]);
    const after = await waitFor("the kernel to get its pod once the quota allows it", async () => { const st = await status(name); return st.reason !== "QuotaExceeded" && st.podName ? st : undefined; }, 30_000);
    expect(after.gpus).to.equal(2);
  });
});

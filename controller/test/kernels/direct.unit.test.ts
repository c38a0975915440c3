// Direct mode's kernel side (controller/src/kernels/direct.ts): what a notebook's ServiceAccount
// may ask for in a JupyterKernel, the pod such a kernel gets, and who reconciles it.
import { expect } from "chai";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterKernelSpec, JupyterNotebook } from "@elastic-jupyter/api";
import { DIRECT_REFUSED, directBootstrapConfigMapName, directKernelProblem, orphanedByServerRestart } from "../../src/kernels/direct.ts";
import { kernelPodForCache } from "../../src/kernels/pod.ts";
import { BOOTSTRAP_COMMAND, desiredKernelPod } from "../../src/kernels/pod.ts";
import { planKernel } from "../../src/kernels/plan.ts";
import { servedBy } from "../../src/sidecar.ts";

const ID = "219cfd49-89ad-428c-8e0d-3e61e15d79a7";
const now = new Date("2026-12-03T08:00:00Z");

/** What the provisioner creates (charts/elastic-jupyter/files/notebook/elastic_jupyter_direct/resource.py). */
function direct(spec: Partial<JupyterKernel["spec"]> = {}, labels: Record<string, string> = {}): JupyterKernel {
  return {
    apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel",
    metadata: { name: `kernel-${ID}`, namespace: "team-a", uid: "uid-k", labels: Object.fromEntries(Object.entries({ kernel_id: ID, "kubeflow.tkestack.io/notebook": "alice", "kubeflow.tkestack.io/kernelspec": "python", ...labels }).filter(([, v]) => v !== undefined)) },
    spec: { kernelId: ID, kernelSpec: { name: "python" }, connectionMode: "Direct", username: "alice", ...spec },
  } as JupyterKernel;
}
const notebook = (directSpec: JupyterNotebook["spec"]["direct"] | null = {}): JupyterNotebook => ({
  apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterNotebook", metadata: { name: "alice", namespace: "team-a" },
  spec: directSpec ? { direct: directSpec } : {},
});
const spec: JupyterKernelSpec = {
  apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "python", namespace: "team-a" },
  spec: { language: "python", image: "registry.example/py:1", gpu: { count: 0, max: 1 } },
};

describe("direct-mode kernels", () => {
  it("what the provisioner writes is accepted, with or without the user's KERNEL_* variables, GPUs and an allowed kernelspec", () => {
    expect(directKernelProblem(direct(), notebook())).to.equal(undefined);
    expect(directKernelProblem(direct({ env: [{ name: "KERNEL_EXTRA", value: "x" }], gpus: 1 }), notebook({ kernels: ["python", "r"] }))).to.equal(undefined);
  });

  const refusals: Array<[string, JupyterKernel, JupyterNotebook | undefined, string]> = [
    ["no notebook label", direct({}, { "kubeflow.tkestack.io/notebook": undefined as unknown as string }), notebook(), "needs the label kubeflow.tkestack.io/notebook"],
    ["an unknown notebook", direct(), undefined, "JupyterNotebook team-a/alice does not exist"],
    ["a gateway-mode notebook", direct(), notebook(null), "does not use direct mode"],
    ["gateway connection mode", direct({ connectionMode: "Gateway" }), notebook(), "spec.connectionMode must be Direct"],
    ["no kernelspec", direct({ kernelSpec: undefined }), notebook(), "spec.kernelSpec is required"],
    ["another namespace's kernelspec", direct({ kernelSpec: { name: "python", namespace: "team-b" } }), notebook(), "own namespace, not team-b"],
    ["a kernelspec the notebook does not offer", direct({ kernelSpec: { name: "big-gpu" } }), notebook({ kernels: ["python"] }), "kernelspec big-gpu is not one notebook alice offers"],
    ["an inline template", direct({ template: { spec: { containers: [{ name: "kernel", image: "evil/miner" }] } } }), notebook(), "spec.template is not allowed"],
    ["a kernel template", direct({ kernelTemplate: { name: "privileged" } }), notebook(), "spec.kernelTemplate is not allowed"],
    ["a response address", direct({ responseAddress: "evil:8877" }), notebook(), "spec.responseAddress is a gateway setting"],
    ["another user", direct({ username: "bob" }), notebook(), "spec.username must be the notebook's name alice"],
    ["a non-KERNEL_ variable", direct({ env: [{ name: "LD_PRELOAD", value: "/x.so" }] }), notebook(), "spec.env LD_PRELOAD is not allowed"],
    ["a reserved KERNEL_ variable", direct({ env: [{ name: "KERNEL_CONNECTION_KEY", value: "k" }] }), notebook(), "spec.env KERNEL_CONNECTION_KEY is not allowed"],
    ["a variable from a Secret", direct({ env: [{ name: "KERNEL_T", valueFrom: { secretKeyRef: { name: "alice-token", key: "token" } } }] }), notebook(), "spec.env KERNEL_T must be a plain value"],
  ];
  for (const [what, k, nb, message] of refusals) {
    it(`refuses ${what}: Failed ${DIRECT_REFUSED}, no pod`, () => {
      expect(directKernelProblem(k, nb)).to.contain(message);
      const plan = planKernel({ kernel: k, pod: undefined, kernelSpec: spec, kernelTemplate: undefined, now, direct: { notebook: nb } }, { bootstrapConfigMap: "b" });
      expect(plan.createPod).to.equal(undefined);
      expect(plan.status).to.include({ phase: "Failed", reason: DIRECT_REFUSED });
      expect(plan.status!.message).to.contain(message);
    });
  }

  it("the kernelspec's limits still apply: more GPUs than gpu.max is GPULimitExceeded", () => {
    const plan = planKernel({ kernel: direct({ gpus: 2 }), pod: undefined, kernelSpec: spec, kernelTemplate: undefined, now, direct: { notebook: notebook() } }, { bootstrapConfigMap: "b" });
    expect(plan.status).to.include({ phase: "Failed", reason: "GPULimitExceeded" });
  });

  it("its pod: the bootstrap, the key from the kernel's Secret (never a value), no gateway settings", () => {
    const r = desiredKernelPod(direct(), spec, undefined, { bootstrapConfigMap: directBootstrapConfigMapName("alice") });
    if ("error" in r) throw new Error(r.error.message);
    const pod: Pod = r.pod;
    const c = pod.spec!.containers[0]!;
    expect(c.command).to.deep.equal(BOOTSTRAP_COMMAND);
    expect(pod.spec!.volumes!.find((v) => v.name === "elastic-jupyter-bootstrap")!.configMap!.name).to.equal("alice-notebook-kernel-bootstrap");
    const env = Object.fromEntries(c.env!.map((e) => [e.name, e]));
    expect(env.KERNEL_CONNECTION_KEY).to.deep.equal({ name: "KERNEL_CONNECTION_KEY", valueFrom: { secretKeyRef: { name: `kernel-${ID}-connection-uid-k`, key: "key" } } });
    expect(env.KERNEL_USERNAME!.value).to.equal("alice");
    for (const n of ["RESPONSE_ADDRESS", "PUBLIC_KEY", "PORT_RANGE"]) expect(env[n], n).to.equal(undefined);
    expect(pod.spec!.automountServiceAccountToken).to.equal(false);
  });

  it("is the operator's when labelled with its notebook; a Direct kernel without the label is a sidecar's to refuse", () => {
    expect(servedBy(direct(), "gw")).to.equal(false);
    expect(servedBy(direct({ connectionMode: undefined }), "gw"), "labelled, not Direct: the operator refuses it").to.equal(false);
    const gatewayKernel = { ...direct({ connectionMode: undefined }), metadata: { name: "k", namespace: "team-a", labels: {} } } as JupyterKernel;
    expect(servedBy(gatewayKernel, "gw")).to.equal(true);
    // Direct but unlabelled: the operator watches labelled kernels only, so the sidecar fails it
    // (the API server's policy refuses it first where installed) rather than leave it without a status.
    const unlabelled = direct({}, { "kubeflow.tkestack.io/notebook": undefined as unknown as string });
    expect(servedBy(unlabelled, "gw")).to.equal(true);
    const plan = planKernel({ kernel: unlabelled, pod: undefined, kernelSpec: spec, kernelTemplate: undefined, now }, { bootstrapConfigMap: "b" });
    expect(plan.createPod).to.equal(undefined);
    expect(plan.status?.phase).to.equal("Failed");
    expect(plan.status?.reason).to.equal(DIRECT_REFUSED);
    expect(plan.status?.message).to.equal("spec.connectionMode Direct: a direct kernel needs the label kubeflow.tkestack.io/notebook naming the JupyterNotebook that starts it; a gateway's kernel leaves connectionMode unset");
    expect(planKernel({ kernel: gatewayKernel, pod: undefined, kernelSpec: spec, kernelTemplate: undefined, now }, { bootstrapConfigMap: "b" }).status?.phase).to.not.equal("Failed");
  });

  describe("a notebook server that restarts in its pod orphans the kernels it started", () => {
    const owned = (createdAt: string): JupyterKernel => {
      const k = direct();
      return { ...k, metadata: { ...k.metadata, creationTimestamp: createdAt, ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "alice-7d9-abcde", uid: "uid-nb-pod" }] } };
    };
    const nbPod = (status: Pod["status"], uid = "uid-nb-pod"): Pod =>
      kernelPodForCache({ apiVersion: "v1", kind: "Pod", metadata: { name: "alice-7d9-abcde", namespace: "team-a", uid, labels: { component: "notebook" } }, spec: { containers: [{ name: "notebook" }] }, status } as Pod) as Pod;
    const crashed = { name: "notebook", restartCount: 1, image: "jupyter", imageID: "", ready: true, state: { running: { startedAt: "2026-12-03T08:00:12Z" } }, lastState: { terminated: { exitCode: 137, reason: "OOMKilled", startedAt: "2026-12-03T07:00:00Z", finishedAt: "2026-12-03T08:00:10Z" } } };

    it("a kernel created before the server container ended is orphaned, with the reason (from the cache's trimmed pod)", () => {
      expect(orphanedByServerRestart(owned("2026-12-03T07:59:00Z"), nbPod({ containerStatuses: [crashed] }))).to.equal(
        "its notebook server (container notebook of pod alice-7d9-abcde) ended at 2026-12-03T08:00:10Z (OOMKilled, exit code 137), after the kernel started; the restarted server does not know this kernel");
      // Ended and not yet restarted (state.terminated) counts too.
      const down = { ...crashed, state: { terminated: { exitCode: 1, startedAt: "2026-12-03T07:00:00Z", finishedAt: "2026-12-03T08:00:10Z" } } };
      expect(orphanedByServerRestart(owned("2026-12-03T07:59:00Z"), nbPod({ containerStatuses: [down] }))).to.match(/exit code 1\)/);
    });

    it("a kernel the restarted server started, one of a server that never ended, or of another pod, is not", () => {
      expect(orphanedByServerRestart(owned("2026-12-03T08:00:20Z"), nbPod({ containerStatuses: [crashed] }))).to.equal(undefined);
      // Within the clock-skew margin: left alone rather than risk a live server's kernel.
      expect(orphanedByServerRestart(owned("2026-12-03T08:00:09Z"), nbPod({ containerStatuses: [crashed] }))).to.equal(undefined);
      const fresh = { ...crashed, restartCount: 0, lastState: {} };
      expect(orphanedByServerRestart(owned("2026-12-03T07:59:00Z"), nbPod({ containerStatuses: [fresh] }))).to.equal(undefined);
      expect(orphanedByServerRestart(owned("2026-12-03T07:59:00Z"), nbPod({ containerStatuses: [crashed] }, "uid-other"))).to.equal(undefined);
      expect(orphanedByServerRestart(owned("2026-12-03T07:59:00Z"), undefined)).to.equal(undefined);
      expect(orphanedByServerRestart(direct(), nbPod({ containerStatuses: [crashed] }))).to.equal(undefined); // no owner pod
    });
  });
});

import { expect } from "chai";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterKernelSpec, JupyterKernelStatus, JupyterKernelTemplate } from "@elastic-jupyter/api";
import { BOOTSTRAP_COMMAND, desiredKernelPod, podGpus } from "./pod.ts";
import { MAX_POD_RESTARTS, planKernel, restartBackoffMs } from "./plan.ts";
import { statusFromPod } from "./status.ts";

const opts = { bootstrapConfigMap: "elastic-jupyter-kernel-bootstrap" };
const now = new Date("2026-11-25T12:00:00Z");
const ID = "219cfd49-89ad-428c-8e0d-3e61e15d79a7";

function kernel(spec: Partial<JupyterKernel["spec"]> = {}, status?: JupyterKernel["status"]): JupyterKernel {
  return {
    apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel",
    metadata: { name: `kernel-${ID}`, namespace: "team-a", uid: "uid-k", generation: 1 },
    spec: { kernelId: ID, ...spec },
    ...(status ? { status } : {}),
  } as JupyterKernel;
}

function kernelSpec(spec: Partial<JupyterKernelSpec["spec"]> = {}): JupyterKernelSpec {
  return {
    apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec",
    metadata: { name: "python-gpu", namespace: "team-a" },
    spec: { language: "Python", displayName: "Python (GPU)", image: "registry.example/py:1", ...spec },
  } as JupyterKernelSpec;
}

// SEED.md's kernel template, with app/component (mistakenly) straight under metadata.
const seedTemplate = {
  apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelTemplate",
  metadata: { name: "jupyterkerneltemplate-elastic-with-custom-kernels", namespace: "team-a" },
  spec: { template: { metadata: { app: "enterprise-gateway", component: "kernel" }, spec: { restartPolicy: "Always", containers: [{ name: "kernel" }] } } },
} as unknown as JupyterKernelTemplate;

function podOf(r: ReturnType<typeof desiredKernelPod>): Pod {
  if ("error" in r) throw new Error(r.error.message);
  return r.pod;
}

describe("desiredKernelPod", () => {
  it("builds the pod from kernelspec + SEED's template: image, bootstrap, labels EG selects on, owner", () => {
    const k = kernel({ kernelSpec: { name: "python-gpu" }, responseAddress: "10.0.0.5:8877", publicKey: "PUBKEY", portRange: "40000..41000", username: "alice", language: "python" });
    const pod = podOf(desiredKernelPod(k, kernelSpec(), seedTemplate, opts));
    expect(pod.metadata?.name).to.equal(`kernel-${ID}`);
    expect(pod.metadata?.labels).to.include({ kernel_id: ID, component: "kernel", app: "enterprise-gateway" });
    expect(pod.metadata?.ownerReferences).to.deep.equal([{ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", name: `kernel-${ID}`, uid: "uid-k", controller: true, blockOwnerDeletion: true }]);
    const c = pod.spec!.containers[0]!;
    expect(c.image).to.equal("registry.example/py:1");
    expect(c.command).to.deep.equal(BOOTSTRAP_COMMAND);
    expect(pod.spec!.volumes).to.deep.include({ name: "elastic-jupyter-bootstrap", configMap: { name: opts.bootstrapConfigMap } });
    const env = Object.fromEntries(c.env!.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(env).to.include({ KERNEL_ID: ID, RESPONSE_ADDRESS: "10.0.0.5:8877", PUBLIC_KEY: "PUBKEY", PORT_RANGE: "40000..41000", KERNEL_USERNAME: "alice", KERNEL_LANGUAGE: "python" });
    expect(pod.spec!.restartPolicy).to.equal("Never");
    expect(pod.spec!.automountServiceAccountToken).to.equal(false);
  });

  it("asks for the kernelspec's default GPUs as a limit and tolerates the GPU taint", () => {
    const pod = podOf(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" } }), kernelSpec({ gpu: { count: 1, max: 4 } }), undefined, opts));
    expect(pod.spec!.containers[0]!.resources?.limits).to.deep.equal({ "nvidia.com/gpu": "1" });
    expect(pod.spec!.tolerations).to.deep.include({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
    expect(podGpus(pod)).to.equal(1);
  });

  it("takes the GPU count asked at launch up to the kernelspec's max, with any resource name", () => {
    const spec = kernelSpec({ gpu: { resourceName: "nvidia.com/mig-1g.10gb", count: 1, max: 3 }, resources: { limits: { memory: "8Gi" } } });
    const pod = podOf(desiredKernelPod(kernel({ gpus: 3 }), spec, undefined, opts));
    expect(pod.spec!.containers[0]!.resources?.limits).to.deep.equal({ memory: "8Gi", "nvidia.com/mig-1g.10gb": "3" });
  });

  it("fails at once, naming the limit, when the launch asks for more GPUs than the kernelspec allows", () => {
    const r = desiredKernelPod(kernel({ gpus: 8 }), kernelSpec({ gpu: { count: 1, max: 4 } }), undefined, opts);
    expect(r).to.have.property("error");
    if (!("error" in r)) return;
    expect(r.error.reason).to.equal("GPULimitExceeded");
    expect(r.error.message).to.equal("requested 8 nvidia.com/gpu, but kernelspec python-gpu allows at most 4 (set by spec.gpu.max)");
  });

  it("keeps what the template says for scheduling: schedulerName, runtimeClass, priority, annotations, DRA claims", () => {
    const template = {
      metadata: { name: "kai", namespace: "team-a" },
      spec: { template: {
        metadata: { annotations: { "gpu-fraction": "0.5" }, labels: { team: "a" } },
        spec: {
          schedulerName: "kai-scheduler", runtimeClassName: "nvidia", priorityClassName: "notebooks",
          nodeSelector: { "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB" },
          resourceClaims: [{ name: "gpu", resourceClaimTemplateName: "single-gpu" }],
          containers: [{ name: "kernel", resources: { claims: [{ name: "gpu" }] } }],
        },
      } },
    } as unknown as JupyterKernelTemplate;
    const pod = podOf(desiredKernelPod(kernel(), kernelSpec(), template, opts));
    expect(pod.metadata?.annotations).to.deep.equal({ "gpu-fraction": "0.5" });
    expect(pod.metadata?.labels).to.include({ team: "a", kernel_id: ID });
    expect(pod.spec).to.include({ schedulerName: "kai-scheduler", runtimeClassName: "nvidia", priorityClassName: "notebooks" });
    expect(pod.spec!.resourceClaims).to.deep.equal([{ name: "gpu", resourceClaimTemplateName: "single-gpu" }]);
    expect(pod.spec!.containers[0]!.resources?.claims).to.deep.equal([{ name: "gpu" }]);
    expect(pod.spec!.tolerations, "no GPU count asked: no toleration added").to.equal(undefined);
  });

  it("uses the kernel's inline template and image override, and lets the kernel's env win", () => {
    const k = kernel({ image: "registry.example/mine:2", env: [{ name: "KERNEL_EXTRA", value: "user" }, { name: "SHARED", value: "kernel" }], template: { spec: { containers: [{ name: "kernel", command: ["my-kernel"] }] } } });
    const pod = podOf(desiredKernelPod(k, kernelSpec({ env: [{ name: "SHARED", value: "spec" }] }), undefined, opts));
    const c = pod.spec!.containers[0]!;
    expect(c.image).to.equal("registry.example/mine:2");
    expect(c.command).to.deep.equal(["my-kernel"]);
    expect(pod.spec!.volumes, "a custom command needs no bootstrap").to.equal(undefined);
    expect(c.env!.find((e) => e.name === "SHARED")?.value).to.equal("kernel");
    expect(c.env!.find((e) => e.name === "KERNEL_EXTRA")?.value).to.equal("user");
  });

  it("refuses a kernel with no image anywhere", () => {
    const r = desiredKernelPod(kernel({ template: { spec: { containers: [{ name: "kernel" }] } } }), undefined, undefined, opts);
    expect(r).to.deep.equal({ error: { reason: "NoImage", message: "no kernel image: set spec.image on the JupyterKernelSpec or an image on the template's kernel container" } });
  });
});

function pod(phase: string, extra: { nodeName?: string; podIP?: string; ready?: boolean; scheduled?: { status: string; reason: string; message: string }; reason?: string; deleting?: boolean; ownerUid?: string } = {}): Pod {
  const conditions = [];
  if (extra.scheduled) conditions.push({ type: "PodScheduled", ...extra.scheduled });
  if (extra.ready !== undefined) conditions.push({ type: "Ready", status: extra.ready ? "True" : "False" });
  return {
    metadata: { name: `kernel-${ID}`, namespace: "team-a", uid: "uid-pod", ownerReferences: [{ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", name: `kernel-${ID}`, uid: extra.ownerUid ?? "uid-k", controller: true }], ...(extra.deleting ? { deletionTimestamp: "2026-11-25T11:59:00Z" } : {}) },
    spec: { containers: [{ name: "kernel", resources: { limits: { "nvidia.com/gpu": "2" } } }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
    status: { phase, conditions, ...(extra.podIP ? { podIP: extra.podIP } : {}), ...(extra.reason ? { reason: extra.reason } : {}) },
  } as Pod;
}

describe("statusFromPod", () => {
  it("mirrors a running, ready pod: phase, node, IP, GPUs, Ready=True", () => {
    const s = statusFromPod(kernel(), pod("Running", { nodeName: "gpu-node-0", podIP: "10.244.0.7", ready: true }), now.toISOString());
    expect(s).to.include({ phase: "Running", nodeName: "gpu-node-0", podIP: "10.244.0.7", gpus: 2, podUID: "uid-pod", observedGeneration: 1 });
    expect(s.conditions!.find((c) => c.type === "Ready")).to.include({ status: "True", reason: "KernelRunning" });
    expect(s.conditions!.find((c) => c.type === "Scheduled")).to.include({ status: "True" });
  });

  it("carries the scheduler's reason and message for an unschedulable pod", () => {
    const s = statusFromPod(kernel(), pod("Pending", { scheduled: { status: "False", reason: "Unschedulable", message: "0/4 nodes are available: 2 Insufficient nvidia.com/gpu." } }), now.toISOString());
    expect(s).to.include({ phase: "Pending", reason: "Unschedulable" });
    expect(s.message).to.contain("Insufficient nvidia.com/gpu");
    expect(s.conditions!.find((c) => c.type === "Scheduled")).to.include({ status: "False", reason: "Unschedulable" });
  });

  it("keeps lastTransitionTime when a condition's status does not change", () => {
    const first = statusFromPod(kernel(), pod("Running", { nodeName: "n", ready: true }), "2026-11-25T10:00:00Z");
    const second = statusFromPod(kernel({}, first), pod("Running", { nodeName: "n", ready: true }), "2026-11-25T11:00:00Z");
    expect(second.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime).to.equal("2026-11-25T10:00:00Z");
  });

  it("ends the kernel when the pod fails", () => {
    const s = statusFromPod(kernel(), pod("Failed", { nodeName: "n" }), now.toISOString());
    expect(s).to.include({ phase: "Failed", reason: "PodFailed" });
  });
});

describe("planKernel", () => {
  const ready: JupyterKernelStatus = { phase: "Running", podUID: "uid-pod", conditions: [{ type: "Ready", status: "True", reason: "KernelRunning", message: "", lastTransitionTime: "2026-11-25T11:00:00Z" }] };

  it("creates the pod for a new kernel and reports Pending", () => {
    const plan = planKernel({ kernel: kernel({ kernelSpec: { name: "python-gpu" } }), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(plan.createPod?.metadata?.name).to.equal(`kernel-${ID}`);
    expect(plan.status).to.include({ phase: "Pending", reason: "PodCreating" });
  });

  it("fails fast on a missing kernelspec or template, naming it", () => {
    const a = planKernel({ kernel: kernel({ kernelSpec: { name: "nope" } }), pod: undefined, kernelSpec: undefined, kernelTemplate: undefined, now }, opts);
    expect(a.status).to.include({ phase: "Failed", reason: "KernelSpecNotFound", message: "JupyterKernelSpec team-a/nope does not exist" });
    const b = planKernel({ kernel: kernel({ kernelSpec: { name: "python-gpu" } }), pod: undefined, kernelSpec: kernelSpec({ template: { name: "gone" } }), kernelTemplate: undefined, now }, opts);
    expect(b.status).to.include({ phase: "Failed", reason: "TemplateNotFound" });
    expect(a.createPod ?? b.createPod).to.equal(undefined);
  });

  it("recreates a pod lost before ready, with exponential backoff, then gives up", () => {
    const lost = planKernel({ kernel: kernel({}, { phase: "Pending", podUID: "uid-old" }), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(lost.createPod).to.equal(undefined);
    expect(lost.requeueAfterMs).to.equal(1000);
    expect(lost.status).to.include({ phase: "Pending", reason: "PodLost", restarts: 1, podUID: undefined });
    const waiting = planKernel({ kernel: kernel({}, lost.status), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(waiting).to.deep.equal({ requeueAfterMs: 1000 });
    const later = new Date(now.getTime() + 1000);
    expect(planKernel({ kernel: kernel({}, lost.status), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now: later }, opts).createPod).to.not.equal(undefined);
    expect([1, 2, 3, 7, 20].map(restartBackoffMs)).to.deep.equal([1000, 2000, 4000, 60_000, 60_000]);
    const exhausted = planKernel({ kernel: kernel({}, { phase: "Pending", podUID: "uid-old", restarts: MAX_POD_RESTARTS }), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(exhausted.status).to.include({ phase: "Failed", reason: "RestartLimitExceeded" });
  });

  it("ends a kernel whose pod is lost after it was ready, and never revives a terminal kernel", () => {
    const gone = planKernel({ kernel: kernel({}, ready), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(gone.status).to.include({ phase: "Failed", reason: "PodDeleted" });
    expect(gone.createPod).to.equal(undefined);
    expect(planKernel({ kernel: kernel({}, gone.status), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts)).to.deep.equal({});
  });

  it("deletes and retries an evicted pod that never became ready", () => {
    const plan = planKernel({ kernel: kernel({}, { phase: "Pending", podUID: "uid-pod" }), pod: pod("Failed", { reason: "Evicted" }), kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(plan.deletePod).to.deep.equal({ name: `kernel-${ID}`, uid: "uid-pod" });
  });

  it("does not adopt a pod it does not own", () => {
    const plan = planKernel({ kernel: kernel(), pod: pod("Running", { ownerUid: "someone-else" }), kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(plan.status).to.include({ reason: "PodNameConflict" });
    expect(plan.createPod).to.equal(undefined);
  });
});

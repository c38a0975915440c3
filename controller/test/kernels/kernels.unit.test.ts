import { expect } from "chai";
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterKernelSpec, JupyterKernelStatus, JupyterKernelTemplate } from "@elastic-jupyter/api";
import { BOOTSTRAP_COMMAND, desiredKernelPod, kernelPodForCache } from "../../src/kernels/pod.ts";
import { podGpus } from "../../src/kernels/gpus.ts";
import { KernelWriteState, PENDING_STATUS_INTERVAL_MS, pendingWriteDelay } from "../../src/kernels/reconciler.ts";
import { MAX_POD_RESTARTS, QUOTA_RETRY_MS, planKernel, planRefusedPod, restartBackoffMs } from "../../src/kernels/plan.ts";
import { RESTRICTED_KERNEL_POD_POLICY, type KernelPodPolicy } from "../../src/kernels/policy.ts";
import { statusFromPod } from "../../src/kernels/status.ts";

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

  it("keeps what the template says for scheduling (schedulerName the policy allows, runtimeClass, priority, annotations, DRA claims); a KAI fraction tolerates the GPU taint", () => {
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
    const kai = { ...opts, policy: { ...RESTRICTED_KERNEL_POD_POLICY, allowedSchedulerNames: ["kai-scheduler"] } };
    const result = desiredKernelPod(kernel(), kernelSpec(), template, kai);
    const pod = podOf(result);
    expect(result).to.deep.include({ gpus: 0.5, gpuUsage: { "nvidia.com/gpu": 0.5 } });
    expect(pod.metadata?.annotations).to.deep.equal({ "gpu-fraction": "0.5" });
    expect(pod.metadata?.labels).to.include({ team: "a", kernel_id: ID });
    expect(pod.spec).to.include({ schedulerName: "kai-scheduler", runtimeClassName: "nvidia", priorityClassName: "notebooks" });
    expect(pod.spec!.resourceClaims).to.deep.equal([{ name: "gpu", resourceClaimTemplateName: "single-gpu" }]);
    expect(pod.spec!.containers[0]!.resources?.claims).to.deep.equal([{ name: "gpu" }]);
    expect(pod.spec!.tolerations, "half a GPU is a GPU: the GPU nodes' taint is tolerated").to.deep.equal([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    const refused = desiredKernelPod(kernel(), kernelSpec(), template, opts);
    expect(refused).to.have.nested.property("error.message").that.contains("spec.schedulerName kai-scheduler").and.contains("kernelPodPolicy.allowedSchedulerNames");
    const noScheduler = structuredClone(template);
    noScheduler.spec!.template!.spec!.schedulerName = "default-scheduler";
    expect(podOf(desiredKernelPod(kernel(), kernelSpec(), noScheduler, opts)).spec!.schedulerName, "the default scheduler needs no permission").to.equal("default-scheduler");
  });

  it("uses the kernel's inline template and an image override its kernelspec allows, and lets the kernel's env win", () => {
    const k = kernel({ image: "registry.example/mine:2", env: [{ name: "KERNEL_EXTRA", value: "user" }, { name: "SHARED", value: "kernel" }], template: { spec: { containers: [{ name: "kernel", command: ["my-kernel"] }] } } });
    const pod = podOf(desiredKernelPod(k, kernelSpec({ env: [{ name: "SHARED", value: "spec" }], allowedImages: ["registry.example/mine:*"] }), undefined, opts));
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

describe("kernelspecs without templates (a platform team's values)", () => {
  it("carries the kernelspec's node selector, tolerations, affinity and pull Secrets onto the pod, added to the template's", () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] } } };
    const spec = kernelSpec({
      nodeSelector: { "nvidia.com/gpu.product": "A100-SXM4-80GB" }, tolerations: [{ key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" }],
      affinity, imagePullSecrets: [{ name: "regcred" }, { name: "shared" }], gpu: { count: 1 },
    });
    const k = kernel({ kernelSpec: { name: "python-gpu" }, template: { spec: { nodeSelector: { pool: "kernels" }, imagePullSecrets: [{ name: "shared" }], containers: [{ name: "kernel" }] } } });
    const pod = podOf(desiredKernelPod(k, spec, undefined, opts));
    expect(pod.spec!.nodeSelector).to.deep.equal({ pool: "kernels", "nvidia.com/gpu.product": "A100-SXM4-80GB" });
    expect(pod.spec!.imagePullSecrets).to.deep.equal([{ name: "shared" }, { name: "regcred" }]);
    expect(pod.spec!.affinity).to.deep.equal(affinity);
    expect(pod.spec!.tolerations).to.deep.equal([
      { key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" },
      { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ]);
  });

  it("reads GPUs written as a resources limit (a MIG profile here) as the kernelspec's GPUs: toleration, count, no unequal request", () => {
    const spec = kernelSpec({ resources: { requests: { cpu: "1", "nvidia.com/mig-1g.10gb": "1" }, limits: { memory: "8Gi", "nvidia.com/mig-1g.10gb": "1" } } });
    const pod = podOf(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" } }), spec, undefined, opts));
    const c = pod.spec!.containers[0]!;
    expect(c.resources).to.deep.equal({ requests: { cpu: "1" }, limits: { memory: "8Gi", "nvidia.com/mig-1g.10gb": "1" } });
    // The resource's own taint (ExtendedResourceToleration) and the GPU operator's nvidia.com/gpu one.
    expect(pod.spec!.tolerations).to.deep.equal([{ key: "nvidia.com/mig-1g.10gb", operator: "Exists", effect: "NoSchedule" }, { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    // And gpu.max lets users ask for more of that resource at launch.
    const more = kernelSpec({ resources: { limits: { "nvidia.com/gpu": "1" } }, gpu: { max: 2 } });
    expect(podOf(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" }, gpus: 2 }), more, undefined, opts)).spec!.containers[0]!.resources!.limits).to.deep.equal({ "nvidia.com/gpu": "2" });
    expect(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" }, gpus: 2 }), kernelSpec({ resources: { limits: { "nvidia.com/gpu": "1" } } }), undefined, opts)).to.have.nested.property("error.reason", "GPULimitExceeded");
    // gpu.max alone keeps the resource written in limits (a MIG profile), not the default nvidia.com/gpu.
    const migMax = kernelSpec({ resources: { limits: { "nvidia.com/mig-1g.10gb": "1" } }, gpu: { max: 2 } });
    expect(podOf(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" }, gpus: 2 }), migMax, undefined, opts)).spec!.containers[0]!.resources!.limits).to.deep.equal({ "nvidia.com/mig-1g.10gb": "2" });
    expect(podOf(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" } }), kernelSpec({ gpu: {} }), undefined, opts)).spec!.containers[0]!.resources!.limits, "gpu: {} is one nvidia.com/gpu").to.deep.equal({ "nvidia.com/gpu": "1" });
  });

  it("accepts the original operator's kernel shape: no kernelId, the id in the template's KERNEL_ID env", () => {
    const seedKernel = { apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: "seed", namespace: "team-a", uid: "u" },
      spec: { template: { spec: { containers: [{ name: "kernel", image: "img:1", env: [{ name: "KERNEL_ID", value: ID }] }] } } } } as unknown as JupyterKernel;
    const pod = podOf(desiredKernelPod(seedKernel, undefined, undefined, opts));
    expect(pod.metadata!.labels).to.include({ kernel_id: ID, component: "kernel" });
    expect(pod.spec!.containers[0]!.env!.find((e) => e.name === "KERNEL_ID")?.value).to.equal(ID);
    const noId = { ...seedKernel, spec: { template: { spec: { containers: [{ name: "kernel", image: "img:1" }] } } } } as unknown as JupyterKernel;
    expect(desiredKernelPod(noId, undefined, undefined, opts)).to.have.nested.property("error.reason", "NoKernelId");
  });
});

describe("kernel pod policy", () => {
  const refusal = (r: ReturnType<typeof desiredKernelPod>) => ("error" in r ? r.error : undefined);
  const withTemplate = (spec: object) => kernel({ kernelSpec: { name: "python-gpu" }, template: { spec: { containers: [{ name: "kernel" }], ...spec } } as never });

  it("restricts a kernel pod without any template: non-root, no escalation, all capabilities dropped, RuntimeDefault seccomp, no token", () => {
    const pod = podOf(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" } }), kernelSpec(), undefined, opts));
    expect(pod.spec!.securityContext).to.deep.equal({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 100, fsGroup: 100, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.spec!.containers[0]!.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(pod.spec!.automountServiceAccountToken).to.equal(false);
  });

  it("keeps what a template sets within the policy (another user, a read-only root)", () => {
    const pod = podOf(desiredKernelPod(withTemplate({ securityContext: { runAsUser: 2000 }, containers: [{ name: "kernel", securityContext: { readOnlyRootFilesystem: true } }] }), kernelSpec(), undefined, opts));
    expect(pod.spec!.securityContext).to.include({ runAsUser: 2000, runAsNonRoot: true });
    expect(pod.spec!.containers[0]!.securityContext).to.include({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  const cases: Array<[string, object, keyof KernelPodPolicy, string]> = [
    ["a privileged container", { containers: [{ name: "kernel", securityContext: { privileged: true } }] }, "allowPrivileged", "spec.containers[kernel].securityContext.privileged"],
    ["privilege escalation in an init container", { initContainers: [{ name: "init", image: "i", securityContext: { allowPrivilegeEscalation: true } }] }, "allowPrivileged", "spec.initContainers[init].securityContext.allowPrivilegeEscalation"],
    ["the host's network", { hostNetwork: true }, "allowHostNamespaces", "spec.hostNetwork"],
    ["the host's PID namespace", { hostPID: true }, "allowHostNamespaces", "spec.hostPID"],
    ["a host port", { containers: [{ name: "kernel", ports: [{ containerPort: 80, hostPort: 80 }] }] }, "allowHostNamespaces", "hostPort 80"],
    ["a hostPath volume", { volumes: [{ name: "root", hostPath: { path: "/" } }] }, "allowHostPath", "spec.volumes[root].hostPath"],
    ["root", { securityContext: { runAsUser: 0 } }, "allowRunAsRoot", "spec.securityContext.runAsUser: 0"],
    ["a service-account token", { automountServiceAccountToken: true }, "allowServiceAccountToken", "spec.automountServiceAccountToken"],
    ["a projected token", { volumes: [{ name: "t", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }] }, "allowServiceAccountToken", "spec.volumes[t].projected.serviceAccountToken"],
  ];
  for (const [what, spec, setting, field] of cases) {
    it(`refuses ${what} unless the cluster admin allows ${setting}, naming the field and the setting`, () => {
      const e = refusal(desiredKernelPod(withTemplate(spec), kernelSpec(), undefined, opts));
      expect(e?.reason).to.equal("PodPolicyViolation");
      expect(e?.message).to.contain(field).and.contain(`kernelPodPolicy.${setting}`);
      const policy = { ...RESTRICTED_KERNEL_POD_POLICY, [setting]: true };
      expect(refusal(desiredKernelPod(withTemplate(spec), kernelSpec(), undefined, { ...opts, policy })), `allowed by ${setting}`).to.equal(undefined);
    });
  }

  it("refuses added capabilities outside allowedCapabilities", () => {
    const spec = { containers: [{ name: "kernel", securityContext: { capabilities: { add: ["SYS_PTRACE", "NET_ADMIN"] } } }] };
    const e = refusal(desiredKernelPod(withTemplate(spec), kernelSpec(), undefined, { ...opts, policy: { ...RESTRICTED_KERNEL_POD_POLICY, allowedCapabilities: ["SYS_PTRACE"] } }));
    expect(e?.message).to.contain("capabilities.add NET_ADMIN").and.not.contain("SYS_PTRACE,");
  });

  it("refuses an image override the kernelspec does not allow, and allows one matching its patterns", () => {
    const override = kernel({ kernelSpec: { name: "python-gpu" }, image: "evil.example/miner:1" });
    const e = refusal(desiredKernelPod(override, kernelSpec(), undefined, opts));
    expect(e).to.deep.include({ reason: "ImageNotAllowed" });
    expect(e?.message).to.contain("evil.example/miner:1").and.contain("team-a/python-gpu").and.contain("spec.allowedImages");
    expect(refusal(desiredKernelPod(override, kernelSpec({ allowedImages: ["registry.example/*"] }), undefined, opts))?.message).to.contain("allows only registry.example/*");
    expect(refusal(desiredKernelPod(override, kernelSpec({ allowedImages: ["evil.example/*"] }), undefined, opts))).to.equal(undefined);
    expect(refusal(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" }, image: "registry.example/py:1" }), kernelSpec(), undefined, opts)), "its own image is no override").to.equal(undefined);
    // A pattern is a glob, not a regular expression: "." is literal.
    expect(refusal(desiredKernelPod(kernel({ kernelSpec: { name: "python-gpu" }, image: "registryXexample/py:2" }), kernelSpec({ allowedImages: ["registry.example/*"] }), undefined, opts))?.reason).to.equal("ImageNotAllowed");
  });

  it("plans a Failed kernel and no pod for a refusal", () => {
    const plan = planKernel({ kernel: withTemplate({ hostNetwork: true }), pod: undefined, kernelSpec: kernelSpec(), kernelTemplate: undefined, now }, opts);
    expect(plan.createPod).to.equal(undefined);
    expect(plan.status).to.include({ phase: "Failed", reason: "PodPolicyViolation" });
  });
});

describe("planRefusedPod: the API server refused the kernel pod", () => {
  const k = kernel({ kernelSpec: { name: "python-gpu" } });
  it("fails an invalid pod at once with the API server's message", () => {
    const plan = planRefusedPod(k, { statusCode: 422, message: 'Pod "x" is invalid: spec.containers[0].resources.requests: Invalid value: "1": must be equal to nvidia.com/gpu limit of 2' }, now)!;
    expect(plan.status).to.include({ phase: "Failed", reason: "PodInvalid" });
    expect(plan.status!.message).to.contain("must be equal to nvidia.com/gpu limit");
    expect(plan.requeueAfterMs).to.equal(undefined);
  });
  it("fails a Pod Security refusal", () => {
    const plan = planRefusedPod(k, { statusCode: 403, message: 'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged' }, now)!;
    expect(plan.status).to.include({ phase: "Failed", reason: "PodSecurityRefused" });
  });
  it("keeps an exceeded ResourceQuota Pending, naming the quota, and tries again", () => {
    const plan = planRefusedPod(k, { statusCode: 403, message: 'pods "x" is forbidden: exceeded quota: gpus, requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=4, limited: requests.nvidia.com/gpu=4' }, now)!;
    expect(plan.status).to.include({ phase: "Pending", reason: "QuotaExceeded" });
    expect(plan.status!.message).to.contain("exceeded quota: gpus");
    expect(plan.requeueAfterMs).to.equal(QUOTA_RETRY_MS);
  });
  it("leaves errors that are not refusals to the retry", () => {
    for (const statusCode of [404, 409, 429, 500, 503]) expect(planRefusedPod(k, { statusCode, message: "x" }, now), String(statusCode)).to.equal(undefined);
  });
});

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

describe("kernelPodForCache: what the sidecar keeps of a kernel pod", () => {
  it("keeps everything the status and GPU metrics read, and drops the rest", () => {
    const full = pod("Running", { nodeName: "gpu-node-0", podIP: "10.244.0.7", ready: true });
    full.metadata!.managedFields = [{ manager: "kube-scheduler", operation: "Update", fieldsV1: { "f:spec": {} } }];
    full.spec!.containers[0]!.env = [{ name: "KERNEL_ID", value: ID }];
    full.spec!.volumes = [{ name: "v", emptyDir: {} }];
    const kept = kernelPodForCache(structuredClone(full)) as Pod;
    for (const k of [kernel(), kernel({}, statusFromPod(kernel(), full, now.toISOString()))]) {
      expect(statusFromPod(k, kept, now.toISOString())).to.deep.equal(statusFromPod(k, full, now.toISOString()));
    }
    expect(podGpus(kept)).to.equal(podGpus(full));
    expect(kept.metadata).to.not.have.property("managedFields");
    expect(kept.spec).to.not.have.property("volumes");
    expect(kept.spec!.containers[0]).to.not.have.property("env");
    for (const p of [pod("Pending", { scheduled: { status: "False", reason: "Unschedulable", message: "no GPUs" } }), pod("Failed", { nodeName: "n" }), pod("Running", { deleting: true })]) {
      expect(statusFromPod(kernel(), kernelPodForCache(structuredClone(p)) as Pod, now.toISOString())).to.deep.equal(statusFromPod(kernel(), p, now.toISOString()));
    }
  });
});

describe("pendingWriteDelay: a kernel's Pending statuses are held back", () => {
  const pending = { status: { phase: "Pending", reason: "Scheduling" } } as const;
  it("holds the first Pending status for a second, then writes at most once a second", () => {
    const state = new KernelWriteState();
    const t = 1_000_000;
    expect(pendingWriteDelay(state, "a/k", kernel(), pending, t)).to.equal(PENDING_STATUS_INTERVAL_MS);
    expect(pendingWriteDelay(state, "a/k", kernel(), pending, t + 400)).to.equal(PENDING_STATUS_INTERVAL_MS - 400);
    expect(pendingWriteDelay(state, "a/k", kernel(), pending, t + PENDING_STATUS_INTERVAL_MS)).to.equal(0);
    expect(pendingWriteDelay(state, "a/k", kernel({}, { phase: "Pending" }), pending, t + PENDING_STATUS_INTERVAL_MS + 10)).to.equal(PENDING_STATUS_INTERVAL_MS - 10);
  });
  it("writes Running, Failed and any change of phase at once", () => {
    const state = new KernelWriteState();
    expect(pendingWriteDelay(state, "a/k", kernel(), { status: { phase: "Running" } }, 0)).to.equal(0);
    expect(pendingWriteDelay(state, "a/k", kernel(), { status: { phase: "Failed" } }, 0)).to.equal(0);
    expect(pendingWriteDelay(state, "a/k", kernel({}, { phase: "Running" }), pending, 0)).to.equal(0);
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

describe("KernelWriteState.reapPod: deleted kernels' pods, off the workers", () => {
  const deferred = (): { promise: Promise<void>; resolve: () => void } => {
    let resolve!: () => void;
    const promise = new Promise<void>((res) => { resolve = res; });
    return { promise, resolve };
  };
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it("deletes at most reapLimit pods at once, each pod once while its delete is in flight, and starts the next as one ends", async () => {
    const state = new KernelWriteState();
    state.reapLimit = 2;
    const started: string[] = [];
    const calls = new Map<string, ReturnType<typeof deferred>>();
    const reap = (uid: string): void => state.reapPod(uid, () => { started.push(uid); const d = deferred(); calls.set(uid, d); return d.promise; }, () => {});
    reap("a"); reap("b"); reap("c"); reap("a");
    expect(started).to.deep.equal(["a", "b"]);
    calls.get("a")!.resolve();
    await tick();
    expect(started).to.deep.equal(["a", "b", "c"]);
    reap("a"); // a's delete ended: a pod seen again (not yet terminating in the cache) is deleted again
    expect(started).to.deep.equal(["a", "b", "c"]);
    calls.get("b")!.resolve();
    await tick();
    expect(started).to.deep.equal(["a", "b", "c", "a"]);
  });

  it("hands a failed delete to onError and frees its slot", async () => {
    const state = new KernelWriteState();
    state.reapLimit = 1;
    const errors: unknown[] = [];
    const started: string[] = [];
    state.reapPod("x", async () => { started.push("x"); throw new Error("503"); }, (e) => errors.push(e));
    state.reapPod("y", async () => { started.push("y"); }, (e) => errors.push(e));
    await tick();
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(["503"]);
    expect(started).to.deep.equal(["x", "y"]);
  });
});

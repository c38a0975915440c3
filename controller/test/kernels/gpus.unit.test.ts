// podGpuUsage: what a kernel pod holds of the cluster's GPUs, for each kind a platform team uses
// (docs/gpus.md).
import { expect } from "chai";
import type { Pod } from "kubernetes-types/core/v1.js";
import { claimTemplateUsage, podGpuUsage, podGpus, type ResourceClaimTemplate } from "../../src/kernels/gpus.ts";
import { gpuTolerations, kernelPodForCache } from "../../src/kernels/pod.ts";

function pod(limits: Record<string, string>[], extra: { annotations?: Record<string, string>; spec?: object } = {}): Pod {
  return {
    metadata: { name: "k", namespace: "team-a", ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: { containers: limits.map((l, i) => ({ name: `c${i}`, resources: { limits: l } })), ...extra.spec },
  } as Pod;
}

function claimTemplate(requests: object[]): ResourceClaimTemplate {
  return { metadata: { name: "t", namespace: "team-a" }, spec: { spec: { devices: { requests: requests as never } } } };
}

describe("podGpuUsage: a pod's GPUs by kind", () => {
  it("counts whole GPUs by resource name over containers, and ignores CPU, memory and GPU memory/cores", () => {
    expect(podGpuUsage(pod([{ "nvidia.com/gpu": "2", cpu: "4", memory: "8Gi" }, { "nvidia.com/gpu": "1" }]))).to.deep.equal({ "nvidia.com/gpu": 3 });
    expect(podGpuUsage(pod([{ cpu: "1" }]))).to.deep.equal({});
  });

  it("counts MIG profiles each under its own name", () => {
    expect(podGpuUsage(pod([{ "nvidia.com/mig-1g.10gb": "2" }, { "nvidia.com/mig-3g.40gb": "1" }]))).to.deep.equal({ "nvidia.com/mig-1g.10gb": 2, "nvidia.com/mig-3g.40gb": 1 });
  });

  it("counts shared GPUs: time-slicing's nvidia.com/gpu.shared, and HAMi's vGPUs without their memory and cores", () => {
    expect(podGpuUsage(pod([{ "nvidia.com/gpu.shared": "1" }]))).to.deep.equal({ "nvidia.com/gpu.shared": 1 });
    expect(podGpuUsage(pod([{ "nvidia.com/gpu": "1", "nvidia.com/gpumem": "10000", "nvidia.com/gpucores": "30" }]))).to.deep.equal({ "nvidia.com/gpu": 1 });
    expect(podGpuUsage(pod([{ "volcano.sh/vgpu-number": "1", "volcano.sh/vgpu-memory": "4000" }]))).to.deep.equal({ "volcano.sh/vgpu-number": 1 });
  });

  it("counts KAI's gpu-fraction as that part of one nvidia.com/gpu, and gpu-memory as one shared GPU", () => {
    const half = pod([{ cpu: "1" }], { annotations: { "gpu-fraction": "0.5" }, spec: { schedulerName: "kai-scheduler" } });
    expect(podGpuUsage(half)).to.deep.equal({ "nvidia.com/gpu": 0.5 });
    expect(podGpus(half)).to.equal(0.5);
    expect(podGpuUsage(pod([{}], { annotations: { "gpu-memory": "2000" } }))).to.deep.equal({ "nvidia.com/gpu.shared": 1 });
    expect(podGpuUsage(pod([{}], { annotations: { "gpu-fraction": "lots" } })), "not a number: nothing").to.deep.equal({});
  });

  it("counts DRA GPU devices per device class, keyed as ResourceQuota keys them, from the claim template the pod names", () => {
    const templates: Record<string, ResourceClaimTemplate> = {
      "two-gpus": claimTemplate([{ name: "gpu", exactly: { deviceClassName: "gpu.nvidia.com", count: 2 } }]),
      "one-mig": claimTemplate([{ name: "mig", firstAvailable: [{ deviceClassName: "mig.nvidia.com" }, { deviceClassName: "gpu.nvidia.com" }] }]),
      "a-nic": claimTemplate([{ name: "nic", exactly: { deviceClassName: "rdma.example.com" } }]),
    };
    const lookup = (ns: string, name: string) => (ns === "team-a" ? templates[name] : undefined);
    const p = pod([{}], { spec: { resourceClaims: [
      { name: "gpus", resourceClaimTemplateName: "two-gpus" },
      { name: "mig", resourceClaimTemplateName: "one-mig" },
      { name: "nic", resourceClaimTemplateName: "a-nic" },
      { name: "missing", resourceClaimTemplateName: "not-yet-cached" },
      { name: "made", resourceClaimName: "a-claim" },
    ] } });
    expect(podGpuUsage(p, lookup)).to.deep.equal({
      "gpu.nvidia.com.deviceclass.resource.k8s.io/devices": 2,
      "mig.nvidia.com.deviceclass.resource.k8s.io/devices": 1,
    });
    expect(podGpuUsage(p), "without templates, DRA counts nothing").to.deep.equal({});
    expect(claimTemplateUsage(claimTemplate([{ name: "all", exactly: { deviceClassName: "gpu.example.com", allocationMode: "All" } }]))).to.deep.equal({ "gpu.example.com.deviceclass.resource.k8s.io/devices": 1 });
  });

  it("counts init containers as the scheduler does: the larger of them and the rest, sidecars added", () => {
    const p = pod([{ "nvidia.com/gpu": "1" }], { spec: { initContainers: [
      { name: "warm", resources: { limits: { "nvidia.com/gpu": "2" } } },
      { name: "side", restartPolicy: "Always", resources: { limits: { "nvidia.com/mig-1g.10gb": "1" } } },
    ] } });
    expect(podGpuUsage(p)).to.deep.equal({ "nvidia.com/gpu": 2, "nvidia.com/mig-1g.10gb": 1 });
  });
});

describe("kernelPodForCache keeps what podGpuUsage reads", () => {
  it("counts the same from the cached pod as from the full one, for every kind at once", () => {
    const full = pod([{ "nvidia.com/mig-1g.10gb": "1", cpu: "1" }], {
      annotations: { "gpu-fraction": "0.25", "other": "dropped" },
      spec: {
        initContainers: [{ name: "side", restartPolicy: "Always", resources: { limits: { "nvidia.com/gpu.shared": "1" } } }],
        resourceClaims: [{ name: "gpu", resourceClaimTemplateName: "t" }],
      },
    });
    const lookup = () => claimTemplate([{ name: "gpu", exactly: { deviceClassName: "gpu.nvidia.com" } }]);
    const cached = kernelPodForCache(full as never) as Pod;
    expect(podGpuUsage(cached, lookup)).to.deep.equal(podGpuUsage(full, lookup)).and.to.deep.equal({
      "nvidia.com/mig-1g.10gb": 1, "nvidia.com/gpu.shared": 1, "nvidia.com/gpu": 0.25, "gpu.nvidia.com.deviceclass.resource.k8s.io/devices": 1,
    });
    expect(cached.metadata?.annotations).to.deep.equal({ "gpu-fraction": "0.25" });
  });
});

describe("gpuTolerations", () => {
  it("tolerates the resource's own taint and, for NVIDIA kinds, the nvidia.com/gpu taint; nothing for DRA or what is tolerated", () => {
    expect(gpuTolerations(["nvidia.com/gpu.shared"], []).map((t) => t.key)).to.deep.equal(["nvidia.com/gpu.shared", "nvidia.com/gpu"]);
    expect(gpuTolerations(["nvidia.com/gpumem"], []).map((t) => t.key)).to.deep.equal(["nvidia.com/gpumem", "nvidia.com/gpu"]);
    expect(gpuTolerations(["amd.com/gpu"], []).map((t) => t.key)).to.deep.equal(["amd.com/gpu"]);
    expect(gpuTolerations(["gpu.example.com.deviceclass.resource.k8s.io/devices"], [])).to.deep.equal([]);
    expect(gpuTolerations(["nvidia.com/gpu"], [{ operator: "Exists" }])).to.deep.equal([]);
    expect(gpuTolerations(["nvidia.com/gpu"], [{ key: "nvidia.com/gpu", operator: "Exists" }])).to.deep.equal([]);
  });
});

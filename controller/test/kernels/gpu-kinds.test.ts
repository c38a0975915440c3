// Every GPU kind a platform team uses, end to end on the local control plane (docs/gpus.md): a
// kernelspec or template per kind, the sidecar as a real process makes the kernel pod, the real
// scheduler places it on the fake node offering that kind (MIG, HAMi, time-slicing), through the
// kai-scheduler profile (KAI's fraction), or with a DRA device it allocates; the kernel's status
// and the GPU gauges count it by kind.
import { expect } from "chai";
import { freshNamespace, getJson, kubectl, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
const IMAGE = "registry.example/pytorch:2";
const DRA_KEY = "gpu.example.com.deviceclass.resource.k8s.io/devices";
let seq = 0;
function uuid(): string {
  const n = (++seq).toString(16).padStart(4, "0");
  return `9a1d${n}-0000-4000-8000-${Date.now().toString(16).padStart(12, "0").slice(-12)}`;
}

interface Kind { kernelspec: string; node: RegExp; usage: Record<string, number> }

/** Each kind: its kernelspec (and template), the node it must land on, what it counts as. */
const KINDS: Record<string, Kind> = {
  mig: { kernelspec: "python-mig", node: /^gpu-node-mig-0$/, usage: { "nvidia.com/mig-1g.10gb": 1 } },
  hami: { kernelspec: "python-hami", node: /^gpu-node-hami-0$/, usage: { "nvidia.com/gpu": 1 } },
  timeslice: { kernelspec: "python-shared", node: /^gpu-node-timeslice-0$/, usage: { "nvidia.com/gpu.shared": 1 } },
  kai: { kernelspec: "python-kai-half", node: /^gpu-node-/, usage: { "nvidia.com/gpu": 0.5 } },
  dra: { kernelspec: "python-dra", node: /^gpu-node-[0-9]+$/, usage: { [DRA_KEY]: 1 } },
};

describe("sidecar: kernels of every GPU kind on the fake GPU nodes (MIG, HAMi, time-slicing, KAI fraction, DRA)", function () {
  this.timeout(120_000);
  let ns: string;
  let sidecar: ControllerProcess;
  let metricsUrl: string;
  const names: Record<string, string> = {};
  const apply = (obj: object) => kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify(obj));
  const sidecarArgs = () => [
    "--role", "sidecar", "--namespace", ns, "--kubeconfig", testCluster.kubeconfig, "--metrics-addr", "127.0.0.1:0",
    "--leader-elect=false", "--kernel-pod-policy", JSON.stringify({ allowedSchedulerNames: ["kai-scheduler"] }),
  ];
  const kernelspec = (name: string, spec: object) => apply({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name }, spec: { language: "Python", image: IMAGE, ...spec } });

  before(async () => {
    await testCluster.addGpuKinds("all");
    await installCrds();
    ns = await freshNamespace("gpu-kinds");
    await kernelspec("python-mig", { resources: { limits: { "nvidia.com/mig-1g.10gb": "1" } } });
    await kernelspec("python-hami", { gpu: { count: 1 }, resources: { limits: { "nvidia.com/gpumem": "10000", "nvidia.com/gpucores": "30" } } });
    await kernelspec("python-shared", { gpu: { resourceName: "nvidia.com/gpu.shared", count: 1 } });
    // KAI: a fraction by annotation, the scheduler by name, the queue by label. The stand-in
    // scheduler knows nothing of GPUs, so the template's node selector keeps it on GPU nodes.
    await apply({
      apiVersion: API, kind: "JupyterKernelTemplate", metadata: { name: "kai-half" },
      spec: { template: {
        metadata: { annotations: { "gpu-fraction": "0.5" }, labels: { "kai.scheduler/queue": "notebooks" } },
        spec: { schedulerName: "kai-scheduler", nodeSelector: { "nvidia.com/gpu.present": "true" }, containers: [{ name: "kernel" }] },
      } },
    });
    await kernelspec("python-kai-half", { template: { name: "kai-half" } });
    await apply({
      apiVersion: "resource.k8s.io/v1", kind: "ResourceClaimTemplate", metadata: { name: "single-gpu" },
      spec: { spec: { devices: { requests: [{ name: "gpu", exactly: { deviceClassName: "gpu.example.com", count: 1 } }] } } },
    });
    await apply({
      apiVersion: API, kind: "JupyterKernelTemplate", metadata: { name: "dra-gpu" },
      spec: { template: { spec: {
        resourceClaims: [{ name: "gpu", resourceClaimTemplateName: "single-gpu" }],
        tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
        containers: [{ name: "kernel", resources: { claims: [{ name: "gpu" }] } }],
      } } },
    });
    await kernelspec("python-dra", { template: { name: "dra-gpu" } });
    sidecar = startController(sidecarArgs());
    const running = await waitFor("sidecar running", async () => sidecar.lines.find((l) => l.msg === "running"));
    metricsUrl = `http://127.0.0.1:${String(running.metricsPort)}/metrics`;
    // All kinds at once: the suite takes as long as the slowest.
    for (const [kind, k] of Object.entries(KINDS)) {
      const id = uuid();
      names[kind] = `kernel-${id}`;
      await apply({ apiVersion: API, kind: "JupyterKernel", metadata: { name: names[kind] }, spec: { kernelId: id, kernelSpec: { name: k.kernelspec } } });
    }
  });

  after(async () => {
    expect(await sidecar?.stop(), `sidecar exit code (log: ${sidecar?.logFile})`).to.equal(0);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  async function running(kind: string): Promise<any> {
    return waitFor(`${kind} kernel Running`, async () => {
      const st = (await getJson(["-n", ns, "get", "jupyterkernel", names[kind]!])).status ?? {};
      if (st.phase === "Failed") throw new Error(`${kind} kernel Failed: ${st.reason}: ${st.message}`);
      return st.phase === "Running" ? st : undefined;
    }, 30_000);
  }

  for (const kind of ["mig", "hami", "timeslice"]) {
    it(`${kind}: the kernel runs on the node offering its resource, counted by resource name`, async () => {
      const k = KINDS[kind]!;
      const st = await running(kind);
      expect(st.nodeName).to.match(k.node);
      expect(st.gpuUsage).to.deep.equal(k.usage);
      expect(st.gpus).to.equal(1);
    });
  }

  it("kai: the kai-scheduler profile places the half-GPU kernel on a GPU node; status counts 0.5 nvidia.com/gpu", async () => {
    const st = await running("kai");
    expect(st.nodeName).to.match(KINDS.kai!.node);
    expect(st).to.deep.include({ gpus: 0.5, gpuUsage: { "nvidia.com/gpu": 0.5 } });
    const pod = await getJson(["-n", ns, "get", "pod", names.kai!]);
    expect(pod.spec.schedulerName).to.equal("kai-scheduler");
    expect(pod.metadata.annotations).to.include({ "gpu-fraction": "0.5" });
    expect(pod.metadata.labels).to.include({ "kai.scheduler/queue": "notebooks" });
    const events = await getJson(["-n", ns, "get", "events", "--field-selector", `involvedObject.name=${names.kai},reason=Scheduled`]);
    expect(events.items.map((e: any) => e.reportingComponent || e.source?.component), "scheduled by the kai-scheduler profile").to.include("kai-scheduler");
  });

  it("dra: the scheduler allocates a device of the pod's node to its claim; status counts it under the device class", async () => {
    const st = await running("dra");
    expect(st.nodeName).to.match(KINDS.dra!.node);
    expect(st).to.deep.include({ gpus: 1, gpuUsage: { [DRA_KEY]: 1 } });
    const pod = await getJson(["-n", ns, "get", "pod", names.dra!]);
    expect(pod.spec.resourceClaims).to.deep.equal([{ name: "gpu", resourceClaimTemplateName: "single-gpu" }]);
    const claimName = pod.status.resourceClaimStatuses?.[0]?.resourceClaimName;
    expect(claimName, "the ResourceClaim made for the pod").to.be.a("string");
    const claim = await getJson(["-n", ns, "get", "resourceclaim", claimName]);
    const results = claim.status?.allocation?.devices?.results ?? [];
    expect(results).to.have.length(1);
    expect(results[0]).to.include({ driver: "gpu.example.com", pool: st.nodeName });
    expect(results[0].device).to.match(/^gpu-[0-9]+$/);
    expect(claim.status.reservedFor.map((r: any) => r.name)).to.deep.equal([names.dra]);
  });

  it("kueue: a kernel pod a batch queue holds back is Pending with reason SchedulingGated, and runs once admitted", async () => {
    // Kueue's webhook adds this gate to pods labelled with a queue name and removes it on
    // admission; the template adds it here, and the test admits the pod as Kueue would.
    await apply({
      apiVersion: API, kind: "JupyterKernelTemplate", metadata: { name: "queued" },
      spec: { template: {
        metadata: { labels: { "kueue.x-k8s.io/queue-name": "notebooks" } },
        spec: { schedulingGates: [{ name: "kueue.x-k8s.io/admission" }], containers: [{ name: "kernel" }] },
      } },
    });
    await kernelspec("python-queued", { template: { name: "queued" }, gpu: { count: 1 } });
    const id = uuid();
    const name = `kernel-${id}`;
    await apply({ apiVersion: API, kind: "JupyterKernel", metadata: { name }, spec: { kernelId: id, kernelSpec: { name: "python-queued" } } });
    const gated = await waitFor("kernel SchedulingGated", async () => {
      const st = (await getJson(["-n", ns, "get", "jupyterkernel", name])).status ?? {};
      return st.reason === "SchedulingGated" ? st : undefined;
    }, 15_000);
    expect(gated).to.include({ phase: "Pending", gpus: 1 });
    expect(gated.conditions.find((c: any) => c.type === "Scheduled")).to.include({ status: "False", reason: "SchedulingGated" });
    await kubectlOk(["-n", ns, "patch", "pod", name, "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/schedulingGates" }])]);
    const st = await waitFor("admitted kernel Running", async () => {
      const s2 = (await getJson(["-n", ns, "get", "jupyterkernel", name])).status ?? {};
      return s2.phase === "Running" ? s2 : undefined;
    }, 30_000);
    expect(st.nodeName).to.match(/^gpu-node-/);
  });

  it("the GPU gauges count each kind by namespace, kernelspec and resource", async () => {
    for (const kind of Object.keys(KINDS)) await running(kind);
    const want = Object.values(KINDS).map((k) => Object.entries(k.usage).map(([resource, n]) => [`{namespace="${ns}",kernelspec="${k.kernelspec}",resource="${resource}"}`, n] as const)).flat();
    const text = await waitFor("gauges for every kind", async () => {
      const t = await (await fetch(metricsUrl)).text();
      return want.every(([labels, n]) => t.includes(`elastic_jupyter_gpus_bound${labels} ${n}\n`)) ? t : undefined;
    }, 10_000);
    for (const [labels, n] of want) expect(text).to.contain(`elastic_jupyter_gpus_requested${labels} ${n}\n`);
  });

  it("a restarted sidecar counts the running kernels' GPUs again, DRA devices included", async () => {
    expect(await sidecar.stop(), `sidecar exit code (log: ${sidecar.logFile})`).to.equal(0);
    sidecar = startController(sidecarArgs());
    const started = await waitFor("sidecar running again", async () => sidecar.lines.find((l) => l.msg === "running"));
    const url = `http://127.0.0.1:${String(started.metricsPort)}/metrics`;
    const dra = `elastic_jupyter_gpus_bound{namespace="${ns}",kernelspec="python-dra",resource="${DRA_KEY}"} 1\n`;
    await waitFor("DRA gauge after restart", async () => (await (await fetch(url)).text()).includes(dra), 10_000);
    const st = (await getJson(["-n", ns, "get", "jupyterkernel", names.dra!])).status;
    expect(st).to.deep.include({ phase: "Running", gpus: 1, gpuUsage: { [DRA_KEY]: 1 } });
  });

  it("the GPU policy counts each kind: a second MIG slice, DRA device or half GPU over its kernelspec's limit waits in the queue, naming the kind", async () => {
    const cases: Array<[string, object, string, string]> = [
      ["python-mig-capped", { resources: { limits: { "nvidia.com/mig-1g.10gb": "1" } }, gpuPolicy: { maxPerNamespace: { "nvidia.com/mig-1g.10gb": 1 } } }, "nvidia.com/mig-1g.10gb", "gpuPolicy.maxPerNamespace"],
      ["python-dra-capped", { template: { name: "dra-gpu" }, gpuPolicy: { maxPerNamespace: { [DRA_KEY]: 1 } } }, DRA_KEY, "gpuPolicy.maxPerNamespace"],
      ["python-kai-capped", { template: { name: "kai-half" }, gpuPolicy: { maxPerUser: { "nvidia.com/gpu": 0.5 } } }, "nvidia.com/gpu", "gpuPolicy.maxPerUser"],
    ];
    for (const [spec, body] of cases) await kernelspec(spec, body);
    const kernel = async (spec: string, n: number) => {
      const name = `${spec}-${n}`;
      await apply({ apiVersion: API, kind: "JupyterKernel", metadata: { name }, spec: { kernelId: uuid(), kernelSpec: { name: spec }, username: "alice" } });
      return name;
    };
    const status = async (name: string) => (await getJson(["-n", ns, "get", "jupyterkernel", name])).status ?? {};
    for (const [spec, , resource, limit] of cases) {
      const first = await kernel(spec, 1);
      await waitFor(`${first} Running`, async () => (await status(first)).phase === "Running", 30_000);
      const second = await kernel(spec, 2);
      const queued = await waitFor(`${second} queued`, async () => { const st = await status(second); return st.reason === "Queued" ? st : undefined; }, 15_000);
      expect(queued.message, spec).to.include(`${resource} JupyterKernelSpec ${spec} allows`);
      expect(queued.message, spec).to.include(`(${limit})`);
      expect((await getJson(["-n", ns, "get", "pods", "--field-selector", `metadata.name=${second}`])).items, `${spec}: no pod while queued`).to.deep.equal([]);
    }
  });
});


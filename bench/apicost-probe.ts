// Throwaway probe: API server CPU per request kind (not part of the product).
import { readFileSync } from "node:fs";
import { KubeClient } from "../controller/src/runtime/client.ts";
const dir = "/tmp/elastic-jupyter-bench";
const c = KubeClient.fromConfig(`${dir}/admin.kubeconfig`);
const pid = Number(readFileSync(`${dir}/kube-apiserver.pid`, "utf8"));
const cpu = () => { const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" "); return (Number(f[11]) + Number(f[12])) / 100; };
const N = 600, ns = "default";
async function pool(n: number, fn: (i: number) => Promise<unknown>) { let i = 0; await Promise.all(Array.from({ length: 16 }, async () => { while (i < n) await fn(i++); })); }
async function measure(name: string, fn: (i: number) => Promise<unknown>) { const c0 = cpu(), t0 = performance.now(); await pool(N, fn); console.log(name.padEnd(28), ((cpu() - c0) / N * 1000).toFixed(2), "ms CPU/req", ((performance.now() - t0) / N).toFixed(2), "ms wall/req"); }
const kernel = (i: number) => ({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: `k-${i}`, namespace: ns }, spec: { kernelId: "219cfd49-89ad-428c-8e0d-3e61e15d79a7", template: { spec: { containers: [{ name: "kernel", image: "x:1" }], tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] } } } });
const pod = (i: number) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: `p-${i}`, namespace: ns }, spec: { schedulerName: "nobody", containers: [{ name: "kernel", image: "x:1" }] } });
const cm = (i: number) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c-${i}`, namespace: ns }, data: { a: "b" } });
const status = (phase: string) => ({ phase, reason: "KernelRunning", message: "the kernel pod is running and ready", podName: "x", podIP: "10.0.0.1", nodeName: "n", gpus: 0, observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "KernelRunning", message: "m", lastTransitionTime: "2026-12-02T00:00:00Z", observedGeneration: 1 }] });
await measure("create configmap", (i) => c.create(cm(i)));
await measure("create pod (unscheduled)", (i) => c.create(pod(i)));
await measure("create JupyterKernel", (i) => c.create(kernel(i)));
await measure("status SSA apply", (i) => c.apply({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: `k-${i}`, namespace: ns }, status: status("Pending") } as never, { fieldManager: "probe", force: true, subresource: "status" }));
await measure("status merge patch", (i) => c.request("PATCH", `/apis/kubeflow.tkestack.io/v1alpha1/namespaces/${ns}/jupyterkernels/k-${i}/status`, { body: { status: status("Running") }, contentType: "application/merge-patch+json" }));
await measure("delete JupyterKernel", (i) => c.delete({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel" }, ns, `k-${i}`));
await measure("delete pod", (i) => c.delete({ apiVersion: "v1", kind: "Pod" }, ns, `p-${i}`));
await measure("delete configmap", (i) => c.delete({ apiVersion: "v1", kind: "ConfigMap" }, ns, `c-${i}`));

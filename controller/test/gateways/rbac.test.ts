// The gateway's Role is least privilege: acting as the gateway's ServiceAccount (a real token from
// the TokenRequest API), this test performs every call the gateway (EG + our process proxy and
// launcher) and its sidecar make, and fails if the Role grants any (group, resource, verb) it did
// not exercise, or if calls they never make are allowed.
import { expect } from "chai";
import { kubectl, kubectlOk, freshNamespace, testCluster, getJson } from "../../../ci/test/cluster.ts";
import { KubeApiError, KubeClient, type KubeObject } from "../../src/runtime/client.ts";
import { kubeconfigCredentials } from "../../src/runtime/kubeconfig.ts";
import type { ControllerProcess } from "../testing/controller-process.ts";
import { startOperator, waitForReady } from "./operator-harness.ts";
import { grantedPermissions } from "../../src/gateways/rbac.ts";
import { eventAbout } from "../../src/runtime/events.ts";
import { readRecord, writeRecord } from "../../src/kernels/admission-record.ts";

const API = "kubeflow.tkestack.io/v1alpha1";
const kernelGvk = { apiVersion: API, kind: "JupyterKernel" };

function clientWithToken(token: string): KubeClient {
  const admin = kubeconfigCredentials(testCluster.kubeconfig);
  return new KubeClient({ server: admin.server, ca: admin.ca, authorization: async () => `Bearer ${token}` });
}

async function forbidden(what: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    expect(e, what).to.be.instanceOf(KubeApiError);
    expect((e as KubeApiError).statusCode, `${what}: ${(e as Error).message}`).to.equal(403);
    return;
  }
  expect.fail(`${what} was allowed; the gateway's Role grants too much`);
}

describe("gateway Role: least privilege, checked as the gateway's ServiceAccount", function () {
  this.timeout(90_000);
  let ns: string;
  let operator: ControllerProcess;
  let sa: KubeClient;
  const gw = "gw-rbac";
  const exercised = new Set<string>();
  /** Runs a call as the gateway and records the permission it needs. */
  const as = async <T>(perm: string, call: () => Promise<T>): Promise<T> => {
    const out = await call();
    exercised.add(perm);
    return out;
  };

  before(async () => {
    ns = await freshNamespace("rbac");
    operator = await startOperator(ns);
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterGateway", metadata: { name: gw }, spec: { kernels: ["py"] } }));
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterKernelTemplate", metadata: { name: "tpl" }, spec: { template: { spec: { containers: [{ name: "kernel" }] } } } }));
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "py" }, spec: { language: "python", image: "img", template: { name: "tpl" } } }));
    await waitForReady("jupytergateway", ns, gw, "True", undefined, 60_000);
    const token = (await kubectlOk(["create", "token", gw, "-n", ns, "--duration=10m"])).trim();
    sa = clientWithToken(token);
  });
  after(async () => {
    await operator?.stop();
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("allows every call the launcher, the process proxy and the sidecar make", async () => {
    const G = "kubeflow.tkestack.io";
    const watchOnce = (gvk: { apiVersion: string; kind: string }, resourceVersion: string, labelSelector?: string) =>
      sa.watch(gvk, { namespace: ns, resourceVersion, timeoutSeconds: 1, ...(labelSelector ? { labelSelector } : {}) }, () => {}, new AbortController().signal);
    // launch_kernel.py creates the JupyterKernel, deleting a stale one with the same name first.
    const kernel = { apiVersion: API, kind: "JupyterKernel", metadata: { name: "kernel-1", namespace: ns }, spec: { kernelId: "0b7e7d3c-3a47-4d0b-9d63-2a1f5e0b6c11", kernelSpec: { name: "py" } } };
    await as(`${G}/jupyterkernels:create`, () => sa.create(kernel as KubeObject));
    // The process proxy polls it (process_proxy.py read_kernel).
    expect(await as(`${G}/jupyterkernels:get`, () => sa.get(kernelGvk, ns, "kernel-1"))).to.not.equal(undefined);
    // The sidecar's informers (runtime/informer.ts: list, then watch), with the selectors sidecar.ts uses.
    const informers: Array<[string, { apiVersion: string; kind: string }, string | undefined]> = [
      [`${G}/jupyterkernels`, kernelGvk, undefined],
      [`${G}/jupyterkernelspecs`, { apiVersion: API, kind: "JupyterKernelSpec" }, undefined],
      [`${G}/jupyterkerneltemplates`, { apiVersion: API, kind: "JupyterKernelTemplate" }, undefined],
      [`${G}/jupytergateways`, { apiVersion: API, kind: "JupyterGateway" }, undefined],
      ["/pods", { apiVersion: "v1", kind: "Pod" }, "component=kernel"],
      ["/configmaps", { apiVersion: "v1", kind: "ConfigMap" }, "kubeflow.tkestack.io/kernelspec"],
      // DRA claim templates, to count kernels' DRA GPUs (sidecar.ts watchClaimTemplates).
      ["resource.k8s.io/resourceclaimtemplates", { apiVersion: "resource.k8s.io/v1", kind: "ResourceClaimTemplate" }, undefined],
    ];
    for (const [perm, gvk, labelSelector] of informers) {
      const listed = await as(`${perm}:list`, () => sa.list(gvk, { namespace: ns, ...(labelSelector ? { labelSelector } : {}) }));
      await as(`${perm}:watch`, () => watchOnce(gvk, listed.resourceVersion, labelSelector));
    }
    // The sidecar creates the kernel pod and writes the kernel's status (server-side apply).
    const podGvk = { apiVersion: "v1", kind: "Pod" };
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "kernel-1", namespace: ns, labels: { component: "kernel" } }, spec: { containers: [{ name: "kernel", image: "img" }] } };
    await as("/pods:create", () => sa.create(pod as KubeObject));
    await as(`${G}/jupyterkernels/status:patch`, () => sa.apply({ apiVersion: API, kind: "JupyterKernel", metadata: { name: "kernel-1", namespace: ns }, status: { phase: "Pending" } } as KubeObject, { fieldManager: "rbac-test", force: true, subresource: "status" }));
    // ... records Events on kernels (queued for GPUs, admitted, refused) ...
    const kernelObj = await getJson(["get", "jupyterkernel", "kernel-1", "-n", ns]);
    await as("/events:create", () => sa.create(eventAbout(kernelObj, "Normal", "Queued", "waiting for GPUs, 1st of 1")));
    // ... serializes GPU admissions under shared limits through the namespace's record (a Lease) ...
    const record = await as("coordination.k8s.io/leases:get", () => readRecord(sa, ns));
    expect(await as("coordination.k8s.io/leases:create", () => writeRecord(sa, record, [{ name: "kernel-1", uid: "u", user: "alice", usage: { "nvidia.com/gpu": 1 }, at: Date.now() }], "rbac-test"))).to.equal(true);
    const written = await readRecord(sa, ns);
    expect(written.admissions.map((a) => a.name)).to.deep.equal(["kernel-1"]);
    expect(await as("coordination.k8s.io/leases:update", () => writeRecord(sa, written, [], "rbac-test"))).to.equal(true);
    await forbidden("read another Lease", () => sa.get({ apiVersion: "coordination.k8s.io/v1", kind: "Lease" }, ns, "some-leader-lease"));
    // ... deletes a lost or superseded pod (with a UID precondition) ...
    const created = await kubectlOk(["get", "pod", "kernel-1", "-n", ns, "-o", "jsonpath={.metadata.uid}"]);
    expect(await as("/pods:delete", () => sa.delete(podGvk, ns, "kernel-1", { uid: created }))).to.equal(true);
    // The culler writes its own gateway's Culling condition (its own field manager) ...
    await as(`${G}/jupytergateways/status:patch`, () => sa.apply({ apiVersion: API, kind: "JupyterGateway", metadata: { name: gw, namespace: ns }, status: { conditions: [{ type: "Culling", status: "True", reason: "GatewayAnswered", message: "", lastTransitionTime: "2026-12-03T00:00:00Z" }] } } as KubeObject, { fieldManager: "elastic-jupyter-sidecar", force: true, subresource: "status" }));
    // ... and the process proxy deletes the kernel on shutdown.
    expect(await as(`${G}/jupyterkernels:delete`, () => sa.delete(kernelGvk, ns, "kernel-1", { propagationPolicy: "Background" }))).to.equal(true);
  });

  it("grants nothing beyond what the gateway and sidecar were seen doing", async () => {
    const role = await getJson(["get", "role", gw, "-n", ns]);
    expect(grantedPermissions(role.rules)).to.deep.equal([...exercised].sort());
  });

  it("refuses what neither needs: secrets, writes to configmaps and specs, other kinds, other namespaces", async () => {
    await forbidden("list secrets", () => sa.list({ apiVersion: "v1", kind: "Secret" }, { namespace: ns }));
    await forbidden("read a configmap that is not a kernelspec's, by name", () => sa.get({ apiVersion: "v1", kind: "ConfigMap" }, ns, "kube-root-ca.crt"));
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterKernel", metadata: { name: "kernel-2" }, spec: { kernelId: "6f0c1a52-4f7e-4a43-9a39-0d6b1c3a9e21", kernelSpec: { name: "py" } } }));
    const k2 = await getJson(["get", "jupyterkernel", "kernel-2", "-n", ns]);
    await forbidden("replace a kernel's status wholesale (PUT)", () => sa.replace({ ...k2, status: { phase: "Running" } } as KubeObject, { subresource: "status" }));
    await forbidden("update a kernel's spec", () => sa.replace({ ...k2, spec: { ...k2.spec, gpus: 8 } } as KubeObject));
    await forbidden("create an event in another namespace", () => sa.create({ apiVersion: "v1", kind: "Event", metadata: { name: "e", namespace: "default" }, involvedObject: { kind: "Pod", name: "x", namespace: "default" } } as KubeObject));
    await forbidden("create a configmap", () => sa.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: ns } }));
    await forbidden("list deployments", () => sa.list({ apiVersion: "apps/v1", kind: "Deployment" }, { namespace: ns }));
    await forbidden("list roles", () => sa.list({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" }, { namespace: ns }));
    await forbidden("update a gateway", async () => {
      const g = (await sa.get<KubeObject & { spec: Record<string, unknown> }>({ apiVersion: API, kind: "JupyterGateway" }, ns, gw))!;
      await sa.replace({ ...g, spec: { ...g.spec, cullIdleTimeout: 1 } });
    });
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterGateway", metadata: { name: "other-gw" }, spec: {} }));
    await forbidden("write another gateway's status", () => sa.apply({ apiVersion: API, kind: "JupyterGateway", metadata: { name: "other-gw", namespace: ns }, status: { conditions: [{ type: "Culling", status: "False", reason: "X", message: "", lastTransitionTime: "2026-12-03T00:00:00Z" }] } } as KubeObject, { fieldManager: "elastic-jupyter-sidecar", force: true, subresource: "status" }));
    await forbidden("list kernels in another namespace", () => sa.list(kernelGvk, { namespace: "default" }));
    await forbidden("create a namespace", () => sa.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: `${ns}-x` } }));
    // (kubectl's "pods/exec" shorthand is misread as a resource; --subresource asks the real question.)
    for (const sub of ["exec", "attach", "portforward"]) {
      const r = await kubectl(["auth", "can-i", "create", "pods", `--subresource=${sub}`, "-n", ns, `--as=system:serviceaccount:${ns}:${gw}`]);
      expect(r.stdout.trim(), `create pods/${sub}`).to.equal("no");
    }
  });
});

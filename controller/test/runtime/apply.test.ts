// Server-side apply against the real API server: idempotence, ownership under our field manager,
// conflicts without force, status through /status, and garbage collection via owner references.
import { expect } from "chai";
import { freshNamespace, getJson, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { applyObject, applyStatus, FIELD_MANAGER, ownedBy, setCondition } from "../../src/runtime/apply.ts";
import { KubeApiError, KubeClient, type KubeObject } from "../../src/runtime/client.ts";

interface ManagedField { manager: string; operation: string; subresource?: string; fieldsV1?: Record<string, unknown> }
interface Widget extends KubeObject { spec?: { size?: number }; status?: { phase?: string; conditions?: unknown[] } }

const widgetGvk = { apiVersion: "runtime-test.elastic-jupyter.io/v1", kind: "Widget" };
const widgetCrd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.runtime-test.elastic-jupyter.io}
spec:
  group: runtime-test.elastic-jupyter.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
          status:
            type: object
            properties:
              phase: {type: string}
              conditions:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [type]
                items:
                  type: object
                  required: [type, status]
                  properties:
                    type: {type: string}
                    status: {type: string}
                    reason: {type: string}
                    message: {type: string}
                    lastTransitionTime: {type: string, format: date-time}
                    observedGeneration: {type: integer}
`;

describe("server-side apply (real API server)", function () {
  this.timeout(60_000);
  let client: KubeClient;
  let ns: string;

  before(async () => {
    client = KubeClient.fromConfig(testCluster.kubeconfig);
    ns = await freshNamespace("rt-apply");
    await kubectlOk(["apply", "-f", "-"], widgetCrd);
    await kubectlOk(["wait", "--for=condition=Established", "crd/widgets.runtime-test.elastic-jupyter.io", "--timeout=30s"]);
  });
  after(async () => { await kubectlOk(["delete", "namespace", ns, "--wait=false"]); });

  it("creates, is idempotent, and records our field manager as the owner of what we applied", async () => {
    const desired = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "applied", namespace: ns, labels: { app: "x" } }, data: { a: "1" } };
    const first = await applyObject<KubeObject>(client, desired);
    const second = await applyObject<KubeObject>(client, desired);
    expect(second.metadata?.resourceVersion, "an unchanged apply is a no-op").to.equal(first.metadata?.resourceVersion);
    const live = await getJson<{ metadata: { managedFields: ManagedField[] } }>(["-n", ns, "get", "configmap", "applied", "--show-managed-fields"]);
    const ours = live.metadata.managedFields.find((f) => f.manager === FIELD_MANAGER);
    expect(ours?.operation).to.equal("Apply");
    expect(JSON.stringify(ours?.fieldsV1)).to.include("f:a").and.include("f:app");
  });

  it("takes over a field another manager set (force), and removes fields it no longer applies", async () => {
    await kubectlOk(["-n", ns, "create", "configmap", "contested", "--from-literal=a=theirs", "--from-literal=b=theirs"]);
    // Without force a conflict is an error that names the other manager.
    const conflict = await client.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "contested", namespace: ns }, data: { a: "ours" } }, { fieldManager: FIELD_MANAGER })
      .then(() => undefined, (e: unknown) => e);
    expect(conflict).to.be.instanceOf(KubeApiError);
    expect((conflict as KubeApiError).statusCode).to.equal(409);
    expect((conflict as KubeApiError).message).to.include("kubectl-create");

    await applyObject(client, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "contested", namespace: ns }, data: { a: "ours", c: "ours" } });
    let live = await getJson<{ data: Record<string, string>; metadata: { managedFields: ManagedField[] } }>(["-n", ns, "get", "configmap", "contested"]);
    expect(live.data).to.deep.equal({ a: "ours", b: "theirs", c: "ours" });
    // Dropping c from our intent removes it; b belongs to someone else and stays.
    await applyObject(client, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "contested", namespace: ns }, data: { a: "ours" } });
    live = await getJson(["-n", ns, "get", "configmap", "contested"]);
    expect(live.data).to.deep.equal({ a: "ours", b: "theirs" });
  });

  it("writes status only through /status, with conditions, without touching spec", async () => {
    const created = await applyObject<Widget>(client, { ...widgetGvk, metadata: { name: "w1", namespace: ns }, spec: { size: 1 }, status: { phase: "Ignored" } });
    // The main resource ignores status when the subresource is on.
    expect(created.status).to.equal(undefined);
    const conditions = setCondition([], { type: "Ready", status: "True", reason: "AllGood", message: "fine" }, created.metadata?.generation);
    const after = (await applyStatus<Widget, Widget["status"]>(client, created, { phase: "Running", conditions }))!;
    expect(after.status?.phase).to.equal("Running");
    expect(after.spec?.size).to.equal(1);
    expect(after.metadata?.generation, "status writes do not bump generation").to.equal(created.metadata?.generation);
    const live = await getJson<Widget & { metadata: { managedFields: ManagedField[] } }>(["-n", ns, "get", "widget", "w1", "--show-managed-fields"]);
    expect(live.status?.conditions).to.deep.equal(conditions);
    const statusEntry = live.metadata.managedFields.find((f) => f.manager === FIELD_MANAGER && f.subresource === "status");
    expect(statusEntry?.operation).to.equal("Apply");
    // Applying the same status again changes nothing.
    const again = (await applyStatus<Widget, Widget["status"]>(client, created, { phase: "Running", conditions }))!;
    expect(again.metadata?.resourceVersion).to.equal(after.metadata?.resourceVersion);
  });

  it("a status write for an object deleted meanwhile is no failure: undefined, not a 404", async () => {
    const gone = await applyObject<Widget>(client, { ...widgetGvk, metadata: { name: "w-gone", namespace: ns }, spec: { size: 1 } });
    await client.delete(widgetGvk, ns, "w-gone");
    expect(await applyStatus<Widget, Widget["status"]>(client, gone, { phase: "Running" })).to.equal(undefined);
  });

  it("owner references let garbage collection delete children with their owner", async function () {
    this.timeout(120_000);
    const owner = await applyObject<Widget>(client, { ...widgetGvk, metadata: { name: "parent", namespace: ns }, spec: { size: 2 } });
    await applyObject(client, ownedBy({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "child-of-parent", namespace: ns }, data: {} }, owner));
    const child = await getJson<KubeObject>(["-n", ns, "get", "configmap", "child-of-parent"]);
    expect(child.metadata?.ownerReferences?.[0]).to.include({ uid: owner.metadata?.uid, controller: true, blockOwnerDeletion: true });
    await client.delete(widgetGvk, ns, "parent", { propagationPolicy: "Background" });
    // The garbage collector learns new kinds (Widget's CRD was just created) on its 30 s discovery
    // resync, so collecting a child of a brand-new kind can take up to ~30 s plus a resync.
    await waitFor("the child to be garbage-collected", async () => (await client.get({ apiVersion: "v1", kind: "ConfigMap" }, ns, "child-of-parent")) === undefined, 90_000);
  });
});

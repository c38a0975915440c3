// The REST client against the real API server: discovery, errors that name the object, paged
// lists, and recovery from a dead connection.
import { expect } from "chai";
import { freshNamespace, kubectlOk, testCluster } from "../../../ci/test/cluster.ts";
import { KubeApiError, KubeClient } from "../../src/runtime/client.ts";
import { clientVia, freezableProxy } from "./proxy.testutil.ts";

const configMaps = { apiVersion: "v1", kind: "ConfigMap" };

describe("KubeClient (real API server)", function () {
  this.timeout(60_000);
  let client: KubeClient;
  let ns: string;

  before(async () => {
    client = KubeClient.fromConfig(testCluster.kubeconfig);
    ns = await freshNamespace("rt-client");
  });
  after(async () => { await kubectlOk(["delete", "namespace", ns, "--wait=false"]); });

  it("resolves kinds through discovery and rejects unknown ones by name", async () => {
    expect(await client.collectionPath(configMaps, ns)).to.equal(`/api/v1/namespaces/${ns}/configmaps`);
    expect(await client.collectionPath({ apiVersion: "coordination.k8s.io/v1", kind: "Lease" }, ns)).to.equal(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`);
    expect(await client.collectionPath({ apiVersion: "v1", kind: "Node" }, ns), "cluster-scoped kinds ignore the namespace").to.equal("/api/v1/nodes");
    const err = await client.collectionPath({ apiVersion: "v1", kind: "Gadget" }).catch((e: unknown) => e);
    expect(String(err)).to.include("does not serve kind Gadget in v1");
  });

  it("returns undefined for a missing object and a KubeApiError with status and message otherwise", async () => {
    expect(await client.get(configMaps, ns, "nope")).to.equal(undefined);
    const err = await client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Bad_Name", namespace: ns } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(KubeApiError);
    expect((err as KubeApiError).statusCode).to.equal(422);
    expect((err as KubeApiError).message).to.include("Bad_Name");
    expect(await client.delete(configMaps, ns, "nope")).to.equal(false);
  });

  it("lists page by page and returns the whole list with kinds filled in", async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => client.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `page-${i}`, namespace: ns, labels: { paged: "yes" } } })));
    const { items, resourceVersion } = await client.list(configMaps, { namespace: ns, labelSelector: "paged=yes", limit: 5 });
    expect(items.map((o) => o.metadata?.name).sort()).to.have.length(12);
    expect(items.every((o) => o.kind === "ConfigMap" && o.apiVersion === "v1")).to.equal(true);
    expect(resourceVersion).to.match(/^\d+$/);
  });

  it("a request on a dead connection times out naming the request, and the next one uses a new connection", async () => {
    const proxy = await freezableProxy(testCluster.kubeconfig);
    const viaProxy = clientVia(testCluster.kubeconfig, proxy.port);
    viaProxy.requestTimeoutMs = 1000;
    try {
      expect(await viaProxy.get(configMaps, ns, "page-0")).to.not.equal(undefined);
      proxy.freeze();
      const err = await viaProxy.get(configMaps, ns, "page-0").catch((e: unknown) => e);
      expect(String(err)).to.include(`GET /api/v1/namespaces/${ns}/configmaps/page-0: no answer in time`);
      expect(await viaProxy.get(configMaps, ns, "page-0")).to.not.equal(undefined);
    } finally {
      await proxy.close();
    }
  });
});

// Informer and cache against the real API server: events, cache reads, recovery from a restarted
// API server, and the re-list diff that catches changes made while nobody watched.
import { expect } from "chai";
import { freshNamespace, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { Cache } from "../../src/runtime/cache.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client.ts";
import { Informer, type InformerEvent } from "../../src/runtime/informer.ts";
import { clientVia, freezableProxy } from "./proxy.testutil.ts";

const configMaps = { apiVersion: "v1", kind: "ConfigMap" };
interface ConfigMap extends KubeObject { data?: Record<string, string> }

function cm(ns: string, name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels }, data };
}

/** Records informer events as "type name" strings. */
function recorder(inf: Informer<ConfigMap>): string[] {
  const seen: string[] = [];
  inf.on((e: InformerEvent<ConfigMap>) => seen.push(`${e.type} ${e.object.metadata?.name}`));
  return seen;
}

describe("informer (real API server)", function () {
  this.timeout(120_000);
  let client: KubeClient;
  let ns: string;

  before(async () => {
    client = KubeClient.fromConfig(testCluster.kubeconfig);
    ns = await freshNamespace("rt-informer");
  });
  after(async () => { await kubectlOk(["delete", "namespace", ns, "--wait=false"]); });

  it("lists existing objects, then sees creates, updates and deletes", async () => {
    await client.create(cm(ns, "pre-existing", { a: "1" }));
    const inf = new Informer<ConfigMap>(client, { gvk: configMaps, namespace: ns });
    const seen = recorder(inf);
    inf.start();
    try {
      await inf.waitForSync(10_000);
      expect(inf.hasSynced).to.equal(true);
      expect(seen).to.include("add pre-existing");
      await client.create(cm(ns, "new-one", { a: "1" }));
      await waitFor("add new-one", async () => seen.includes("add new-one"), 10_000, 20);
      await kubectlOk(["-n", ns, "patch", "configmap", "new-one", "--type=merge", "-p", '{"data":{"a":"2"}}']);
      await waitFor("update new-one", async () => seen.includes("update new-one"), 10_000, 20);
      expect(inf.store.get(`${ns}/new-one`)?.data?.a).to.equal("2");
      await client.delete(configMaps, ns, "new-one");
      await waitFor("delete new-one", async () => seen.includes("delete new-one"), 10_000, 20);
      expect(inf.store.get(`${ns}/new-one`)).to.equal(undefined);
    } finally {
      await inf.stop();
    }
  });

  it("serves cache reads by key, namespace, labels and owner UID", async () => {
    const owner = await client.create(cm(ns, "owner"));
    const uid = owner.metadata!.uid!;
    const child = cm(ns, "child", {}, { role: "child" });
    child.metadata!.ownerReferences = [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid, controller: true, blockOwnerDeletion: true }];
    await client.create(child);
    await client.create(cm(ns, "stranger", {}, { role: "other" }));
    const cache = new Cache(client, { namespace: ns });
    cache.informerFor(configMaps);
    expect(cache.hasSynced()).to.equal(false);
    cache.start();
    try {
      await cache.waitForSync(10_000);
      expect(cache.hasSynced()).to.equal(true);
      expect(cache.get<ConfigMap>(configMaps, ns, "owner")?.metadata?.uid).to.equal(uid);
      expect(cache.get(configMaps, ns, "missing")).to.equal(undefined);
      expect(cache.list(configMaps, { labels: { role: "child" } }).map((o) => o.metadata?.name)).to.deep.equal(["child"]);
      expect(cache.ownedBy(configMaps, uid).map((o) => o.metadata?.name)).to.deep.equal(["child"]);
      expect(() => cache.list({ apiVersion: "v1", kind: "Secret" })).to.throw(/does not watch Secret/);
      // Deleting the child drops it from the owner index too.
      await client.delete(configMaps, ns, "child");
      await waitFor("child gone from the owner index", async () => cache.ownedBy(configMaps, uid).length === 0, 10_000, 20);
    } finally {
      await cache.stop();
    }
  });

  it("a re-list turns changes made while not watching into add/update/delete events", async () => {
    const sub = await freshNamespace("rt-relist");
    try {
      await client.create(cm(sub, "keep", { v: "1" }));
      await client.create(cm(sub, "change", { v: "1" }));
      await client.create(cm(sub, "remove", { v: "1" }));
      const inf = new Informer<ConfigMap>(client, { gvk: configMaps, namespace: sub });
      const seen = recorder(inf);
      inf.start();
      await inf.waitForSync(10_000);
      await inf.stop();
      seen.length = 0;
      // Nobody watches now.
      await kubectlOk(["-n", sub, "patch", "configmap", "change", "--type=merge", "-p", '{"data":{"v":"2"}}']);
      await client.delete(configMaps, sub, "remove");
      await client.create(cm(sub, "added"));
      inf.requestRelist();
      inf.start();
      await waitFor("the re-list events", async () => seen.length >= 3, 10_000, 20);
      await inf.stop();
      expect(seen.sort()).to.deep.equal(["add added", "delete remove", "update change"]);
      expect(inf.store.get(`${sub}/change`)?.data?.v).to.equal("2");
    } finally {
      await kubectlOk(["delete", "namespace", sub, "--wait=false"]);
    }
  });

  it("aborts a watch that outlives its timeout (stall watchdog) and carries on without losing events", async () => {
    // A 1 s server timeout with no grace makes the watchdog race the server's own close; either way
    // the informer must keep delivering events.
    const inf = new Informer<ConfigMap>(client, { gvk: configMaps, namespace: ns, watchTimeoutSeconds: 1, stallGraceMs: 1, idleTimeoutMs: 300, backoffBaseMs: 50 });
    const seen = recorder(inf);
    inf.start();
    try {
      await inf.waitForSync(10_000);
      await new Promise((r) => setTimeout(r, 2500));
      expect(inf.restarts.stall).to.be.greaterThan(0);
      await client.create(cm(ns, "after-stalls"));
      await waitFor("add after-stalls", async () => seen.includes("add after-stalls"), 10_000, 20);
    } finally {
      await inf.stop();
    }
  });

  it("recovers from a silently dead connection (no events, no error, no close) through the idle watchdog", async () => {
    const proxy = await freezableProxy(testCluster.kubeconfig);
    const viaProxy = clientVia(testCluster.kubeconfig, proxy.port);
    const inf = new Informer<ConfigMap>(viaProxy, { gvk: configMaps, namespace: ns, idleTimeoutMs: 1500, backoffBaseMs: 100 });
    const seen = recorder(inf);
    inf.start();
    try {
      await inf.waitForSync(10_000);
      proxy.freeze();
      await client.create(cm(ns, "behind-a-dead-connection"));
      await waitFor("the object created behind the dead connection", async () => seen.includes("add behind-a-dead-connection"), 15_000, 50);
      expect(inf.restarts.stall).to.be.greaterThan(0);
    } finally {
      await inf.stop();
      await proxy.close();
    }
  });

  it("recovers a watch broken by an API server restart without missing an event", async () => {
    const sub = await freshNamespace("rt-restart");
    const restarts: string[] = [];
    try {
      await client.create(cm(sub, "will-change", { v: "1" }));
      await client.create(cm(sub, "will-go", { v: "1" }));
      const cache = new Cache(client, {
        namespace: sub,
        informer: { backoffBaseMs: 200, backoffMaxMs: 2000 },
        onRestart: (_gvk, reason) => restarts.push(reason),
      });
      const inf = cache.informerFor<ConfigMap>(configMaps);
      const seen = recorder(inf);
      cache.start();
      await cache.waitForSync(10_000);

      await testCluster.restartApiServer();
      // Right after the API server is back, while the informer may still be in its backoff: these
      // changes must all reach it, through the resumed watch or a re-list.
      const names = Array.from({ length: 20 }, (_, i) => `after-restart-${i}`);
      await Promise.all(names.map((n) => client.create(cm(sub, n))));
      await kubectlOk(["-n", sub, "patch", "configmap", "will-change", "--type=merge", "-p", '{"data":{"v":"2"}}']);
      await client.delete(configMaps, sub, "will-go");

      await waitFor("every change after the restart", async () =>
        names.every((n) => seen.includes(`add ${n}`)) && seen.includes("update will-change") && seen.includes("delete will-go"), 30_000, 50);
      expect(inf.store.get(`${sub}/will-change`)?.data?.v).to.equal("2");
      // 20 new + will-change (+ kube-root-ca.crt, which the controller-manager adds to every namespace).
      expect(inf.store.list().filter((o) => o.metadata?.name !== "kube-root-ca.crt")).to.have.length(21);
      expect(restarts.length, "watch restarts counted").to.be.greaterThan(0);
      // Nothing is reported twice as an add.
      expect(seen.filter((s) => s.startsWith("add after-restart-")).length).to.equal(20);
      await cache.stop();
    } finally {
      await kubectlOk(["delete", "namespace", sub, "--wait=false"]);
    }
  });
});

import { expect } from "chai";
import { runInNewContext } from "node:vm";
import { setFlagsFromString, getHeapStatistics } from "node:v8";
import { internStrings, StringPool } from "../../src/runtime/intern.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// A kernel pod as the API server sends it, one per index (JSON.parse, as the informer does).
const podJson = (i: number): string => JSON.stringify({
  apiVersion: "v1", kind: "Pod",
  metadata: {
    name: `kernel-${i}`, uid: `0b6b7e3c-5d1c-4a9a-9a51-${String(i).padStart(12, "0")}`, resourceVersion: String(1000 + i),
    creationTimestamp: "2026-12-04T16:44:04Z", labels: { "app.kubernetes.io/component": "enterprise-gateway", kernel_id: `k-${i}-0000000000` },
    ownerReferences: [{ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", name: `kernel-${i}`, uid: "x".repeat(36), controller: true }],
  },
  spec: { containers: [{ name: "kernel", image: "ghcr.io/elastic-jupyter/kernel-python:0.1.0" }] },
  status: { phase: "Running", podIP: `10.0.${i >> 8}.${i & 255}`, conditions: [{ type: "Ready", status: "True", message: "the kernel pod is running and ready" }], note: "n".repeat(300) },
});

describe("internStrings", () => {
  it("changes no value: the interned object is deep-equal to the parsed one", () => {
    const pool = new StringPool();
    for (let i = 0; i < 3; i++) expect(internStrings(JSON.parse(podJson(i)), pool)).to.deep.equal(JSON.parse(podJson(i)));
  });

  it("pools shared values of 11 to 256 characters, not per-object fields (uid, name, resourceVersion, podIP) or short ones", () => {
    const pool = new StringPool();
    for (let i = 0; i < 100; i++) internStrings(JSON.parse(podJson(i)), pool);
    // apiVersion, kind JupyterKernel, creation second, component label, image, condition message,
    // and each pod's kernel_id label (a label value: not known to be unique).
    expect(pool.size).to.equal(6 + 100);
  });

  it("keeps one copy of a value shared by many objects", () => {
    const keep: unknown[] = [];
    const heapWith = (intern: boolean): number => {
      keep.length = 0; gc();
      const before = getHeapStatistics().used_heap_size, pool = new StringPool();
      for (let i = 0; i < 5000; i++) { const o = JSON.parse(podJson(i)); keep.push(intern ? internStrings(o, pool) : o); }
      gc();
      return getHeapStatistics().used_heap_size - before;
    };
    heapWith(false); heapWith(true); // compiled and warmed up first
    const plain = heapWith(false), interned = heapWith(true);
    // 5 shared strings of 13 to 43 characters per object: ~1 MB of copies.
    expect(plain - interned, `heap ${plain} bytes parsed, ${interned} interned`).to.be.greaterThan(700_000);
  });

  it("stays bounded: a string seen once per generation stays pooled, unique ones fall out after two", () => {
    const pool = new StringPool(100);
    const shared = "shared-value-" + "x".repeat(10);
    for (let i = 0; i < 1000; i++) {
      pool.intern(`unique-value-${i}-${"y".repeat(10)}`);
      if (i % 50 === 0) pool.intern(shared);
      expect(pool.size).to.be.at.most(200);
    }
    // Seen every 50 strings, so in every generation of 100: never dropped.
    expect(pool.has(shared)).to.equal(true);
    expect(pool.has(`unique-value-0-${"y".repeat(10)}`)).to.equal(false);
  });
});

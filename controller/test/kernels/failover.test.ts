// Two sidecar replicas with leader election, and an API server restart: the guarantees that
// matter when things break. Only the leader writes; a killed leader is replaced within the lease
// time; 200 kernels created during the failover all converge with no duplicate pod; a watch broken
// by an API server restart misses nothing.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshNamespace, getJson, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";

const LEASE_SECONDS = 6;

function uuidFor(i: number, salt: string): string {
  const h = (i.toString(16) + salt).padStart(12, "0").slice(-12);
  return `00000000-0000-4000-a000-${h}`;
}

function kernelsYaml(from: number, count: number, salt: string): string {
  const items = [];
  for (let i = from; i < from + count; i++) {
    const id = uuidFor(i, salt);
    items.push({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: `kernel-${id}` },
      spec: { kernelId: id, kernelSpec: { name: "python" } },
    });
  }
  return JSON.stringify({ apiVersion: "v1", kind: "List", items });
}

async function kernelSummary(ns: string): Promise<{ running: number; total: number; pods: number; owners: Map<string, number> }> {
  const kernels = await getJson<{ items: any[] }>(["-n", ns, "get", "jupyterkernels"]);
  const pods = await getJson<{ items: any[] }>(["-n", ns, "get", "pods", "-l", "component=kernel"]);
  const owners = new Map<string, number>();
  for (const p of pods.items) {
    const uid = p.metadata.ownerReferences?.[0]?.uid as string;
    owners.set(uid, (owners.get(uid) ?? 0) + 1);
  }
  return { running: kernels.items.filter((k) => k.status?.phase === "Running").length, total: kernels.items.length, pods: pods.items.length, owners };
}

function sidecar(ns: string, identity: string): ControllerProcess {
  return startController([
    "--role", "sidecar", "--namespace", ns, "--kubeconfig", testCluster.kubeconfig, "--metrics-addr", "127.0.0.1:0",
    "--kernels-dir", mkdtempSync(join(tmpdir(), "ej-kernels-")), "--leader-elect", "--lease-name", "sidecar-test",
    "--identity", identity, "--lease-duration", String(LEASE_SECONDS), "--renew-deadline", "4", "--retry-period", "1",
  ]);
}

async function holder(ns: string): Promise<string | undefined> {
  const lease = await getJson(["-n", ns, "get", "lease", "sidecar-test"]).catch(() => undefined);
  return lease?.spec?.holderIdentity || undefined;
}

describe("sidecar: leader election, failover under load, API server restart", function () {
  this.timeout(240_000);
  let ns: string;
  let a: ControllerProcess, b: ControllerProcess;

  before(async () => {
    await installCrds();
    ns = await freshNamespace("failover");
    await kubectlOk(["-n", ns, "apply", "-f", "-"], JSON.stringify({
      apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "python" },
      spec: { language: "Python", displayName: "Python", image: "registry.example/py:1" },
    }));
    a = sidecar(ns, "replica-a");
    await waitFor("replica-a leads", async () => (await holder(ns)) === "replica-a", 30_000);
    b = sidecar(ns, "replica-b");
  });

  after(async () => { await a?.stop("SIGKILL"); await b?.stop(); });

  it("only the leader writes", async () => {
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelsYaml(0, 5, "a"));
    await waitFor("5 running", async () => (await kernelSummary(ns)).running === 5, 60_000);
    const wrote = (p: ControllerProcess) => p.lines.some((l) => l.msg === "created kernel pod");
    expect(wrote(a), "leader created pods").to.equal(true);
    expect(wrote(b), "follower created nothing").to.equal(false);
  });

  it("a killed leader is replaced within the lease time, and 200 kernels made during the failover converge with no duplicate pod", async () => {
    const killedAt = Date.now();
    await a.stop("SIGKILL"); // no graceful release: the follower must wait the lease out
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelsYaml(1000, 200, "b"));
    await waitFor("replica-b leads", async () => (await holder(ns)) === "replica-b", (LEASE_SECONDS + 10) * 1000, 200);
    const takeover = Date.now() - killedAt;
    console.log(`      takeover after the leader was killed: ${takeover} ms (lease ${LEASE_SECONDS} s)`);
    expect(takeover, "takeover time (ms)").to.be.below((LEASE_SECONDS + 4) * 1000);
    const s = await waitFor("205 running", async () => {
      const sum = await kernelSummary(ns);
      return sum.running === 205 ? sum : undefined;
    }, 180_000, 1000);
    expect(s.total).to.equal(205);
    expect(s.pods, "one pod per kernel").to.equal(205);
    expect([...s.owners.values()].every((n) => n === 1), "no kernel owns two pods").to.equal(true);
  });

  it("recovers watches broken by an API server restart without missing an event", async () => {
    await testCluster.restartApiServer();
    await kubectlOk(["-n", ns, "apply", "-f", "-"], kernelsYaml(5000, 20, "c"));
    await waitFor("225 running", async () => (await kernelSummary(ns)).running === 225, 120_000, 1000);
    expect(b.child.exitCode, "the controller survived the restart").to.equal(null);
  });
});

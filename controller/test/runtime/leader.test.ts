// Leader election against the real API server, several electors in one process.
import { expect } from "chai";
import { freshNamespace, getJson, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { KubeClient } from "../../src/runtime/client.ts";
import { LeaderElector, type Lease } from "../../src/runtime/leader.ts";

const fast = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("leader election (real API server)", function () {
  this.timeout(90_000);
  let client: KubeClient;
  let ns: string;
  const electors: LeaderElector[] = [];

  function elector(name: string, identity: string, timings = fast, events: string[] = []): LeaderElector {
    const e = new LeaderElector({
      client, name, namespace: ns, identity, ...timings,
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: () => events.push(`${identity} stopped`),
    });
    electors.push(e);
    return e;
  }

  before(async () => {
    client = KubeClient.fromConfig(testCluster.kubeconfig);
    ns = await freshNamespace("rt-leader");
  });
  afterEach(async () => { await Promise.all(electors.splice(0).map((e) => e.stop({ release: false }))); });
  after(async () => { await kubectlOk(["delete", "namespace", ns, "--wait=false"]); });

  it("exactly one of three candidates leads, and the Lease names it", async () => {
    const all = ["a", "b", "c"].map((id) => elector("one-of-three", id));
    all.forEach((e) => e.start());
    await waitFor("a leader", async () => all.some((e) => e.isLeader), 10_000, 50);
    // Watch for a while (several renew periods): never two leaders, never none.
    for (let i = 0; i < 40; i++) {
      expect(all.filter((e) => e.isLeader)).to.have.length(1);
      await sleep(50);
    }
    const leader = all.find((e) => e.isLeader)!;
    const lease = await getJson<Lease>(["-n", ns, "get", "lease", "one-of-three"]);
    expect(lease.spec?.holderIdentity).to.equal(leader.identity);
    expect(lease.spec?.leaseDurationSeconds).to.equal(3);
    expect(lease.spec?.renewTime).to.match(/\.\d{6}Z$/);
  });

  it("when the leader dies without releasing, a standby takes over within the lease duration", async () => {
    const events: string[] = [];
    const a = elector("crash", "a", fast, events);
    a.start();
    await waitFor("a to lead", async () => a.isLeader, 10_000, 50);
    const b = elector("crash", "b", fast, events);
    b.start();
    await sleep(1000);
    expect(b.isLeader).to.equal(false);
    const t0 = Date.now();
    await a.stop({ release: false }); // a crash: the lease stays, naming a
    await waitFor("b to lead", async () => b.isLeader, 10_000, 20);
    const took = Date.now() - t0;
    // b must wait for the lease to expire (3 s after a's last renewal), but no longer than that
    // plus one retry period (and a little scheduling slack).
    expect(took).to.be.within(fast.leaseDurationMs - fast.retryPeriodMs - 400, fast.leaseDurationMs + fast.retryPeriodMs * 1.2 + 700);
    expect(events).to.deep.equal(["a started", "a stopped", "b started"]);
    const lease = await getJson<Lease>(["-n", ns, "get", "lease", "crash"]);
    expect(lease.spec?.holderIdentity).to.equal("b");
    expect(lease.spec?.leaseTransitions).to.equal(1);
  });

  it("a graceful stop releases the lease: with default timings (15 s lease) the standby takes over in about a retry period", async () => {
    const defaults = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
    const a = elector("release", "a", defaults);
    a.start();
    await waitFor("a to lead", async () => a.isLeader, 10_000, 50);
    const b = elector("release", "b", defaults);
    b.start();
    await sleep(2500);
    const t0 = Date.now();
    await a.stop(); // releases
    expect(a.isLeader).to.equal(false);
    const released = await getJson<Lease>(["-n", ns, "get", "lease", "release"]);
    expect(released.spec?.holderIdentity ?? "").to.equal("");
    expect(released.spec?.leaseDurationSeconds).to.equal(1);
    await waitFor("b to lead", async () => b.isLeader, 10_000, 20);
    const took = Date.now() - t0;
    expect(took).to.be.below(defaults.retryPeriodMs * 1.2 + 800);
  });

  it("a leader that cannot renew stops leading within the renew deadline", async () => {
    const events: string[] = [];
    const a = elector("stolen", "a", fast, events);
    a.start();
    await waitFor("a to lead", async () => a.isLeader, 10_000, 50);
    // Someone else overwrites the lease (as a partitioned leader would see it): a's renewals fail.
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
    const t0 = Date.now();
    await kubectlOk(["-n", ns, "patch", "lease", "stolen", "--type=merge", "-p", JSON.stringify({ spec: { holderIdentity: "intruder", renewTime: now, leaseDurationSeconds: 60 } })]);
    await waitFor("a to stop leading", async () => !a.isLeader, 10_000, 20);
    expect(Date.now() - t0).to.be.below(fast.renewDeadlineMs + fast.retryPeriodMs + 700);
    expect(events).to.deep.equal(["a started", "a stopped"]);
    // It keeps campaigning but does not take a lease someone holds validly.
    await sleep(1000);
    expect(a.isLeader).to.equal(false);
  });
});

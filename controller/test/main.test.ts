// The controller as real processes: two replicas of the compiled `main.js`, leader election through a Lease,
// SIGTERM hand-over (lease released) and crash hand-over (lease expires).
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { expect } from "chai";
import { freshNamespace, getJson, kubectlOk, repoRoot, testCluster, waitFor } from "../../ci/test/cluster.ts";
import { builtControllerMain } from "./testing/controller-main.ts";
import { installCrds } from "./testing/crds.ts";

interface Replica { id: string; proc: ChildProcess; out: string[]; exit: Promise<number | null> }

const node = join(repoRoot, "node_modules/.bin/node");

function replica(id: string, ns: string, lease: string, timings: string[]): Replica {
  const proc = spawn(node, [builtControllerMain(),
    "--role=sidecar", "--leader-elect", `--namespace=${ns}`, `--lease-name=${lease}`, `--identity=${id}`,
    `--kubeconfig=${testCluster.kubeconfig}`, "--metrics-addr=127.0.0.1:0", "--log-level=debug", ...timings,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  proc.stdout!.on("data", (d: Buffer) => out.push(...d.toString().split("\n").filter(Boolean)));
  proc.stderr!.on("data", (d: Buffer) => out.push(d.toString()));
  const exit = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  return { id, proc, out, exit };
}

describe("controller processes (real API server)", function () {
  this.timeout(90_000);
  let ns: string;
  const replicas: Replica[] = [];

  before(async () => {
    // The sidecar role caches JupyterKernels: its caches sync (and it campaigns) only with the CRDs.
    await installCrds();
    ns = await freshNamespace("rt-main");
  });
  afterEach(async () => {
    for (const r of replicas.splice(0)) if (r.proc.exitCode === null) { r.proc.kill("SIGKILL"); await r.exit; }
  });
  after(async () => { await kubectlOk(["delete", "namespace", ns, "--wait=false"]); });

  const holder = async (lease: string): Promise<string> =>
    (await getJson<{ spec: { holderIdentity?: string } }>(["-n", ns, "get", "lease", lease])).spec.holderIdentity ?? "";

  it("writes JSON log lines and exits 2 with a message naming the flag on bad config", async () => {
    const r = spawn(node, [builtControllerMain(), "--role=nope"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    r.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise((res) => r.on("exit", res));
    expect(code).to.equal(2);
    expect(err).to.include("--role (env EJ_ROLE) must be one of operator, sidecar");
  });

  it("SIGTERM on the leader releases the lease and the standby leads within about a retry period", async () => {
    const timings = ["--lease-duration=15", "--renew-deadline=10", "--retry-period=2"]; // the defaults
    const a = replica("proc-a", ns, "graceful", timings);
    replicas.push(a);
    await waitFor("proc-a to lead", async () => (await holder("graceful")) === "proc-a", 20_000, 100);
    const b = replica("proc-b", ns, "graceful", timings);
    replicas.push(b);
    await waitFor("proc-b to be running", async () => b.out.some((l) => l.includes('"msg":"running"')), 20_000, 100);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await holder("graceful")).to.equal("proc-a");

    const t0 = Date.now();
    a.proc.kill("SIGTERM");
    expect(await a.exit).to.equal(0);
    await waitFor("proc-b to lead", async () => (await holder("graceful")) === "proc-b", 10_000, 50);
    expect(Date.now() - t0).to.be.below(2000 * 1.2 + 1500);
    const logs = a.out.map((l) => { try { return JSON.parse(l) as { msg: string; level: string; ts: string }; } catch { return undefined; } });
    expect(logs.every((l) => l && l.ts && l.level && l.msg), "every stdout line is a JSON log record").to.equal(true);
    expect(logs.map((l) => l?.msg)).to.include.members(["became leader", "signal received, shutting down", "released the lease", "stopped"]);
  });

  it("a crashed leader (SIGKILL) is replaced within the lease duration", async () => {
    const timings = ["--lease-duration=4", "--renew-deadline=3", "--retry-period=0.5"];
    const a = replica("crash-a", ns, "crash", timings);
    replicas.push(a);
    await waitFor("crash-a to lead", async () => (await holder("crash")) === "crash-a", 20_000, 100);
    const b = replica("crash-b", ns, "crash", timings);
    replicas.push(b);
    await waitFor("crash-b to be running", async () => b.out.some((l) => l.includes('"msg":"running"')), 20_000, 100);
    const t0 = Date.now();
    a.proc.kill("SIGKILL");
    await a.exit;
    expect(await holder("crash")).to.equal("crash-a"); // not released
    await waitFor("crash-b to lead", async () => (await holder("crash")) === "crash-b", 15_000, 50);
    expect(Date.now() - t0).to.be.below(4000 + 500 * 1.2 + 1500);
  });
});

// The sidecar's culling against the real Enterprise Gateway (the shared e2e environment): a GPU kernel
// whose gateway restarted (EG keeps its kernels in memory, so the new one does not know it) is ended
// with reason Orphaned and its pod and GPU released; a busy kernel is never culled, although its
// kernelspec's cullIdleTimeout passes while it runs. (After e2e.test.ts by file order: it restarts
// the gateway process.)
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { JupyterServer, type KernelChannels } from "../../e2e/jupyter-client.ts";
import { NAMES, until, type E2EEnvironment } from "../../e2e/setup.ts";
import { E2E_CULL_INTERVAL, E2E_GPU_CULL_IDLE_TIMEOUT, e2eEnvironment } from "./environment.ts";

/** The environment's gateway launchTimeout: the orphan grace period is never shorter than it + 30 s. */
const LAUNCH_TIMEOUT = 60;
const GRACE = LAUNCH_TIMEOUT + 30;

/** The Enterprise Gateway process of this environment's gateway pod (the process kubelet runs it
 *  on this host): the one whose command is EG's and whose environment names our namespace. */
function gatewayPid(namespace: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!cmd.includes("enterprisegateway")) continue;
      if (readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(`EG_NAMESPACE=${namespace}`)) return Number(entry);
    } catch { /* gone meanwhile */ }
  }
  return undefined;
}

describe("end to end: culling against the real Enterprise Gateway", function () {
  this.timeout(240_000);
  let env: E2EEnvironment;
  let gw: JupyterServer;
  const list = async (kind: string, kernelId: string): Promise<any[]> =>
    (JSON.parse(await env.kubectl(["get", kind, "-n", env.namespace, "-l", `kernel_id=${kernelId}`, "-o", "json"])).items as any[]);
  const gatewayObject = async (): Promise<any> => JSON.parse(await env.kubectl(["get", "jupytergateway", NAMES.gateway, "-n", env.namespace, "-o", "json"]));

  before(async function () {
    this.timeout(240_000);
    env = await e2eEnvironment();
    gw = new JupyterServer(env.gatewayUrl, env.gatewayToken);
  });

  it(`a GPU kernel its restarted gateway does not know is ended after the grace period (${GRACE} s) with reason Orphaned, and its GPU goes to a kernel queued behind it`, async function () {
    this.timeout(300_000);
    const id = (await gw.startKernel(NAMES.gpuKernelspec)).id;
    // Connected, so the idle culler (GPU kernelspec: ${E2E_GPU_CULL_IDLE_TIMEOUT} s) leaves it to the orphan rule.
    const ch = await gw.connect(id);
    expect((await ch.execute("print('holding the GPU')")).text).to.equal("holding the GPU\n");
    const [jk] = await list("jupyterkernels", id);
    expect(jk.status).to.include({ phase: "Running", gpus: 1 });
    let queued: { name: string; launch: Promise<{ id: string }> } | undefined;
    // Shortest grace the gateway allows; a finalizer of the test's keeps the deleted object readable.
    await env.kubectl(["patch", "jupytergateway", NAMES.gateway, "-n", env.namespace, "--type=merge", "-p", JSON.stringify({ spec: { orphanGracePeriod: 1 } })]);
    await env.kubectl(["patch", "jupyterkernel", jk.metadata.name, "-n", env.namespace, "--type=merge", "-p", JSON.stringify({ metadata: { finalizers: ["test.elastic-jupyter.dev/hold"] } })]);
    try {
      const pid = gatewayPid(env.namespace);
      expect(pid, "the gateway's Enterprise Gateway process").to.be.a("number");
      const killedAt = Date.now();
      process.kill(pid!, "SIGKILL");
      ch.close();
      // The process kubelet restarts the container; the new gateway has no kernels.
      const restarted = await until("the gateway to answer again, without the kernel", async () => {
        if (gatewayPid(env.namespace) === pid) return undefined;
        const kernels = await gw.kernels().catch(() => undefined);
        return kernels && !kernels.some((k) => k.id === id) ? kernels : undefined;
      }, 60_000);
      expect(restarted.map((k) => k.id)).not.to.include(id);
      // Still there while within the grace period.
      expect((await list("jupyterkernels", id))[0].metadata.deletionTimestamp).to.equal(undefined);
      // One GPU for the namespace, queued launches (queueTimeout: the 60 s launch timeout less 5 s).
      // A user asks for a GPU kernel before the orphan ends: it waits in the queue, behind the orphan.
      await env.kubectl(["patch", "jupytergateway", NAMES.gateway, "-n", env.namespace, "--type=merge", "-p", JSON.stringify({ spec: { gpuPolicy: { maxPerNamespace: { "nvidia.com/gpu": 1 } } } })]);
      await new Promise((r) => setTimeout(r, Math.max(0, killedAt + (GRACE - 30) * 1000 - Date.now())));
      const queuedLaunch = gw.startKernel(NAMES.gpuKernelspec, { KERNEL_USERNAME: "bob" });
      queuedLaunch.catch(() => {}); // awaited below
      const waiting = await until("the new GPU kernel queued behind the orphan", async () => {
        const all = JSON.parse(await env.kubectl(["get", "jupyterkernels", "-n", env.namespace, "-o", "json"])).items as any[];
        return all.find((k) => k.spec.username === "bob" && k.status?.reason === "Queued");
      }, 20_000);
      expect(waiting.status.queuePosition).to.equal(1);
      expect(waiting.status.message).to.match(new RegExp(`^waiting for GPUs, 1st of 1 in namespace ${env.namespace}'s GPU queue: namespace ${env.namespace} holds 1 of the 1 nvidia.com/gpu`));
      queued = { name: waiting.metadata.name, launch: queuedLaunch };
      const ended = await until("the orphaned kernel to be ended", async () => {
        const [k] = await list("jupyterkernels", id);
        return k?.metadata.deletionTimestamp ? k : undefined;
      }, (GRACE + 4 * E2E_CULL_INTERVAL) * 1000 + 30_000);
      const afterS = (Date.parse(ended.metadata.deletionTimestamp) - killedAt) / 1000;
      console.log(`      orphan ended ${afterS.toFixed(0)} s after the gateway restart: ${ended.status.message}`);
      expect(afterS).to.be.at.least(GRACE - 1);
      expect(ended.status).to.include({ phase: "Failed", reason: "Orphaned" });
      expect(ended.status.message).to.match(new RegExp(`^the gateway has not known kernel ${id} for \\d+ s \\(orphanGracePeriod ${GRACE} s\\): ended to free its resources and GPUs$`));
    } finally {
      await env.kubectl(["patch", "jupyterkernel", jk.metadata.name, "-n", env.namespace, "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']).catch(() => {});
      await env.kubectl(["patch", "jupytergateway", NAMES.gateway, "-n", env.namespace, "--type=json", "-p", '[{"op":"remove","path":"/spec/orphanGracePeriod"}]']).catch(() => {});
    }
    await until("the orphan's JupyterKernel and pod to go", async () => (await list("jupyterkernels", id)).length === 0 && (await list("pods", id)).length === 0, 60_000);
    // The sidecar reads the restarted gateway: its Culling condition is True again.
    const culling = (await gatewayObject()).status.conditions.find((c: any) => c.type === "Culling");
    expect(culling).to.include({ status: "True", reason: "GatewayAnswered" });
    // The orphan's GPU went to the queued kernel: its launch completes and it runs code on the GPU node.
    const again = (await queued!.launch).id;
    try {
      const [jk2] = await list("jupyterkernels", again);
      expect(jk2.metadata.name).to.equal(queued!.name);
      expect(jk2.status).to.include({ phase: "Running", gpus: 1 });
      const events = (JSON.parse(await env.kubectl(["get", "events", "-n", env.namespace, "--field-selector", `involvedObject.name=${queued!.name}`, "-o", "json"])).items as any[]).map((e) => e.reason);
      expect(events).to.include.members(["Queued", "Admitted"]);
      const ch2 = await gw.connect(again);
      expect((await ch2.execute("print('gpu free again')")).text).to.equal("gpu free again\n");
      ch2.close();
    } finally {
      await gw.shutdown(again);
      await env.kubectl(["patch", "jupytergateway", NAMES.gateway, "-n", env.namespace, "--type=json", "-p", '[{"op":"remove","path":"/spec/gpuPolicy"}]']).catch(() => {});
    }
  });

  it(`a busy kernel is never culled, though idle-looking for longer than its kernelspec's ${E2E_GPU_CULL_IDLE_TIMEOUT} s, and nobody is connected; once done it is`, async function () {
    this.timeout(180_000);
    const id = (await gw.startKernel(NAMES.gpuKernelspec)).id;
    let ch: KernelChannels | undefined = await gw.connect(id);
    const busyS = E2E_GPU_CULL_IDLE_TIMEOUT + 6 * E2E_CULL_INTERVAL + 15;
    try {
      // Runs on after the client goes: the gateway then counts no connection, only the busy state protects it.
      void ch.execute(`import time; time.sleep(${busyS})`, busyS * 1000 + 30_000).catch(() => {});
      await until("the kernel busy", async () => (await gw.kernels()).find((k) => k.id === id && k.execution_state === "busy"), 15_000);
      const busySince = Date.now();
      ch.close();
      ch = undefined;
      const checkUntil = busySince + (busyS - 5) * 1000;
      let checks = 0;
      while (Date.now() < checkUntil) {
        const k = (await gw.kernels()).find((x) => x.id === id);
        expect(k, `the busy kernel after ${((Date.now() - busySince) / 1000).toFixed(0)} s`).to.exist;
        expect(k!.execution_state).to.equal("busy");
        expect(k!.connections).to.equal(0);
        checks++;
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(checks).to.be.at.least(busyS - 10);
      expect((await list("jupyterkernels", id))[0].metadata.deletionTimestamp).to.equal(undefined);
      // The sleep ends, the kernel goes idle: now the culler takes it (so it was watching all along).
      await until("the kernel culled once idle", async () => !(await gw.kernels()).some((k) => k.id === id), (busyS + E2E_GPU_CULL_IDLE_TIMEOUT + 3 * E2E_CULL_INTERVAL) * 1000 + 30_000);
      await until("its JupyterKernel and pod to go", async () => (await list("jupyterkernels", id)).length === 0 && (await list("pods", id)).length === 0, 60_000);
    } finally {
      ch?.close();
      await gw.shutdown(id).catch(() => {});
    }
  });
});

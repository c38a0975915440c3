// One namespace, two admitters: each JupyterGateway's sidecar (a real process) admits its own
// gateway's GPU kernels, as the operator admits direct kernels beside them, all under limits they
// share. Kernels created at the same instant must not each take the namespace's last GPU: the
// admitters serialize their admissions through the namespace's GPU admission record
// (kernels/admission-record.ts). Without it, this test sees two pods holding a one-GPU limit.
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { freshNamespace, getJson, kubectlOk, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { KubeClient, type KubeObject } from "../../src/runtime/client.ts";
import { ADMISSION_RECORD_ANNOTATION, ADMISSION_RECORD_NAME } from "../../src/kernels/admission-record.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";

const GPU = "nvidia.com/gpu";
const API = "kubeflow.tkestack.io/v1alpha1";
const GATEWAYS = ["gw-a", "gw-b"];
const ROUNDS = 5;

describe("GPU admission across admitters: two gateways' sidecars share a namespace limit (real processes)", function () {
  this.timeout(240_000);
  let ns: string;
  let client: KubeClient;
  const sidecars: ControllerProcess[] = [];

  const apply = (obj: object) => kubectlOk(["-n", ns, "apply", "--server-side", "--field-manager=test", "--force-conflicts", "-f", "-"], JSON.stringify(obj));
  const kernels = async () => ((await getJson(["-n", ns, "get", "jupyterkernels"])).items as any[]);
  const gpuPods = async () => ((await getJson(["-n", ns, "get", "pods", "-l", "component=kernel"])).items as any[])
    .filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed")
    .map((p) => p.metadata.name as string).sort();

  before(async () => {
    await installCrds();
    ns = await freshNamespace("gpuadm");
    client = KubeClient.fromConfig(testCluster.kubeconfig);
    await apply({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "gpu" }, spec: { language: "Python", displayName: "gpu", image: "registry.example/pytorch:2", gpu: { count: 1, max: 1 } } });
    for (const gw of GATEWAYS) {
      await apply({ apiVersion: API, kind: "JupyterGateway", metadata: { name: gw }, spec: { launchTimeout: 300, gpuPolicy: { maxPerNamespace: { [GPU]: 1 } } } });
      sidecars.push(startController([
        "--role", "sidecar", "--namespace", ns, "--gateway", gw, "--kubeconfig", testCluster.kubeconfig,
        "--metrics-addr", "127.0.0.1:0", "--kernels-dir", mkdtempSync(join(tmpdir(), "ej-kernels-")), "--leader-elect=false",
      ]));
    }
  });

  /** GETs of the admission record the sidecars have sent (their client metrics). */
  const recordReads = async (): Promise<number> => {
    let n = 0;
    for (const s of sidecars) {
      const running = await waitFor("sidecar running", async () => s.lines.find((l) => l.msg === "running"));
      const text = await (await fetch(`http://127.0.0.1:${String(running.metricsPort)}/metrics`)).text();
      for (const line of text.split("\n")) {
        if (line.startsWith("elastic_jupyter_api_requests_total{") && line.includes('verb="get"') && line.includes('resource="leases"')) n += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return n;
  };

  after(async () => {
    for (const s of sidecars) {
      const code = await s.stop();
      expect(code, `sidecar exit code (log: ${s.logFile})`).to.equal(0);
    }
  });

  it(`${ROUNDS} rounds of one kernel per gateway created at once: one pod holds the namespace's GPU, the other kernel is queued`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const names = GATEWAYS.map((gw) => `r${round}-${gw}`);
      // Both creates in flight together: the two sidecars see their kernels within the same few ms.
      await Promise.all(GATEWAYS.map((gw, i) => client.create({
        apiVersion: API, kind: "JupyterKernel",
        metadata: { name: names[i]!, namespace: ns, labels: { "kubeflow.tkestack.io/gateway": gw } },
        spec: { kernelId: randomUUID(), kernelSpec: { name: "gpu" }, username: `user-${gw}` },
      } as KubeObject)));
      let seen = "";
      const settled = await waitFor(`round ${round}: one kernel Running and one Queued`, async () => {
        const ks = await kernels();
        const phases = ks.map((k) => `${k.status?.phase}/${k.status?.reason ?? ""}`).sort();
        seen = `kernels ${phases.join(", ")}; GPU pods ${(await gpuPods()).join(", ")}`;
        return phases.length === 2 && phases.some((p) => p.startsWith("Running")) && phases.includes("Pending/Queued") ? ks : undefined;
      }, 20_000).catch((e: Error) => { throw new Error(`${e.message}; last seen: ${seen}`); });
      // Settled, and it stays so: no second pod comes late.
      await new Promise((r) => setTimeout(r, 1500));
      const running = settled.find((k: any) => k.status.phase === "Running").metadata.name;
      expect(await gpuPods(), `round ${round}: kernel pods holding GPUs`).to.deep.equal([running]);
      const queued = settled.find((k: any) => k.status.reason === "Queued");
      expect(queued.status.message).to.contain(`namespace ${ns} holds 1 of the 1 nvidia.com/gpu JupyterGateway`);
      // Freeing the GPU admits the queued one (its own sidecar learns of it from the pod's deletion).
      await kubectlOk(["-n", ns, "delete", "jupyterkernel", running, "--wait=true"]);
      await waitFor(`round ${round}: the queued kernel to run`, async () => (await kernels()).find((k) => k.metadata.name === queued.metadata.name)?.status?.phase === "Running", 30_000);
      expect(await gpuPods()).to.deep.equal([queued.metadata.name]);
      await kubectlOk(["-n", ns, "delete", "jupyterkernel", "--all", "--wait=true"]);
    }
    // The record is read only to confirm an admission the cache allows. A round has two admissions,
    // and the race's loser reads it once or twice more (twice when its write conflicted): at most 4
    // reads a round. A queued kernel's wakes (each pod event of the namespace) read none: when each
    // wake read the record, this was 40.
    const reads = await recordReads();
    console.log(`      admission record reads: ${reads} for ${ROUNDS * 2} admissions`);
    expect(reads, "GETs of the admission record").to.be.at.most(ROUNDS * 4);
    // The record (a Lease) names the admissions it serialized.
    const lease = await getJson(["-n", ns, "get", "lease", ADMISSION_RECORD_NAME]);
    expect(JSON.parse(lease.metadata.annotations[ADMISSION_RECORD_ANNOTATION]).length).to.be.greaterThan(0);
    expect(lease.spec.holderIdentity).to.match(/^sidecar of JupyterGateway gw-[ab]$/);
  });
});

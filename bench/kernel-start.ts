// Kernel start latency, request -> ready, through the whole real stack (notebook server ->
// Enterprise Gateway -> JupyterKernel -> sidecar -> pod -> process kubelet -> ipykernel), on the
// local control plane. The e2e test runs the same measurement (20 launches) and prints it.
//
//   eval "$(ci/cluster env)"   # after ci/cluster up
//   npm run build              # the compiled controller the operator and the sidecar run
//   npx node bench/kernel-start.ts [--launches 20] [--kubeconfig FILE]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { JupyterServer } from "../ci/e2e/jupyter-client.ts";
import { formatLatency, measureKernelStarts } from "../ci/e2e/latency.ts";
import { NAMES, startE2E } from "../ci/e2e/setup.ts";

const { values } = parseArgs({ options: { launches: { type: "string", default: "20" }, kubeconfig: { type: "string", default: process.env.KUBECONFIG } } });
const launches = Number(values.launches);
if (!Number.isInteger(launches) || launches < 1) { console.error(`--launches must be an integer >= 1, got ${JSON.stringify(values.launches)}`); process.exit(2); }
if (!values.kubeconfig) { console.error("--kubeconfig (or KUBECONFIG) is required: start a cluster with ci/cluster up"); process.exit(2); }

const suffix = Math.random().toString(36).slice(2, 7);
const env = await startE2E({
  kubeconfig: values.kubeconfig, namespace: `bench-${suffix}`, nodeName: `bench-process-${suffix}`,
  stateDir: mkdtempSync(join(tmpdir(), "ej-bench-")), gpus: 0, cullIdleTimeout: 600, cullInterval: 60,
  log: (m) => console.error(m),
});
try {
  const nb = new JupyterServer(env.notebookUrl, env.token);
  const report = await measureKernelStarts(nb, NAMES.cpuKernelspec, launches, (i, ms) => console.error(`launch ${i + 1}/${launches}: ${(ms / 1000).toFixed(2)} s`));
  console.log(formatLatency(report));
} finally {
  await env.stop({ deleteNamespace: true });
}

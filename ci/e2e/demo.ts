// The demo's long-running part (ci/demo starts the cluster, then runs this): the e2e environment
// with friendlier settings, the URL and token printed, and everything stopped on Ctrl-C/SIGTERM.
//
//   npx node ci/e2e/demo.ts [--namespace demo] [--node demo-process-node] [--gpus 2] [--cull-idle-timeout 600] [--gpu-cull-idle-timeout 300]
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NAMES, startE2E } from "./setup.ts";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string", default: process.env.KUBECONFIG },
    namespace: { type: "string", default: "demo" },
    node: { type: "string", default: "demo-process-node" },
    gpus: { type: "string", default: "2" },
    "cull-idle-timeout": { type: "string", default: "600" },
    "gpu-cull-idle-timeout": { type: "string", default: "300" },
    "state-dir": { type: "string", default: join(tmpdir(), "elastic-jupyter-demo") },
  },
});
const number = (flag: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) { console.error(`demo: --${flag} must be an integer >= 0, got ${JSON.stringify(v)}`); process.exit(2); }
  return n;
};
if (!values.kubeconfig) { console.error("demo: --kubeconfig (or KUBECONFIG) is required: start the cluster with ci/cluster up"); process.exit(2); }
mkdirSync(values["state-dir"]!, { recursive: true });

// A signal while the environment starts (the process kubelet and its pods are already running)
// is remembered and honoured once startE2E returns, so nothing is left behind.
let signalledDuringStart: string | undefined;
const early = (signal: NodeJS.Signals) => () => {
  if (!signalledDuringStart) console.log(`\n${signal}: stopping once the environment has started...`);
  signalledDuringStart ??= signal;
};
process.on("SIGINT", early("SIGINT"));
process.on("SIGTERM", early("SIGTERM"));

const env = await startE2E({
  kubeconfig: values.kubeconfig, namespace: values.namespace!, nodeName: values.node!, stateDir: values["state-dir"]!,
  gpus: number("gpus", values.gpus), cullIdleTimeout: number("cull-idle-timeout", values["cull-idle-timeout"]), cullInterval: 30,
  gpuCullIdleTimeout: number("gpu-cull-idle-timeout", values["gpu-cull-idle-timeout"]),
  log: (m) => console.log(m),
});

let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the gateway, the notebook and every kernel...`);
  await env.stop({ deleteNamespace: true });
  console.log("stopped.");
  process.exit(0);
};
process.removeAllListeners("SIGINT").removeAllListeners("SIGTERM");
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
if (signalledDuringStart) await stop(signalledDuringStart);

const ns = env.namespace;
console.log(`
JupyterLab is running, its kernels run as JupyterKernel pods:

  ${env.notebookUrl}/lab?token=${env.token}

  token: ${env.token}

Pick "Python (JupyterKernel pod)" (or "Python with 1 GPU") as the kernel, run a cell, and watch:
  eval "$(ci/cluster env)"
  kubectl get jupyterkernels,pods -n ${ns} -o wide
  kubectl get jupytergateway ${NAMES.gateway} -n ${ns} -o yaml
Idle kernels are culled after ${values["cull-idle-timeout"]} s, GPU kernels after ${values["gpu-cull-idle-timeout"]} s (their JupyterKernelSpec's cullIdleTimeout). Logs: ${values["state-dir"]}/kubelet (kubelet.log; each container's under pods/). The operator log: ${env.operatorLog}
This machine only: pod IPs are 127.0.0.N loopback addresses (see README, "what is simulated").

Ctrl-C stops the demo (ci/demo --down also stops the cluster).`);

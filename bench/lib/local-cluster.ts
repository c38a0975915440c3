// The benchmarks' own local control plane (ci/cluster: etcd, kube-apiserver, scheduler,
// controller-manager, kwok), with the project's CRDs installed, and the real sidecar as a child
// process (the production build, controller/dist/main.js).
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KubeClient } from "../../controller/src/runtime/client.ts";
import { CONTROLLER_NODE_FLAGS } from "../../controller/test/testing/controller-main.ts";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface LocalCluster {
  kubeconfig: string;
  /** The same kubeconfig in JSON, for a controller measured as it runs in a pod: there it reads its
   *  ServiceAccount's token and never loads the YAML parser, which a YAML kubeconfig would need. */
  jsonKubeconfig: string;
  client: KubeClient;
  kubectl(...args: string[]): string;
  /** kubectl with `input` on its stdin (e.g. `apply -f -`). */
  kubectlIn(input: string, ...args: string[]): string;
  /** The pid of one of ci/cluster's components (kube-apiserver, kube-scheduler, ...). */
  pidOf(component: string): number;
  down(): void;
}

/** `ci/cluster up` with these settings (EJ_CLUSTER_NAME, EJ_PORT_BASE, EJ_GPU_NODES, ...), then the CRDs. */
export function localCluster(env: Record<string, string>): LocalCluster {
  const run = (cmd: string): string =>
    execFileSync(join(root, "ci/cluster"), [cmd], { env: { ...process.env, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const out = run("up");
  // `ci/cluster up` ends with `export KUBECONFIG=...` and `export PATH=<tools>:$PATH`.
  const kubeconfig = /export KUBECONFIG=(\S+)/.exec(out)?.[1];
  const toolsPath = /export PATH=(\S+):\$PATH/.exec(out)?.[1];
  if (!kubeconfig || !toolsPath) throw new Error(`ci/cluster up printed no KUBECONFIG or PATH: ${out}`);
  const kubectlIn = (input: string, ...a: string[]): string => execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...a], { input, encoding: "utf8", maxBuffer: 1 << 30, env: { ...process.env, PATH: `${toolsPath}:${process.env.PATH}` } });
  const kubectl = (...a: string[]): string => kubectlIn("", ...a);
  kubectl("apply", "--server-side", "--force-conflicts", "-f", join(root, "charts/elastic-jupyter/files/crds/"));
  kubectl("wait", "--for=condition=Established", "crd/jupyterkernels.kubeflow.tkestack.io", "--timeout=60s");
  const jsonKubeconfig = `${kubeconfig}.json`;
  writeFileSync(jsonKubeconfig, kubectl("config", "view", "--raw", "-o", "json"));
  return {
    kubeconfig,
    jsonKubeconfig,
    client: KubeClient.fromConfig(kubeconfig),
    kubectl,
    kubectlIn,
    pidOf: (component) => Number(readFileSync(join(dirname(kubeconfig), `${component}.pid`), "utf8").trim()),
    down: () => { run("down"); },
  };
}

export interface Sidecar {
  process: ChildProcess;
  metricsPort: number;
  stop(): void;
}

/** Starts the sidecar role (with the image's Node flags) and resolves once it logs "running".
 *  Its stdout and stderr go straight to the log file: through a pipe to this busy harness, the
 *  sidecar's synchronous stdout writes would block when the pipe fills, which containerd (reading
 *  a pod's logs at once) never makes it do. */
export async function startSidecar(opts: { entry: string; kubeconfig: string; namespace: string; logFile: string; nodeFlags?: string[]; extraArgs?: string[] }): Promise<Sidecar> {
  const fd = openSync(opts.logFile, "w");
  const nodeFlags = opts.nodeFlags ?? CONTROLLER_NODE_FLAGS;
  const child = spawn(process.execPath, [...nodeFlags, opts.entry, "--role", "sidecar", "--namespace", opts.namespace, "--kubeconfig", opts.kubeconfig, "--metrics-addr", "127.0.0.1:0", ...(opts.extraArgs ?? [])], { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  let exited: number | null | undefined;
  child.on("exit", (code) => { exited = code; });
  const deadline = Date.now() + 60_000;
  let metricsPort = 0;
  while (!metricsPort) {
    if (exited !== undefined) throw new Error(`the sidecar for ${opts.namespace} exited with ${exited}; see ${opts.logFile}`);
    if (Date.now() > deadline) { child.kill("SIGTERM"); throw new Error(`the sidecar for ${opts.namespace} did not log "running" within 60 s; see ${opts.logFile}`); }
    const m = /"msg":"running".*?"metricsPort":(\d+)/.exec(readFileSync(opts.logFile, "utf8"));
    if (m) metricsPort = Number(m[1]);
    else await new Promise((r) => setTimeout(r, 100));
  }
  return { process: child, metricsPort, stop: () => { child.kill("SIGTERM"); } };
}

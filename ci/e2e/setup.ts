// The end-to-end environment, shared by the e2e tests, the benchmark and the demo: on a running
// local control plane it installs the CRDs, starts a process kubelet (a node whose pods run as
// local processes on 127.0.0.N), runs the operator, and applies a JupyterGateway, kernelspecs, a
// kernel template and a JupyterNotebook steered onto that node. From there everything is the
// product: the operator renders the gateway Deployment (stock EG + our sidecar) and the notebook
// Deployment; the kube-controller-manager makes pods; the scheduler binds them to the process node;
// EG, the sidecar, ipykernels and JupyterLab run and talk over their pod IPs.
//
// Test-only shims (also in README's "what is simulated"): the image map (ci/e2e/image-map.ts) and
// its two entrypoint stand-ins (ci/e2e/images/), and Service names. There is no kube-proxy or
// cluster DNS, so the notebook's JUPYTER_GATEWAY_URL (http://<gateway>.<namespace>:8888, as the
// operator renders it) is resolved by a hostAliases entry, set through the JupyterNotebook's
// spec.template, to the gateway pod's IP. That keeps the rendered URL untouched (it is what a
// cluster would use) at the price of creating the notebook after the gateway pod has its IP.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { startProcessKubelet, type ProcessKubeletHandle } from "../process-kubelet/harness.ts";
import { E2E_IMAGES, e2eImageMap, imageMapDirs } from "./image-map.ts";

const execFileAsync = promisify(execFile);
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The chart's CRDs; EJ_E2E_CRDS_DIR points elsewhere (e.g. to try CRDs from another revision). */
export const CRDS_DIR = process.env.EJ_E2E_CRDS_DIR || join(repoRoot, "charts/elastic-jupyter/files/crds");
const PROCESS_TAINT = "elastic-jupyter.dev/process-kubelet";

export interface E2EOptions {
  kubeconfig: string;
  /** Created when missing; everything of the environment lives in it. */
  namespace: string;
  /** The process kubelet's Node. */
  nodeName: string;
  stateDir: string;
  /** GPUs (nvidia.com/gpu) the process node offers. */
  gpus: number;
  /** JupyterGateway culling and launch settings (seconds). */
  cullIdleTimeout: number;
  cullInterval: number;
  /** The GPU kernelspec's own cullIdleTimeout (unset: the gateway's). */
  gpuCullIdleTimeout?: number;
  launchTimeout?: number;
  /** Auth of the notebook: a generated token (default) or none. */
  auth?: "token" | "disable";
  log?: (msg: string) => void;
}

export const NAMES = {
  gateway: "gateway",
  notebook: "notebook",
  template: "process-node-kernel",
  cpuKernelspec: "python-remote",
  gpuKernelspec: "python-gpu",
} as const;

export interface E2EEnvironment {
  options: E2EOptions;
  namespace: string;
  /** http://<notebook pod IP>:8888 */
  notebookUrl: string;
  /** Empty when auth is disabled. */
  token: string;
  /** http://<gateway pod IP>:8888 (the gateway's own REST API, for assertions). */
  gatewayUrl: string;
  kubelet: ProcessKubeletHandle;
  operatorLog: string;
  kubectl(args: string[], input?: string): Promise<string>;
  stop(opts?: { deleteNamespace?: boolean }): Promise<void>;
}

/** The two venvs ci/build-pyenv.sh builds (cached): EJ_GATEWAY_VENV / EJ_NOTEBOOK_VENV if set, else built/found now. */
export function pythonVenvs(): { gatewayVenv: string; notebookVenv: string } {
  let g = process.env.EJ_GATEWAY_VENV, n = process.env.EJ_NOTEBOOK_VENV;
  if (!g || !n) {
    const out = execFileSync("bash", [join(repoRoot, "ci/build-pyenv.sh"), "env"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    g = /EJ_GATEWAY_VENV=(\S+)/.exec(out)?.[1];
    n = /EJ_NOTEBOOK_VENV=(\S+)/.exec(out)?.[1];
  }
  if (!g || !n || !existsSync(join(g, "bin/jupyter-enterprisegateway")) || !existsSync(join(n, "bin/jupyter-lab"))) {
    throw new Error(`python venvs not found (EJ_GATEWAY_VENV=${g}, EJ_NOTEBOOK_VENV=${n}): run ci/build-pyenv.sh`);
  }
  return { gatewayVenv: g, notebookVenv: n };
}

/** The custom resources of the environment, as a user would write them. */
export function e2eResources(o: E2EOptions, gatewayPodIP?: string): Record<string, unknown>[] {
  const onProcessNode = {
    nodeSelector: { "kubernetes.io/hostname": o.nodeName },
    tolerations: [{ key: PROCESS_TAINT, operator: "Exists", effect: "NoSchedule" }],
  };
  const api = "kubeflow.tkestack.io/v1alpha1";
  const meta = (name: string) => ({ name, namespace: o.namespace });
  const objects: Record<string, unknown>[] = [
    {
      apiVersion: api, kind: "JupyterKernelTemplate", metadata: meta(NAMES.template),
      spec: { template: { metadata: { labels: { team: "e2e" } }, spec: { ...onProcessNode, containers: [{ name: "kernel" }] } } },
    },
    {
      apiVersion: api, kind: "JupyterKernelSpec", metadata: meta(NAMES.cpuKernelspec),
      spec: { language: "python", displayName: "Python (JupyterKernel pod)", image: E2E_IMAGES.kernel, template: { name: NAMES.template } },
    },
    {
      apiVersion: api, kind: "JupyterKernelSpec", metadata: meta(NAMES.gpuKernelspec),
      spec: { language: "python", displayName: "Python with 1 GPU (JupyterKernel pod)", image: E2E_IMAGES.kernel, template: { name: NAMES.template }, gpu: { count: 1 },
        ...(o.gpuCullIdleTimeout !== undefined ? { cullIdleTimeout: o.gpuCullIdleTimeout } : {}) },
    },
    {
      apiVersion: api, kind: "JupyterGateway", metadata: meta(NAMES.gateway),
      spec: {
        kernels: [NAMES.cpuKernelspec, NAMES.gpuKernelspec], defaultKernel: NAMES.cpuKernelspec,
        cullIdleTimeout: o.cullIdleTimeout, cullInterval: o.cullInterval, logLevel: "DEBUG",
        ...(o.launchTimeout ? { launchTimeout: o.launchTimeout } : {}),
        ...onProcessNode,
      },
    },
  ];
  if (gatewayPodIP) {
    objects.push({
      apiVersion: api, kind: "JupyterNotebook", metadata: meta(NAMES.notebook),
      spec: {
        gateway: { name: NAMES.gateway },
        auth: { mode: o.auth ?? "token" },
        template: {
          spec: {
            ...onProcessNode,
            // No cluster DNS or Service routing here: the gateway's Service name resolves to its pod.
            hostAliases: [{ ip: gatewayPodIP, hostnames: [`${NAMES.gateway}.${o.namespace}`, `${NAMES.gateway}.${o.namespace}.svc`, `${NAMES.gateway}.${o.namespace}.svc.cluster.local`] }],
          },
        },
      },
    });
  }
  return objects;
}

async function httpOk(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return res.ok ? await res.text() : undefined;
  } catch { return undefined; }
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs: number, onTimeout?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}${onTimeout ? `\n${onTimeout()}` : ""}`);
    await sleep(250);
  }
}

export async function startE2E(o: E2EOptions): Promise<E2EEnvironment> {
  const log = o.log ?? (() => {});
  const t0 = Date.now();
  const step = (msg: string): void => log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${msg}`);
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const child = execFileAsync("kubectl", ["--kubeconfig", o.kubeconfig, ...args], { maxBuffer: 64 << 20, timeout: 120_000 });
    if (input !== undefined) child.child.stdin?.end(input);
    try { return (await child).stdout; } catch (e) { throw new Error(`kubectl ${args.join(" ")}: ${(e as { stderr?: string }).stderr ?? String(e)}`); }
  };
  const getJson = async <T = any>(args: string[]): Promise<T> => JSON.parse(await kubectl([...args, "-o", "json"])) as T;
  const apply = (objs: unknown[]): Promise<string> => kubectl(["apply", "--server-side", "--field-manager=e2e", "-f", "-"], objs.map((x) => JSON.stringify(x)).join("\n"));

  const venvs = pythonVenvs();
  for (const d of imageMapDirs(o.stateDir)) mkdirSync(d, { recursive: true });

  await kubectl(["apply", "--server-side", "--force-conflicts", "-f", CRDS_DIR]);
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", CRDS_DIR]);
  if ((await kubectl(["get", "namespace", o.namespace, "--ignore-not-found", "-o", "name"])).trim() === "") await kubectl(["create", "namespace", o.namespace]);
  step(`CRDs installed, namespace ${o.namespace}`);

  const started: Array<() => Promise<unknown>> = [];
  const stopAll = async (): Promise<void> => { for (const s of started.reverse()) await s().catch(() => {}); started.length = 0; };
  try {
    const kubelet = await startProcessKubelet({
      kubeconfig: o.kubeconfig, nodeName: o.nodeName, stateDir: join(o.stateDir, "kubelet"),
      imageMap: e2eImageMap({ repoRoot, ...venvs, stateDir: o.stateDir }),
      args: ["--gpus", String(o.gpus), "--heartbeat-interval", "5", "--shutdown-grace", "5", "--backoff-base", "1", "--backoff-max", "5"],
    });
    started.push(() => kubelet.stop(20_000));
    step(`process kubelet ready: node ${o.nodeName} (${o.gpus} GPU), log ${kubelet.logFile}`);

    // The operator as a local process with the admin kubeconfig (in a cluster: the chart's Deployment).
    const operatorLog = join(o.stateDir, "operator.log");
    const out = openSync(operatorLog, "a");
    const operator: ChildProcess = spawn(join(repoRoot, "node_modules/.bin/node"), ["--disable-warning=ExperimentalWarning", join(repoRoot, "controller/src/main.ts"),
      "--role", "operator", "--kubeconfig", o.kubeconfig, "--namespace", o.namespace, "--leader-elect=false", "--metrics-addr", "127.0.0.1:0"],
    { stdio: ["ignore", out, out], cwd: repoRoot });
    closeSync(out);
    const operatorExited = new Promise<void>((r) => operator.on("exit", () => r()));
    started.push(async () => {
      if (operator.exitCode === null && operator.signalCode === null) operator.kill("SIGTERM");
      await Promise.race([operatorExited, sleep(10_000).then(() => operator.kill("SIGKILL"))]);
    });
    await until("the operator to start", async () => {
      if (operator.exitCode !== null) throw new Error(`operator exited with ${operator.exitCode}: ${readFileSync(operatorLog, "utf8").slice(-2000)}`);
      return readFileSync(operatorLog, "utf8").includes(`"msg":"running"`);
    }, 30_000);
    step(`operator running, log ${operatorLog}`);

    await apply(e2eResources(o));
    const podOf = async (selector: string): Promise<any> => {
      const pods = await getJson<{ items: any[] }>(["get", "pods", "-n", o.namespace, "-l", selector]);
      return pods.items.find((p) => !p.metadata.deletionTimestamp && p.status?.phase === "Running" && p.status?.podIP);
    };
    const diag = (what: string) => () => {
      try { return `${what}; kubelet log tail:\n${readFileSync(kubelet.logFile, "utf8").slice(-3000)}\noperator log tail:\n${readFileSync(operatorLog, "utf8").slice(-2000)}`; } catch { return what; }
    };
    const gwPod = await until("the gateway pod to run", () => podOf(`app.kubernetes.io/component=gateway,app.kubernetes.io/instance=${NAMES.gateway}`), 90_000, diag("gateway pod"));
    const gatewayUrl = `http://${gwPod.status.podIP}:8888`;
    // Ready means: EG answers and the sidecar has synced both kernelspecs into its kernels directory.
    await until("the gateway to serve both kernelspecs", async () => {
      const body = await httpOk(`${gatewayUrl}/api/kernelspecs`);
      const specs = body ? Object.keys(JSON.parse(body).kernelspecs ?? {}) : [];
      return specs.includes(NAMES.cpuKernelspec) && specs.includes(NAMES.gpuKernelspec);
    }, 90_000, diag(`gateway ${gatewayUrl}`));
    step(`gateway pod ${gwPod.metadata.name} serving at ${gatewayUrl}`);

    await apply(e2eResources(o, gwPod.status.podIP));
    const nbPod = await until("the notebook pod to run", () => podOf(`app.kubernetes.io/component=notebook,app.kubernetes.io/instance=${NAMES.notebook}`), 90_000, diag("notebook pod"));
    const notebookUrl = `http://${nbPod.status.podIP}:8888`;
    let token = "";
    if ((o.auth ?? "token") === "token") {
      const secret = await getJson(["get", "secret", "-n", o.namespace, `${NAMES.notebook}-token`]);
      token = Buffer.from(secret.data.token, "base64").toString("utf8");
    }
    await until("JupyterLab to answer", () => httpOk(`${notebookUrl}/api/kernelspecs${token ? `?token=${token}` : ""}`), 90_000, diag(`notebook ${notebookUrl}`));
    step(`notebook pod ${nbPod.metadata.name} serving JupyterLab at ${notebookUrl}`);

    const env: E2EEnvironment = {
      options: o, namespace: o.namespace, notebookUrl, token, gatewayUrl, kubelet, operatorLog, kubectl,
      async stop(opts = {}) {
        // The namespace goes asynchronously (the cluster may be torn down next); stopping the
        // kubelet ends every pod's processes, and the operator stops last-in-first-out before it.
        if (opts.deleteNamespace) await kubectl(["delete", "namespace", o.namespace, "--wait=false"]).catch(() => {});
        await stopAll();
        await kubectl(["delete", "node", o.nodeName, "--wait=false"]).catch(() => {});
      },
    };
    return env;
  } catch (err) {
    await stopAll();
    await kubectl(["delete", "node", o.nodeName, "--wait=false"]).catch(() => {});
    throw err;
  }
}

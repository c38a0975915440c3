// Test helpers around the local control plane started by ci/cluster: run kubectl/helm, apply
// manifests, and poll for a condition. Every helper talks to the real API server.
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const clusterScript = join(repoRoot, "ci/cluster");

const name = process.env.EJ_TEST_CLUSTER_NAME ?? "test";
const clusterEnv = {
  ...process.env,
  EJ_CLUSTER_NAME: name,
  EJ_CLUSTER_DIR: process.env.EJ_TEST_CLUSTER_DIR ?? join(tmpdir(), `elastic-jupyter-${name}`),
  EJ_PORT_BASE: process.env.EJ_TEST_CLUSTER_PORT_BASE ?? "27443",
  // Load tests (hundreds of kernels) share the two CPU nodes; a kubelet's 110 would cap them.
  EJ_PODS_PER_NODE: process.env.EJ_PODS_PER_NODE ?? "1000",
};

/** The environment (KUBECONFIG, PATH with the pinned tools) that `ci/cluster up|env` prints.
 *  Strict: ci/demo runs `eval "$(ci/cluster up)"`, so anything else on stdout would break it. */
function envFromScript(output: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of output.split("\n").filter((l) => l.trim())) {
    const m = /^export (\w+)=(.*)$/.exec(line.trim());
    if (!m) throw new Error(`ci/cluster printed ${JSON.stringify(line)} on stdout, where callers eval only export lines`);
    env[m[1]!] = m[2]!.replace("$PATH", process.env.PATH ?? "");
  }
  return env;
}

export const testCluster = {
  dir: clusterEnv.EJ_CLUSTER_DIR,
  kubeconfig: join(clusterEnv.EJ_CLUSTER_DIR, "admin.kubeconfig"),
  /** Kubeconfig of an authenticated user bound to no role. */
  nobodyKubeconfig: join(clusterEnv.EJ_CLUSTER_DIR, "nobody.kubeconfig"),

  async up(): Promise<void> {
    const r = spawnSync("bash", [clusterScript, "up"], { env: clusterEnv, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.status !== 0) throw new Error(`ci/cluster up failed (exit ${r.status})`);
    Object.assign(process.env, envFromScript(r.stdout));
  },

  /** Restarts only the API server (etcd keeps the data): breaks every watch mid-stream. */
  async restartApiServer(): Promise<void> {
    const r = await run("bash", [clusterScript, "restart-apiserver"], { env: clusterEnv });
    if (r.code !== 0) throw new Error(`ci/cluster restart-apiserver failed (exit ${r.code}): ${r.stderr}`);
  },

  /** Adds GPU kinds (ci/cluster's EJ_GPU_KINDS: mig, shared, kai, dra or all) to the running cluster. */
  async addGpuKinds(kinds: string): Promise<void> {
    const r = await run("bash", [clusterScript, "gpu-kinds"], { env: { ...clusterEnv, EJ_GPU_KINDS: kinds } });
    if (r.code !== 0) throw new Error(`ci/cluster gpu-kinds failed (exit ${r.code}): ${r.stderr}`);
  },

  async down(): Promise<void> {
    spawnSync("bash", [clusterScript, "down"], { env: clusterEnv, stdio: "inherit" });
  },
};

export interface RunResult { stdout: string; stderr: string; code: number }

/** Runs a command; never throws on a non-zero exit, so tests can assert on failures. */
export async function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  const child = execFileAsync(cmd, args, { env: opts.env ?? process.env, maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 120_000 });
  if (opts.input !== undefined) { child.child.stdin?.end(opts.input); }
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string };
    return { stdout: err.stdout ?? "", stderr: err.stderr ?? String(e), code: typeof err.code === "number" ? err.code : 1 };
  }
}

/** kubectl against the test cluster as cluster admin. */
export function kubectl(args: string[], input?: string): Promise<RunResult> {
  return run("kubectl", ["--kubeconfig", testCluster.kubeconfig, ...args], input === undefined ? {} : { input });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

export async function getJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, "-o", "json"])) as T;
}

/** A fresh namespace per suite keeps tests independent; returns its name. */
export async function freshNamespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await kubectlOk(["create", "namespace", ns]);
  return ns;
}

/** Polls fn until it returns a truthy value or the deadline passes; returns that value. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Writes text to a temp file (for tools that want a path) and returns the path. */
export function tempFile(name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), "ej-")), name);
  writeFileSync(p, text);
  return p;
}

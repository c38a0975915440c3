// Starts and stops a process kubelet as a child process, for tests: waits until it says it is
// ready and its Node is Ready and schedulable (the node lifecycle controller lifted the
// not-ready taint), and stops it with SIGTERM (SIGKILL if it hangs).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { Node } from "kubernetes-types/core/v1.js";
import { KubeClient } from "../../controller/src/runtime/client.ts";
import type { ImageMapEntry } from "./image-map.ts";
import { defaultRegistryDir } from "./kubelet.ts";
import { MountTargets, Sandbox } from "./sandbox.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "../..");

export interface ProcessKubeletOptions {
  kubeconfig: string;
  nodeName: string;
  /** The image map: entries (written to a file in the state dir) or a path. */
  imageMap: ImageMapEntry[] | string;
  stateDir: string;
  /** More flags, e.g. ["--gpus", "2"]. */
  args?: string[];
  readyTimeoutMs?: number;
}

export interface ProcessKubeletHandle {
  nodeName: string;
  stateDir: string;
  /** The kubelet's own log (JSON lines). */
  logFile: string;
  /** Where this kubelet's lines begin in logFile (a kubelet started again appends to the same log). */
  logStart: number;
  pid: number;
  /** SIGTERM and wait for exit (SIGKILL after timeoutMs); resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL, as a crash: its pods' processes keep running until a kubelet for the same node
   *  starts again (it kills and restarts them) or cleanupAfterCrash() runs. */
  crash(): Promise<void>;
}

/** Kills the processes a crashed process kubelet left behind for nodeName. */
export async function cleanupAfterCrash(nodeName: string): Promise<void> {
  await Sandbox.create(nodeName).removeRoot();
  new MountTargets(join(defaultRegistryDir, "mount-targets")).sweepStale();
}

export async function startProcessKubelet(o: ProcessKubeletOptions): Promise<ProcessKubeletHandle> {
  mkdirSync(o.stateDir, { recursive: true });
  let mapPath = o.imageMap as string;
  if (typeof o.imageMap !== "string") {
    mapPath = join(o.stateDir, "image-map.json");
    writeFileSync(mapPath, JSON.stringify(o.imageMap, null, 2));
  }
  const logFile = join(o.stateDir, "kubelet.log");
  const out = openSync(logFile, "a");
  // Only this run's lines count (a restarted kubelet appends to the same log).
  const logStart = fstatSync(out).size;
  let child: ChildProcess;
  try {
    // node_modules/.bin/node is Node 24 (type stripping); no npx wrapper, so signals reach us directly.
    child = spawn(join(repoRoot, "node_modules/.bin/node"), [join(here, "main.ts"),
      "--kubeconfig", o.kubeconfig, "--node-name", o.nodeName, "--image-map", mapPath, "--state-dir", o.stateDir, ...(o.args ?? [])],
    { stdio: ["ignore", out, out], cwd: repoRoot });
  } finally {
    closeSync(out);
  }
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) => child.on("exit", (code, signal) => { exitCode = code ?? (signal ? 128 : null); r(exitCode); }));
  const handle: ProcessKubeletHandle = {
    nodeName: o.nodeName, stateDir: o.stateDir, logFile, logStart, pid: child.pid!,
    async stop(timeoutMs = 60_000) {
      if (exitCode !== undefined) return exitCode;
      child.kill("SIGTERM");
      let forced = false;
      const timer = setTimeout(() => { forced = true; child.kill("SIGKILL"); }, timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      // Killed hard: its pods' processes are still running in its cgroups; stop them here.
      if (forced) await cleanupAfterCrash(o.nodeName);
      return code;
    },
    async crash() {
      if (exitCode !== undefined) return;
      child.kill("SIGKILL");
      await exited;
    },
  };

  const client = KubeClient.fromConfig(o.kubeconfig);
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exitCode !== undefined) throw new Error(`process kubelet exited with ${exitCode} before it was ready; log ${logFile}:\n${readFileSync(logFile, "utf8").slice(-3000)}`);
    const said = readFileSync(logFile).subarray(logStart).toString("utf8").includes(`"msg":"process kubelet ready"`);
    if (said) {
      const node = await client.get<Node>({ apiVersion: "v1", kind: "Node" }, undefined, o.nodeName).catch(() => undefined);
      const ready = node?.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      const notReadyTaint = node?.spec?.taints?.some((t) => t.key.startsWith("node.kubernetes.io/"));
      if (ready && !notReadyTaint) return handle;
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`process kubelet not ready after ${o.readyTimeoutMs ?? 60_000} ms; log ${logFile}`);
    }
    await sleep(200);
  }
}

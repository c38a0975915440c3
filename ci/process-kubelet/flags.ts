// Command-line flags of the process kubelet. Every bad value fails naming its flag.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseQuantity } from "./quantity.ts";

export interface Flags {
  kubeconfig: string;
  nodeName: string;
  imageMap: string;
  stateDir: string;
  capacity: Record<string, string>;
  labels: Record<string, string>;
  taint: boolean;
  heartbeatSeconds: number;
  shutdownGraceSeconds: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  logLevel: "debug" | "info" | "warn" | "error";
  podLoopback: boolean;
}

export const usage = `usage: npx node ci/process-kubelet/main.ts --kubeconfig FILE --node-name NAME --image-map FILE [flags]
  --kubeconfig FILE          admin kubeconfig (default: $KUBECONFIG)
  --node-name NAME           the Node to register and serve (must not be a kwok node)
  --image-map FILE           YAML/JSON list: image repository patterns -> local runtime (see image-map.ts)
  --state-dir DIR            volumes and logs (default: $TMPDIR/process-kubelet-<node>)
  --cpu Q --memory Q --pods N   node capacity (default 8, 32Gi, 110)
  --gpus N                   extended GPU resource count on the node (default 0: none)
  --gpu-resource NAME        its name (default nvidia.com/gpu)
  --resource NAME=Q          any other extended resource (repeatable)
  --label KEY=VALUE          extra node label (repeatable)
  --taint true|false         taint elastic-jupyter.dev/process-kubelet=true:NoSchedule (default true)
  --heartbeat-interval S     Lease renewal and Ready heartbeat period (default 10)
  --shutdown-grace S         longest wait for a pod's processes on kubelet shutdown (default 10)
  --backoff-base S --backoff-max S   container restart backoff (default 1, 30)
  --pod-loopback true|false  preload pod-loopback.c so 0.0.0.0/127.0.0.1 mean the pod's IP (default true)
  --log-level L              debug|info|warn|error (default info)`;

const repeatable = new Set(["resource", "label"]);
const known = new Set(["kubeconfig", "node-name", "image-map", "state-dir", "cpu", "memory", "pods", "gpus", "gpu-resource", "resource", "label", "taint", "heartbeat-interval", "shutdown-grace", "backoff-base", "backoff-max", "log-level", "pod-loopback", "help"]);

export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Flags {
  const single = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(argv[i]!);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(argv[i])}: flags look like --name value or --name=value`);
    const name = m[1]!;
    if (!known.has(name)) throw new Error(`unknown flag --${name}\n${usage}`);
    if (name === "help") throw new Error(usage);
    let value = m[2];
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`flag --${name} needs a value`);
    }
    if (repeatable.has(name)) multi.set(name, [...(multi.get(name) ?? []), value]);
    else single.set(name, value);
  }
  const required = (name: string, fallback?: string): string => {
    const v = single.get(name) ?? fallback;
    if (!v) throw new Error(`--${name} is required\n${usage}`);
    return v;
  };
  const seconds = (name: string, fallback: number, min = 0): number => {
    const v = single.get(name);
    if (v === undefined) return fallback;
    const n = Number(v.replace(/s$/, ""));
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number of seconds >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const quantity = (name: string, fallback: string): string => {
    const v = single.get(name) ?? fallback;
    parseQuantity(v, `--${name}`);
    return v;
  };
  const pairs = (name: string, check: (k: string, v: string) => void): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const p of multi.get(name) ?? []) {
      const i = p.indexOf("=");
      if (i <= 0) throw new Error(`--${name} must look like KEY=VALUE, got ${JSON.stringify(p)}`);
      check(p.slice(0, i), p.slice(i + 1));
      out[p.slice(0, i)] = p.slice(i + 1);
    }
    return out;
  };

  const nodeName = required("node-name");
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 63) throw new Error(`--node-name must be a DNS-1123 name, got ${JSON.stringify(nodeName)}`);
  const capacity: Record<string, string> = { cpu: quantity("cpu", "8"), memory: quantity("memory", "32Gi"), pods: quantity("pods", "110") };
  const gpus = single.get("gpus") ?? "0";
  if (!/^\d+$/.test(gpus)) throw new Error(`--gpus must be an integer >= 0, got ${JSON.stringify(gpus)}`);
  const gpuResource = single.get("gpu-resource") ?? "nvidia.com/gpu";
  if (!/^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/.test(gpuResource)) throw new Error(`--gpu-resource must be an extended resource name like nvidia.com/gpu, got ${JSON.stringify(gpuResource)}`);
  if (Number(gpus) > 0) capacity[gpuResource] = gpus;
  Object.assign(capacity, pairs("resource", (k, v) => {
    if (!/^[a-z0-9.-]+\/[A-Za-z0-9._-]+$/.test(k)) throw new Error(`--resource ${k}: name must look like vendor.com/name`);
    parseQuantity(v, `--resource ${k}`);
  }));
  const bool = (name: string, fallback: boolean): boolean => {
    const v = single.get(name) ?? String(fallback);
    if (v !== "true" && v !== "false") throw new Error(`--${name} must be true or false, got ${JSON.stringify(v)}`);
    return v === "true";
  };
  const logLevel = single.get("log-level") ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new Error(`--log-level must be one of debug, info, warn, error, got ${JSON.stringify(logLevel)}`);
  const flags: Flags = {
    kubeconfig: required("kubeconfig", env.KUBECONFIG),
    nodeName,
    imageMap: required("image-map"),
    stateDir: single.get("state-dir") ?? join(tmpdir(), `process-kubelet-${nodeName}`),
    capacity,
    labels: pairs("label", (k) => { if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9._-]+$/.test(k)) throw new Error(`--label ${k}: not a valid label key`); }),
    taint: bool("taint", true),
    podLoopback: bool("pod-loopback", true),
    heartbeatSeconds: seconds("heartbeat-interval", 10, 1),
    shutdownGraceSeconds: seconds("shutdown-grace", 10),
    backoffBaseSeconds: seconds("backoff-base", 1, 0.1),
    backoffMaxSeconds: seconds("backoff-max", 30, 0.1),
    logLevel: logLevel as Flags["logLevel"],
  };
  if (flags.backoffMaxSeconds < flags.backoffBaseSeconds) throw new Error(`--backoff-max (${flags.backoffMaxSeconds}) must be >= --backoff-base (${flags.backoffBaseSeconds})`);
  return flags;
}

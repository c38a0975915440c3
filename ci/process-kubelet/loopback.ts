// Builds pod-loopback.c (see its header) into a shared library that pod processes preload, so
// 0.0.0.0 and 127.0.0.1 mean "this pod" as they do in a pod's own network namespace. Built once
// per source version with the machine's C compiler; without one, pods run without it.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";

const source = join(import.meta.dirname, "pod-loopback.c");

/** The library's path, or an error message saying why there is none. */
export function buildPodLoopback(stateDir: string, cc = process.env.CC || "cc"): { path: string } | { error: string } {
  const hash = createHash("sha256").update(readFileSync(source)).digest("hex").slice(0, 12);
  const out = join(stateDir, "lib", `pod-loopback-${hash}.so`);
  if (existsSync(out)) return { path: out };
  mkdirSync(join(stateDir, "lib"), { recursive: true });
  try {
    execFileSync(cc, ["-shared", "-fPIC", "-O2", "-Wall", "-o", `${out}.tmp`, source, "-ldl"], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return { error: `cannot build ${source} with ${cc}: ${e.stderr?.toString().trim() || e.message}` };
  }
  renameSync(`${out}.tmp`, out);
  return { path: out };
}

/** Env that makes a pod process use its pod IP as its loopback; hostPorts stay on 127.0.0.1. */
export function podLoopbackEnv(library: string, podIP: string, hostPorts: string[], existingPreload: string | undefined): Record<string, string> {
  return {
    LD_PRELOAD: existingPreload ? `${library}:${existingPreload}` : library,
    PROCESS_KUBELET_POD_IP: podIP,
    PROCESS_KUBELET_HOST_PORTS: hostPorts.join(","),
  };
}

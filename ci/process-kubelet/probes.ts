// Container probes (startup, readiness, liveness) against the pod's loopback IP: httpGet, tcpSocket
// and exec (run inside the container's namespaces with nsenter). Timing fields and thresholds
// follow the Kubernetes defaults. gRPC probes are not supported and always fail, saying so.
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import type { Container, Probe } from "kubernetes-types/core/v1.js";

export interface ProbeResult { ok: boolean; message: string }

export interface ProbeTarget {
  podIP: string;
  container: Container;
  /** Main process pid, for exec probes. */
  pid: number | undefined;
  env: Record<string, string>;
  nsenter: string;
}

/** A port given as number or as the name of one of the container's ports. */
export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = container.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`port ${JSON.stringify(port)} is not a named port of container ${container.name}`);
  return p.containerPort;
}

export async function runProbe(probe: Probe, t: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = resolvePort(g.port, t.container);
      const host = g.host || t.podIP;
      const https = g.scheme === "HTTPS";
      const headers: Record<string, string> = { "User-Agent": "kube-probe/1.35" };
      for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
      const status = await new Promise<number>((resolve, reject) => {
        const req = (https ? httpsRequest : httpRequest)({ host, port, path: g.path || "/", method: "GET", headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
        req.on("error", reject);
        req.end();
      });
      const url = `${https ? "https" : "http"}://${host}:${port}${g.path || "/"}`;
      return status >= 200 && status < 400 ? { ok: true, message: `${url}: ${status}` } : { ok: false, message: `HTTP probe failed with statuscode: ${status} (${url})` };
    }
    if (probe.tcpSocket) {
      const port = resolvePort(probe.tcpSocket.port, t.container);
      const host = probe.tcpSocket.host || t.podIP;
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host, port, timeout: timeoutMs });
        s.on("connect", () => { s.destroy(); resolve(); });
        s.on("timeout", () => { s.destroy(); reject(new Error(`timeout after ${timeoutMs} ms`)); });
        s.on("error", reject);
      });
      return { ok: true, message: `tcp ${host}:${port} open` };
    }
    if (probe.exec) {
      if (t.pid === undefined) return { ok: false, message: "container not running" };
      const argv = probe.exec.command ?? [];
      const code = await new Promise<number>((resolve) => {
        const child = spawn(t.nsenter, ["--target", String(t.pid), "--mount", "--uts", "--", ...argv], { env: t.env, stdio: "ignore" });
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("exit", (c) => { clearTimeout(timer); resolve(c ?? 1); });
        child.on("error", () => { clearTimeout(timer); resolve(126); });
      });
      return code === 0 ? { ok: true, message: "exec probe succeeded" } : { ok: false, message: `exec probe ${JSON.stringify(argv)} exited with ${code}` };
    }
    if (probe.grpc) return { ok: false, message: "grpc probes are not supported by the process kubelet" };
    return { ok: false, message: "probe has no handler (httpGet, tcpSocket, exec)" };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

export type ProbeKind = "startup" | "readiness" | "liveness";

/** Runs a container's probes on their periods and reports state changes. Kubernetes semantics:
 *  startup gates the others; readiness starts false; liveness or startup failing failureThreshold
 *  times in a row asks for the container to be killed. */
export class Prober {
  started: boolean;
  ready: boolean;
  private readonly container: Container;
  private readonly target: () => ProbeTarget;
  private readonly onChange: () => void;
  private readonly onKill: (why: string) => void;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly counts: Record<ProbeKind, { ok: number; fail: number }> = { startup: { ok: 0, fail: 0 }, readiness: { ok: 0, fail: 0 }, liveness: { ok: 0, fail: 0 } };

  constructor(container: Container, target: () => ProbeTarget, onChange: () => void, onKill: (why: string) => void) {
    this.container = container;
    this.target = target;
    this.onChange = onChange;
    this.onKill = onKill;
    this.started = !container.startupProbe;
    this.ready = !container.readinessProbe && this.started;
  }

  start(): void {
    if (this.container.startupProbe) this.schedule("startup", this.container.startupProbe, true);
    else this.startOthers();
  }

  private startOthers(): void {
    if (this.container.readinessProbe) this.schedule("readiness", this.container.readinessProbe, true);
    else if (!this.ready) { this.ready = true; this.onChange(); }
    if (this.container.livenessProbe) this.schedule("liveness", this.container.livenessProbe, true);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.ready) this.ready = false;
  }

  private schedule(kind: ProbeKind, probe: Probe, first: boolean): void {
    if (this.stopped) return;
    const delay = first ? (probe.initialDelaySeconds ?? 0) * 1000 : (probe.periodSeconds ?? 10) * 1000;
    const t = setTimeout(() => void this.tick(kind, probe), delay);
    this.timers.push(t);
  }

  private async tick(kind: ProbeKind, probe: Probe): Promise<void> {
    if (this.stopped) return;
    const r = await runProbe(probe, this.target());
    if (this.stopped) return;
    const c = this.counts[kind];
    if (r.ok) { c.ok++; c.fail = 0; } else { c.fail++; c.ok = 0; }
    const success = c.ok >= (probe.successThreshold ?? 1);
    const failure = c.fail >= (probe.failureThreshold ?? 3);
    if (kind === "startup") {
      if (success) { this.started = true; this.onChange(); this.startOthers(); return; }
      if (failure) { this.onKill(`Startup probe failed: ${r.message}`); return; }
    } else if (kind === "readiness") {
      if (success && !this.ready) { this.ready = true; this.onChange(); }
      else if (failure && this.ready) { this.ready = false; this.onChange(); }
    } else if (failure) {
      this.onKill(`Liveness probe failed: ${r.message}`);
      return;
    }
    this.schedule(kind, probe, false);
  }
}

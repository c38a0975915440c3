// Idle culling, decided per kernelspec: which of the gateway's kernels to shut down now. Pure.
//
// Enterprise Gateway 3.x culls with one timeout for every kernel (its jupyter_server 1.x has no
// per-kernelspec cull_idle_timeout), but a GPU kernel left idle should go long before a CPU one.
// So the sidecar culls instead of the gateway (the operator sets EG_CULL_IDLE_TIMEOUT=0): it reads
// the gateway's own view of each kernel (GET /api/kernels) and applies the same rule EG would, with
// the kernelspec's spec.cullIdleTimeout in place of the global one.
import type { JupyterGateway, JupyterKernelSpec } from "@elastic-jupyter/api";

/** The start script's default in the stock gateway image (12 h), kept for gateways that set none. */
export const DEFAULT_CULL_IDLE_TIMEOUT_S = 43_200;
export const DEFAULT_CULL_INTERVAL_S = 60;

/** One entry of the gateway's GET /api/kernels. */
export interface GatewayKernel {
  id: string;
  /** The kernelspec's name. */
  name: string;
  /** ISO time of the kernel's last message. */
  last_activity: string;
  execution_state: string;
  connections: number;
}

export interface CullPolicy {
  /** Seconds idle before culling, for kernelspecs that set none; 0 never culls. */
  defaultTimeoutS: number;
  /** Kernelspec name -> its own timeout (0: never). */
  byKernelspec: Record<string, number>;
  /** Cull kernels that still have a client connected. */
  cullConnected: boolean;
  /** Seconds between checks. */
  intervalS: number;
}

export interface CullDecision {
  id: string;
  kernelspec: string;
  idleS: number;
  timeoutS: number;
}

export function cullPolicy(gateway: JupyterGateway, kernelspecs: readonly JupyterKernelSpec[]): CullPolicy {
  const byKernelspec: Record<string, number> = {};
  for (const ks of kernelspecs) {
    if (ks.spec?.cullIdleTimeout !== undefined) byKernelspec[ks.metadata!.name!] = ks.spec.cullIdleTimeout;
  }
  return {
    defaultTimeoutS: gateway.spec.cullIdleTimeout ?? DEFAULT_CULL_IDLE_TIMEOUT_S,
    byKernelspec,
    cullConnected: gateway.spec.cullConnected ?? false,
    intervalS: gateway.spec.cullInterval ?? DEFAULT_CULL_INTERVAL_S,
  };
}

/** Whether any kernel could ever be culled under this policy (if not, nobody needs to poll). */
export function cullsAnything(p: CullPolicy): boolean {
  return p.defaultTimeoutS > 0 || Object.values(p.byKernelspec).some((t) => t > 0);
}

/**
 * Enterprise Gateway's rule (jupyter_server's cull_kernel_if_idle, cull_busy off): idle longer than
 * the timeout, not busy, and no client connected unless cullConnected. A kernel whose last activity
 * cannot be read is left alone.
 */
export function kernelsToCull(kernels: readonly GatewayKernel[], p: CullPolicy, now: Date): CullDecision[] {
  const out: CullDecision[] = [];
  for (const k of kernels) {
    const timeoutS = p.byKernelspec[k.name] ?? p.defaultTimeoutS;
    if (timeoutS <= 0) continue;
    const last = Date.parse(k.last_activity);
    if (Number.isNaN(last)) continue;
    const idleS = (now.getTime() - last) / 1000;
    if (idleS <= timeoutS || k.execution_state === "busy") continue;
    if (!p.cullConnected && k.connections > 0) continue;
    out.push({ id: k.id, kernelspec: k.name, idleS: Math.round(idleS), timeoutS });
  }
  return out;
}

/** GPUs held by the kernels the gateway reports idle, by kernelspec (those holding none left out). */
export function idleGpusByKernelspec(kernels: readonly GatewayKernel[], gpusOf: (kernelId: string) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of kernels) {
    if (k.execution_state !== "idle") continue;
    const gpus = gpusOf(k.id);
    if (gpus > 0) out.set(k.name, (out.get(k.name) ?? 0) + gpus);
  }
  return out;
}

/** Idle GPUs seen by one pass, the sample the next pass integrates from. */
export interface IdleGpuSample {
  atMs: number;
  byKernelspec: ReadonlyMap<string, number>;
}

/** GPU-seconds held idle since the previous sample, by kernelspec: its idle GPUs held for the time
 *  between the passes (a left Riemann sum; a pass that failed leaves no sample, so no gap is guessed). */
export function idleGpuSecondsSince(prev: IdleGpuSample | undefined, nowMs: number): Map<string, number> {
  const out = new Map<string, number>();
  if (!prev || nowMs <= prev.atMs) return out;
  const s = (nowMs - prev.atMs) / 1000;
  for (const [ks, gpus] of prev.byKernelspec) out.set(ks, gpus * s);
  return out;
}

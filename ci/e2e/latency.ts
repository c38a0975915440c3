// Kernel start latency as a user sees it: from the notebook server's POST /api/kernels to the
// kernel's first kernel_info_reply over the websocket (the moment JupyterLab shows "Idle").
// Each launch is shut down before the next, so every one is a cold start of a new kernel pod.
import type { JupyterServer } from "./jupyter-client.ts";

export interface LatencyReport {
  launches: number;
  /** Start request -> kernel ready, in ms, in launch order. */
  readyMs: number[];
  /** Start request -> POST /api/kernels answered (the gateway saw the kernel connect back). */
  startedMs: number[];
  /** The kernels launched (and shut down), in launch order. */
  kernelIds: string[];
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentile of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new Error("percentile of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function measureKernelStarts(nb: JupyterServer, kernelspec: string, launches: number, onLaunch?: (i: number, readyMs: number) => void): Promise<LatencyReport> {
  const readyMs: number[] = [];
  const startedMs: number[] = [];
  const kernelIds: string[] = [];
  for (let i = 0; i < launches; i++) {
    const t0 = performance.now();
    const kernel = await nb.startKernel(kernelspec);
    kernelIds.push(kernel.id);
    startedMs.push(performance.now() - t0);
    const ch = await nb.connect(kernel.id);
    readyMs.push(performance.now() - t0);
    ch.close();
    await nb.shutdown(kernel.id);
    onLaunch?.(i, readyMs[i]!);
  }
  return { launches, readyMs, startedMs, kernelIds, p50: percentile(readyMs, 50), p95: percentile(readyMs, 95), max: Math.max(...readyMs) };
}

export function formatLatency(r: LatencyReport): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  return `kernel start request -> kernel ready over ${r.launches} launches: p50 ${s(r.p50)}, p95 ${s(r.p95)}, max ${s(r.max)}`
    + ` (request answered: p50 ${s(percentile(r.startedMs, 50))}, p95 ${s(percentile(r.startedMs, 95))})`;
}

export interface RoundTripReport { count: number; ms: number[]; p50: number; p95: number }

/** Message round trip as a user's cell sees it: execute_request of `1+1` -> execute_reply (and
 *  idle), `count` times on one started, connected kernel after one warm-up execute. */
export async function measureExecuteRoundTrips(nb: JupyterServer, kernelspec: string, count: number): Promise<RoundTripReport> {
  const kernel = await nb.startKernel(kernelspec);
  const ch = await nb.connect(kernel.id);
  try {
    await ch.execute("1+1");
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const r = await ch.execute("1+1");
      ms.push(performance.now() - t0);
      if (r.text !== "2") throw new Error(`1+1 gave ${JSON.stringify(r.text)}`);
    }
    return { count, ms, p50: percentile(ms, 50), p95: percentile(ms, 95) };
  } finally {
    ch.close();
    await nb.shutdown(kernel.id);
  }
}

/** The side-by-side table of the modes measured in one run (markdown). */
export function latencyTable(rows: Array<{ mode: string; start: LatencyReport; execute: RoundTripReport }>): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const m = (ms: number): string => `${ms.toFixed(1)} ms`;
  return [
    "| mode | kernel start -> ready p50 | p95 | launches | execute `1+1` -> reply p50 | p95 | round trips |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.mode} | ${s(r.start.p50)} | ${s(r.start.p95)} | ${r.start.launches} | ${m(r.execute.p50)} | ${m(r.execute.p95)} | ${r.execute.count} |`),
  ].join("\n");
}

// What one pool's replay measured, from its event list: GPU waits, allocation efficiency and the
// cold-start rate. Pure; times in simulated seconds.
import { pct } from "../lib/stats.ts";

/** A user wanting a GPU: opening a static notebook, or executing a cell. */
export interface WaitEvent {
  kind: "open" | "exec";
  wantS: number;
  /** Until the kernel was Running; unset if it never was before the horizon. */
  waitS?: number;
  /** The part of it spent queued for a GPU (included in waitS). */
  queueS?: number;
  /** The execution had to start a kernel (none was alive). */
  cold: boolean;
}

export interface Interval { fromS: number; toS?: number }

export interface PoolEvents {
  /** static: one "open" wait per session (executions then wait 0); elastic: one "exec" wait per execution. */
  waits: WaitEvent[];
  /** Executions: busy on a Running kernel. */
  execs: Interval[];
  /** Kernel pods holding a GPU: bound to a node until gone. */
  holds: Interval[];
}

export interface PoolMetrics {
  waits: number;
  /** Waits still open at the horizon (counted as horizon - want: a lower bound). */
  unfinishedWaits: number;
  waitP50S: number;
  waitP95S: number;
  waitMaxS: number;
  /** Waits that queued for a GPU at all, and percentiles of the queueing part alone (0 for the
   *  rest): the GPU wait, what the pool's size decides. */
  queued: number;
  queueP50S: number;
  queueP95S: number;
  executions: number;
  /** Executions that had to start a kernel / all executions. */
  coldStartRate: number;
  /** GPU time executing / GPU time held, both clipped to [0, horizon]. */
  allocationEfficiency: number;
  gpuHoursHeld: number;
  gpuHoursExecuting: number;
}

const clipped = (i: Interval, horizonS: number): number => Math.max(0, Math.min(i.toS ?? horizonS, horizonS) - Math.max(0, i.fromS));

export function poolMetrics(ev: PoolEvents, horizonS: number): PoolMetrics {
  const waits = ev.waits.filter((w) => w.wantS < horizonS);
  const waitS = waits.map((w) => Math.max(0, w.waitS ?? horizonS - w.wantS));
  const queueS = waits.map((w) => (w.waitS === undefined ? horizonS - w.wantS : w.queueS ?? 0));
  const execWaits = waits.filter((w) => w.kind === "exec");
  const held = ev.holds.reduce((a, h) => a + clipped(h, horizonS), 0);
  const executing = ev.execs.reduce((a, e) => a + clipped(e, horizonS), 0);
  return {
    waits: waits.length,
    unfinishedWaits: waits.filter((w) => w.waitS === undefined).length,
    waitP50S: pct(waitS, 50),
    waitP95S: pct(waitS, 95),
    waitMaxS: waitS.length ? Math.max(...waitS) : NaN,
    queued: waits.filter((w) => w.waitS === undefined || (w.queueS ?? 0) > 0).length,
    queueP50S: pct(queueS, 50),
    queueP95S: pct(queueS, 95),
    executions: ev.execs.filter((e) => e.fromS < horizonS).length,
    coldStartRate: execWaits.length ? execWaits.filter((w) => w.cold).length / execWaits.length : 0,
    allocationEfficiency: held > 0 ? executing / held : NaN,
    gpuHoursHeld: held / 3600,
    gpuHoursExecuting: executing / 3600,
  };
}

/** The smallest pool whose p95 GPU wait (queueing for a GPU) is within the target; undefined if none is. */
export function smallestPool(results: readonly { pool: number; metrics: PoolMetrics }[], targetP95S: number): number | undefined {
  const ok = results.filter((r) => r.metrics.queueP95S <= targetP95S).map((r) => r.pool);
  return ok.length ? Math.min(...ok) : undefined;
}

export interface PolicySummary {
  policy: string;
  smallestPool?: number;
  testedPools: number[];
  /** The smallest pool meeting the target is the smallest tried: the answer is at most it. */
  atMost: boolean;
  at?: PoolMetrics;
  /** The static policy's smallest pool over this one's. */
  staticOverThis?: number;
}

/** Per policy: the smallest pool meeting the target, its metrics, and how many fewer GPUs than static it needs. */
export function summarize(results: readonly { policy: string; pool: number; metrics: PoolMetrics }[], policies: readonly string[], targetP95S: number): PolicySummary[] {
  const out = policies.map((policy): PolicySummary => {
    const rs = results.filter((r) => r.policy === policy);
    const pool = smallestPool(rs, targetP95S);
    const testedPools = rs.map((r) => r.pool).sort((a, b) => a - b);
    const at = rs.find((r) => r.pool === pool)?.metrics;
    return { policy, testedPools, atMost: pool !== undefined && pool === testedPools[0], ...(pool !== undefined ? { smallestPool: pool } : {}), ...(at ? { at } : {}) };
  });
  const staticPool = out.find((s) => s.policy === "static")?.smallestPool;
  for (const s of out) if (staticPool !== undefined && s.smallestPool !== undefined) s.staticOverThis = staticPool / s.smallestPool;
  return out;
}

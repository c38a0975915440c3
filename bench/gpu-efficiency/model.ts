// The synthetic notebook users of bench/gpu-efficiency: pure and seeded. Distributions follow
// published notebook traces (issue 15): per session about 6 GPU executions (median; mean 13,
// p90 42); execution time lognormal with median 5.5 min and p90 32 min; think time (between a
// notebook's executions) median 3 min, p90 38 min. All times are simulated seconds.
import { prng } from "../lib/stats.ts";

/** A lognormal given by its median and 90th percentile. */
export interface Lognormal { median: number; p90: number; max?: number }

export interface UserModel {
  /** Executions per session (rounded, at least 1, at most `max`). */
  executions: Lognormal;
  /** Seconds one execution keeps the kernel busy. */
  execS: Lognormal;
  /** Seconds between opening the notebook or finishing an execution and the next one (and closing). */
  thinkS: Lognormal;
}

// The cap of 60 executions brings the lognormal's mean (19) down to the trace's 13, keeping its
// median and p90; exec and think times are capped at 8 h so one draw cannot outlast the run.
export const TRACE_MODEL: UserModel = {
  executions: { median: 6, p90: 42, max: 60 },
  execS: { median: 5.5 * 60, p90: 32 * 60, max: 8 * 3600 },
  thinkS: { median: 3 * 60, p90: 38 * 60, max: 8 * 3600 },
};

/** z of the 90th percentile of the standard normal. */
const Z90 = 1.2815515655446004;

/** One user's session: opens the notebook at `startS`, then thinks and executes in turn, then closes. */
export interface Session {
  user: number;
  startS: number;
  /** Think time before each execution, and how long it runs. */
  executions: { thinkS: number; execS: number }[];
  /** Think time after the last execution, until the notebook is closed. */
  closeAfterS: number;
}

export function lognormalSampler(random: () => number): (d: Lognormal) => number {
  return (d) => {
    // Box-Muller; 1 - u keeps the logarithm finite.
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const x = d.median * Math.exp((Math.log(d.p90 / d.median) / Z90) * z);
    return d.max === undefined ? x : Math.min(x, d.max);
  };
}

/** `users` sessions, starting uniformly over [0, startSpreadS). Same seed, same sessions. */
export function sampleSessions(seed: number, users: number, startSpreadS: number, model: UserModel = TRACE_MODEL): Session[] {
  const random = prng(seed);
  const draw = lognormalSampler(random);
  const out: Session[] = [];
  for (let user = 0; user < users; user++) {
    const startS = random() * startSpreadS;
    const n = Math.max(1, Math.round(draw(model.executions)));
    const executions = Array.from({ length: n }, () => ({ thinkS: draw(model.thinkS), execS: draw(model.execS) }));
    out.push({ user, startS, executions, closeAfterS: draw(model.thinkS) });
  }
  return out.sort((a, b) => a.startS - b.startS);
}

export type Policy = { kind: "static" } | { kind: "elastic"; cullIdleTimeoutS: number };

export const policyName = (p: Policy): string => (p.kind === "static" ? "static" : `elastic-${p.cullIdleTimeoutS / 60}m`);

/**
 * GPU-holding intervals if GPUs were never short and kernels started at once: static holds one
 * from open to close; elastic starts a kernel for an execution when none is alive and the culler
 * (polling every `cullIntervalS`) shuts it down once idle longer than the timeout. The peak of
 * these is the pool at which nobody waits: the sweep's largest pool.
 */
export function idealHolds(sessions: readonly Session[], policy: Policy, cullIntervalS: number, horizonS: number): { fromS: number; toS: number }[] {
  const holds: { fromS: number; toS: number }[] = [];
  for (const s of sessions) {
    let t = s.startS;
    if (policy.kind === "static") {
      for (const e of s.executions) t += e.thinkS + e.execS;
      holds.push({ fromS: s.startS, toS: Math.min(horizonS, t + s.closeAfterS) });
      continue;
    }
    // A kernel idle since `idleFrom` is culled at the first poll after the timeout; polls are
    // cullIntervalS apart at an unknown phase: count the worst case.
    const culledAt = (idleFrom: number): number => idleFrom + policy.cullIdleTimeoutS + cullIntervalS;
    let open: { fromS: number; idleFrom: number } | undefined;
    for (const e of s.executions) {
      t += e.thinkS;
      if (t >= horizonS) break;
      if (open && culledAt(open.idleFrom) <= t) { holds.push({ fromS: open.fromS, toS: culledAt(open.idleFrom) }); open = undefined; }
      open ??= { fromS: t, idleFrom: t };
      t += e.execS;
      open.idleFrom = t;
    }
    if (open) holds.push({ fromS: open.fromS, toS: Math.min(horizonS, culledAt(open.idleFrom)) });
  }
  return holds.filter((h) => h.fromS < horizonS);
}

/** Most intervals overlapping at any instant. */
export function peakConcurrency(intervals: readonly { fromS: number; toS: number }[]): number {
  const edges = intervals.flatMap((h) => [[h.fromS, 1], [h.toS, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0, peak = 0;
  for (const [, d] of edges) { cur += d; peak = Math.max(peak, cur); }
  return peak;
}

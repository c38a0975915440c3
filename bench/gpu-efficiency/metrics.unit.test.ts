import { expect } from "chai";
import { poolMetrics, smallestPool, summarize, type PoolEvents } from "./metrics.ts";

describe("bench/gpu-efficiency metrics", () => {
  // Horizon 1000 s. Two GPUs held 0-400 and 500-(never released); executions 100-200, 300-350,
  // 600-700 and 950-1100 (clipped at the horizon to 950-1000).
  const events: PoolEvents = {
    holds: [{ fromS: 0, toS: 400 }, { fromS: 500 }],
    execs: [{ fromS: 100, toS: 200 }, { fromS: 300, toS: 350 }, { fromS: 600, toS: 700 }, { fromS: 950, toS: 1100 }],
    waits: [
      { kind: "exec", wantS: 90, cold: true, waitS: 10, queueS: 0 },
      { kind: "exec", wantS: 300, cold: false, waitS: 0, queueS: 0 },
      { kind: "exec", wantS: 560, cold: true, waitS: 40, queueS: 35 },
      { kind: "exec", wantS: 950, cold: false, waitS: 0, queueS: 0 },
      // Never Running before the horizon: counts as 1000 - 980 = 20 s, a lower bound.
      { kind: "exec", wantS: 980, cold: true },
      // After the horizon: ignored.
      { kind: "exec", wantS: 1200, cold: true, waitS: 1 },
    ],
  };

  it("efficiency is executing time over held time, both clipped to the horizon", () => {
    const m = poolMetrics(events, 1000);
    // Held: 400 + 500 = 900 s; executing: 100 + 50 + 100 + 50 = 300 s.
    expect(m.allocationEfficiency).to.be.closeTo(300 / 900, 1e-12);
    expect(m.gpuHoursHeld).to.be.closeTo(900 / 3600, 1e-12);
    expect(m.executions).to.equal(4);
  });

  it("cold-start rate, percentiles and unfinished waits", () => {
    const m = poolMetrics(events, 1000);
    expect(m.waits).to.equal(5);
    expect(m.coldStartRate).to.equal(3 / 5);
    // Waits sorted: 0, 0, 10, 20, 40 -> nearest rank p50 = 10, p95 = 40.
    expect(m.waitP50S).to.equal(10);
    expect(m.waitP95S).to.equal(40);
    expect(m.waitMaxS).to.equal(40);
    expect(m.unfinishedWaits).to.equal(1);
    // Queued: the 35 s one and the unfinished one (20 s so far).
    expect(m.queued).to.equal(2);
    // Queueing: 0, 0, 0, 20, 35.
    expect(m.queueP50S).to.equal(0);
    expect(m.queueP95S).to.equal(35);
  });

  it("static waits are per open; no execution starts a kernel", () => {
    const m = poolMetrics({ holds: [{ fromS: 0, toS: 100 }], execs: [{ fromS: 10, toS: 20 }], waits: [{ kind: "open", wantS: 0, cold: true, waitS: 2 }] }, 100);
    expect(m.coldStartRate).to.equal(0);
    expect(m.waitP95S).to.equal(2);
    expect(m.allocationEfficiency).to.be.closeTo(0.1, 1e-12);
  });

  it("the smallest pool is the smallest whose p95 GPU wait meets the target; static over it is the saving", () => {
    const at = (policy: string, pool: number, p95: number) => ({ policy, pool, metrics: { ...poolMetrics({ holds: [], execs: [], waits: [] }, 1), queueP95S: p95, waitP95S: 999 } });
    expect(smallestPool([at("x", 10, 300), at("x", 12, 29), at("x", 14, 2), at("x", 16, 1)], 30)).to.equal(12);
    expect(smallestPool([at("x", 10, 300), at("x", 12, 31)], 30)).to.equal(undefined);
    const s = summarize([at("static", 60, 40), at("static", 68, 0), at("elastic-5m", 34, 0), at("elastic-5m", 39, 0), at("elastic-60m", 50, 99)], ["static", "elastic-5m", "elastic-60m"], 30);
    expect(s.map((x) => [x.policy, x.smallestPool, x.atMost, x.staticOverThis])).to.deep.equal([
      ["static", 68, false, 1], ["elastic-5m", 34, true, 2], ["elastic-60m", undefined, false, undefined],
    ]);
  });
});

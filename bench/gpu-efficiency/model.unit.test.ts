import { expect } from "chai";
import { pct } from "../lib/stats.ts";
import { idealHolds, peakConcurrency, sampleSessions, TRACE_MODEL, type Session } from "./model.ts";

describe("bench/gpu-efficiency user model", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = sampleSessions(7, 50, 3600);
    expect(sampleSessions(7, 50, 3600)).to.deep.equal(a);
    expect(sampleSessions(8, 50, 3600)).to.not.deep.equal(a);
    expect(a).to.have.length(50);
    expect(a.every((s) => s.startS >= 0 && s.startS < 3600)).to.equal(true);
    expect(a.map((s) => s.startS)).to.deep.equal([...a.map((s) => s.startS)].sort((x, y) => x - y));
  });

  it("matches the trace's quantiles: executions per session, execution and think times", () => {
    const sessions = sampleSessions(1, 20_000, 3600);
    const counts = sessions.map((s) => s.executions.length);
    const exec = sessions.flatMap((s) => s.executions.map((e) => e.execS));
    const think = sessions.flatMap((s) => [...s.executions.map((e) => e.thinkS), s.closeAfterS]);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    // Executions per session: median 6, mean 13, p90 42.
    expect(pct(counts, 50)).to.be.within(5, 7);
    expect(mean).to.be.within(12, 14.5);
    expect(pct(counts, 90)).to.be.within(38, 46);
    expect(Math.min(...counts)).to.equal(1);
    expect(Math.max(...counts)).to.equal(TRACE_MODEL.executions.max);
    // Execution time: median 5-6 min, p90 32 min; think time: median 3 min, p90 38 min (within 5% / 8%).
    expect(pct(exec, 50) / 60).to.be.within(5, 6);
    expect(pct(exec, 90) / 60).to.be.within(32 * 0.92, 32 * 1.08);
    expect(pct(think, 50) / 60).to.be.within(3 * 0.95, 3 * 1.05);
    expect(pct(think, 90) / 60).to.be.within(38 * 0.92, 38 * 1.08);
    expect(exec.concat(think).reduce((a, b) => Math.max(a, b), 0)).to.be.at.most(8 * 3600);
  });

  it("ideal holds: static from open to close, elastic from an execution until culled (timeout plus one interval)", () => {
    const s: Session = { user: 0, startS: 100, executions: [{ thinkS: 60, execS: 300 }, { thinkS: 120, execS: 60 }, { thinkS: 3000, execS: 10 }], closeAfterS: 500 };
    // Open at 100; executions 160-460, 580-640, 3640-3650; close at 4150.
    expect(idealHolds([s], { kind: "static" }, 60, 1e6)).to.deep.equal([{ fromS: 100, toS: 4150 }]);
    // Timeout 300 s + 60 s interval: the idle gap 460-580 keeps the kernel; 640-3640 does not (culled at 1000).
    expect(idealHolds([s], { kind: "elastic", cullIdleTimeoutS: 300 }, 60, 1e6)).to.deep.equal([{ fromS: 160, toS: 1000 }, { fromS: 3640, toS: 4010 }]);
    // The horizon cuts holds and drops executions after it.
    expect(idealHolds([s], { kind: "elastic", cullIdleTimeoutS: 300 }, 60, 2000)).to.deep.equal([{ fromS: 160, toS: 1000 }]);
    expect(idealHolds([s], { kind: "static" }, 60, 2000)).to.deep.equal([{ fromS: 100, toS: 2000 }]);
  });

  it("peak concurrency counts overlaps; a hold ending as another starts does not overlap", () => {
    expect(peakConcurrency([{ fromS: 0, toS: 10 }, { fromS: 5, toS: 15 }, { fromS: 10, toS: 20 }, { fromS: 6, toS: 7 }])).to.equal(3);
    expect(peakConcurrency([{ fromS: 0, toS: 10 }, { fromS: 10, toS: 20 }])).to.equal(1);
    expect(peakConcurrency([])).to.equal(0);
  });
});

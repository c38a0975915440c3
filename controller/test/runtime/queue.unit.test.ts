import { expect } from "chai";
import { WorkQueue } from "../../src/runtime/queue.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves when cond() holds, polling every ms; fails the test after timeoutMs. */
async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(2);
  }
}

describe("WorkQueue", () => {
  it("deduplicates a key that is already waiting", async () => {
    const q = new WorkQueue();
    q.add("a"); q.add("b"); q.add("a"); q.add("a");
    expect(q.length).to.equal(2);
    expect(await q.next()).to.equal("a");
    expect(await q.next()).to.equal("b");
    expect(q.length).to.equal(0);
  });

  it("never hands one key to two workers; a key re-added while processing runs once more afterwards", async () => {
    const q = new WorkQueue({ concurrency: 4 });
    const running = new Set<string>();
    let overlap = false;
    const runs: string[] = [];
    let release!: () => void;
    const firstRunBlocked = new Promise<void>((r) => (release = r));
    q.start(async (key) => {
      if (running.has(key)) overlap = true;
      running.add(key);
      runs.push(key);
      if (runs.length === 1) await firstRunBlocked;
      else await sleep(1);
      running.delete(key);
    });
    q.add("k");
    await until(() => runs.length === 1);
    // Re-added three times during processing: must not start concurrently, must run exactly once more.
    q.add("k"); q.add("k"); q.add("k");
    await sleep(20);
    expect(runs).to.deep.equal(["k"]);
    release();
    await until(() => runs.length === 2);
    await sleep(20);
    expect(runs).to.deep.equal(["k", "k"]);
    expect(overlap).to.equal(false);
    await q.shutdown();
  });

  it("grows the backoff exponentially per key and caps it", () => {
    const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1000 });
    const delays = Array.from({ length: 10 }, () => q.addRateLimited("x"));
    expect(delays).to.deep.equal([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    expect(q.numRequeues("x")).to.equal(10);
    // Another key has its own history.
    expect(q.addRateLimited("y")).to.equal(5);
    void q.shutdown();
  });

  it("uses client-go's defaults (5 ms .. 1000 s) and never overflows", () => {
    const q = new WorkQueue();
    expect(q.nextDelay("z")).to.equal(5);
    for (let i = 0; i < 2000; i++) q.addRateLimited("z");
    expect(q.nextDelay("z")).to.equal(1_000_000);
    void q.shutdown();
  });

  it("forget() resets a key's backoff", () => {
    const q = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 1000 });
    q.addRateLimited("x"); q.addRateLimited("x"); q.addRateLimited("x");
    expect(q.nextDelay("x")).to.equal(40);
    q.forget("x");
    expect(q.numRequeues("x")).to.equal(0);
    expect(q.addRateLimited("x")).to.equal(5);
    void q.shutdown();
  });

  it("delivers a rate-limited key after its delay, not before", async () => {
    const q = new WorkQueue({ baseDelayMs: 40, maxDelayMs: 1000 });
    const seen: number[] = [];
    const t0 = Date.now();
    q.start(async () => { seen.push(Date.now() - t0); });
    q.addRateLimited("x");
    await sleep(15);
    expect(seen).to.have.length(0);
    await until(() => seen.length === 1);
    expect(seen[0]).to.be.at.least(35);
    await q.shutdown();
  });

  it("addAfter delivers after the delay, keeps the earliest time, and dedups with a waiting key", async () => {
    const q = new WorkQueue();
    const seen: Array<[string, number]> = [];
    const t0 = Date.now();
    q.start(async (k) => { seen.push([k, Date.now() - t0]); });
    // Delays far apart, so a loaded machine's timer lag cannot blur them.
    q.addAfter("late", 1000);
    q.addAfter("late", 30); // earlier wins
    q.addAfter("late", 2000); // later is ignored
    q.addAfter("now", 0);
    await until(() => seen.length === 2);
    expect(seen[0]![0]).to.equal("now");
    expect(seen[1]![0]).to.equal("late");
    expect(seen[1]![1]).to.be.within(25, 900);
    await sleep(2100);
    expect(seen).to.have.length(2); // the 1000 ms and 2000 ms requests did not fire again
    await q.shutdown();
  });

  it("runs at most `concurrency` keys at once and still processes all of them", async () => {
    const q = new WorkQueue({ concurrency: 3 });
    let current = 0, peak = 0;
    const done = new Set<string>();
    q.start(async (k) => {
      current++; peak = Math.max(peak, current);
      await sleep(5);
      current--; done.add(k);
    });
    for (let i = 0; i < 30; i++) q.add(`k${i}`);
    await until(() => done.size === 30);
    expect(peak).to.equal(3);
    await q.shutdown();
  });

  it("shutdown stops handing out work, drops waiting keys, and waits for keys in flight", async () => {
    const q = new WorkQueue({ concurrency: 2 });
    const started: string[] = [];
    const finished: string[] = [];
    q.start(async (k) => { started.push(k); await sleep(60); finished.push(k); });
    for (const k of ["a", "b", "c", "d"]) q.add(k);
    q.addAfter("later", 10);
    await until(() => started.length === 2);
    const t0 = Date.now();
    await q.shutdown();
    // The two in-flight keys finished before shutdown resolved; nothing else started.
    expect(Date.now() - t0).to.be.at.least(40);
    expect(finished.sort()).to.deep.equal(["a", "b"]);
    await sleep(30);
    expect(started.sort()).to.deep.equal(["a", "b"]);
    q.add("e");
    expect(q.length).to.equal(0);
    expect(await q.next()).to.equal(undefined);
  });

  it("a handler that throws does not kill its worker", async () => {
    const q = new WorkQueue();
    const errors: string[] = [];
    const seen: string[] = [];
    q.start(async (k) => { seen.push(k); if (k === "bad") throw new Error("boom"); }, (k) => errors.push(k));
    q.add("bad"); q.add("good");
    await until(() => seen.length === 2);
    expect(errors).to.deep.equal(["bad"]);
    await q.shutdown();
  });

  it("rejects nonsense options with a clear error", () => {
    expect(() => new WorkQueue({ concurrency: 0 })).to.throw(/concurrency/);
    expect(() => new WorkQueue({ baseDelayMs: 10, maxDelayMs: 5 })).to.throw(/baseDelayMs/);
  });
});

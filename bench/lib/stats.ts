// Small numeric helpers the benchmarks share: a seeded PRNG and nearest-rank percentiles.

/** mulberry32: a small seeded PRNG (uniform in [0, 1)), so a run is the same for the same seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The p-th percentile by nearest rank (NaN for no samples). */
export function pct(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function dist(xs: readonly number[]): { p50: number; p95: number; p99: number; n: number } {
  return { p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99), n: xs.length };
}

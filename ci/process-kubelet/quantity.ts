// Resource quantities ("500m", "2Gi", "1e3") as plain numbers, for downward-API resource fields.

const suffixes: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity in base units (cores, bytes); throws naming `what` on bad input. */
export function parseQuantity(q: string | number, what: string): number {
  if (typeof q === "number") return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(q.trim());
  if (!m) throw new Error(`${what}: ${JSON.stringify(q)} is not a valid quantity (e.g. 500m, 2, 1Gi)`);
  const base = Number(m[1]);
  if (m[2]) return Number(m[1] + m[2]);
  return base * suffixes[m[3] ?? ""]!;
}

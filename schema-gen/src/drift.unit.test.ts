// Generated files are committed; this regenerates them in memory and fails when any differs, so
// a type change without `npm run generate` cannot slip through.
import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CRD_DIR, generateAll, repoRoot } from "./generate.ts";

/** The first line where two texts differ, for a message a human can act on. */
function firstDifference(committed: string, fresh: string): string {
  const a = committed.split("\n");
  const b = fresh.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: committed ${JSON.stringify(a[i] ?? "<end>")}, generated ${JSON.stringify(b[i] ?? "<end>")}`;
  }
  return "identical";
}

describe("generated files match the types (drift)", function () {
  this.timeout(60_000);

  it("every generated file on disk equals a fresh generation", () => {
    const fresh = generateAll();
    const problems: string[] = [];
    for (const [rel, text] of fresh) {
      const p = join(repoRoot, rel);
      if (!existsSync(p)) { problems.push(`${rel}: missing`); continue; }
      const committed = readFileSync(p, "utf8");
      if (committed !== text) problems.push(`${rel}: ${firstDifference(committed, text)}`);
    }
    for (const f of readdirSync(join(repoRoot, CRD_DIR))) {
      if (!fresh.has(`${CRD_DIR}/${f}`)) problems.push(`${CRD_DIR}/${f}: not generated any more (delete it)`);
    }
    if (problems.length > 0) expect.fail(`generated files are out of date; run \`npm run generate\`:\n  ${problems.join("\n  ")}`);
  });
});

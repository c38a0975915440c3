// Golden files for rendered objects: the test compares the YAML a render function produces with a
// committed file, so every change to a Deployment or Role shows up in review as a diff.
// UPDATE_GOLDEN=1 rewrites the files instead of comparing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";

export function expectGolden(path: string, value: unknown): void {
  const text = stringify(value, { lineWidth: 0, sortMapEntries: false });
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path)) throw new Error(`golden file ${path} is missing; run the test with UPDATE_GOLDEN=1 to create it`);
  expect(text, `rendered output differs from ${path} (UPDATE_GOLDEN=1 rewrites it; review the diff)`).to.equal(readFileSync(path, "utf8"));
}

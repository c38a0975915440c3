// The controller that tests, the e2e environment, the benchmark and the demo run: the compiled
// controller/dist/main.js (`npm run build`; `npm test` and ci/run-tests build it first), the same
// JavaScript the image ships, never the TypeScript sources.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SOURCES = join(repoRoot, "controller/src");

/** The compiled entry point, `node controller/dist/main.js --role operator|sidecar [flags]`. */
export const CONTROLLER_MAIN = join(repoRoot, "controller/dist/main.js");

/** Node's flags in the image's ENTRYPOINT (ci/image/controller-config.json; a unit test keeps them equal):
 *  a 1 MB young generation keeps the controller's memory near its live data instead of growing by
 *  tens of MB during bursts, Maglev as the top JIT tier (no TurboFan) leaves ~5 MiB of the
 *  node binary's compiler code untouched at no measured CPU cost, and a 1.2x old-generation growth
 *  between full GCs keeps a burst's garbage from lifting the peak RSS by ~25 MiB (docs/performance.md). */
export const CONTROLLER_NODE_FLAGS = ["--max-semi-space-size=1", "--max-opt=2", "--heap-growing-percent=20"];

function newestSource(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: dir, mtimeMs: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    const n = e.isDirectory() ? newestSource(path) : { path, mtimeMs: statSync(path).mtimeMs };
    if (n.mtimeMs > newest.mtimeMs) newest = n;
  }
  return newest;
}

/** CONTROLLER_MAIN, after checking it exists and is not older than any file in controller/src. */
export function builtControllerMain(): string {
  if (!existsSync(CONTROLLER_MAIN)) throw new Error(`${CONTROLLER_MAIN} is missing: run npm run build first`);
  const src = newestSource(SOURCES);
  if (src.mtimeMs > statSync(CONTROLLER_MAIN).mtimeMs) {
    throw new Error(`${CONTROLLER_MAIN} is older than ${src.path}: run npm run build first`);
  }
  return CONTROLLER_MAIN;
}

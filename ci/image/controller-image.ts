// The controller image for tests, the e2e and the demo: ci/image/build-controller.sh builds it
// (or finds it cached by input digest) and this reads what it wrote.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");

export interface ControllerImage {
  /** The build's output directory: oci/, image.tar, sbom.cdx.json, digest, ref. */
  dir: string;
  layout: string;
  digest: string;
  /** ghcr.io/elastic-jupyter/controller:<version>@sha256:... : what a chart names, by digest. */
  ref: string;
}

export function controllerImage(): ControllerImage {
  const dir = execFileSync(join(repoRoot, "ci/image/build-controller.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
  const read = (f: string): string => readFileSync(join(dir, f), "utf8").trim();
  return { dir, layout: join(dir, "oci"), digest: read("digest"), ref: read("ref") };
}

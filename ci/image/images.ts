// The project's images for tests, the e2e and the demo: ci/image/build-image.sh builds each (or
// finds it cached by input digest) and this reads what it wrote.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const repoRoot = resolve(import.meta.dirname, "../..");

export type ImageName = "controller" | "gateway";

export interface BuiltImage {
  /** The build's output directory: oci/, image.tar, sbom.cdx.json, digest, ref. */
  dir: string;
  layout: string;
  digest: string;
  /** e.g. ghcr.io/elastic-jupyter/controller:<version>@sha256:... : what a chart names, by digest. */
  ref: string;
  /** The ref without the digest (repository:tag), and its parts, as a chart's image values take them. */
  repository: string;
  tag: string;
}
/** The name the tests used before the gateway image existed. */
export type ControllerImage = BuiltImage;

export function builtImage(name: ImageName): BuiltImage {
  const dir = execFileSync(join(repoRoot, "ci/image/build-image.sh"), [name], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
  const read = (f: string): string => readFileSync(join(dir, f), "utf8").trim();
  const ref = read("ref");
  const m = /^(.+):([^:@/]+)@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m) throw new Error(`${dir}/ref: ${JSON.stringify(ref)} is not repository:tag@sha256:...`);
  return { dir, layout: join(dir, "oci"), digest: read("digest"), ref, repository: m[1]!, tag: m[2]! };
}

export function controllerImage(): BuiltImage { return builtImage("controller"); }
export function gatewayImage(): BuiltImage { return builtImage("gateway"); }

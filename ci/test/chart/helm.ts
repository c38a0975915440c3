// Helpers for the chart tests: the pinned Helm 3 and Helm 4 binaries, the two charts, and helm
// commands against the test cluster (never the user's kubeconfig).
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { repoRoot, run, testCluster, type RunResult } from "../cluster.ts";

const versions = Object.fromEntries(readFileSync(join(repoRoot, "ci/versions.env"), "utf8").split("\n")
  .map((l) => /^(\w+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
const cache = process.env.EJ_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "elastic-jupyter");

/** The pinned helm binaries, where ci/lib.sh (helm3_bin, helm4_bin) puts them. */
export const HELMS: Record<"helm3" | "helm4", string> = {
  helm3: join(cache, `helm-${versions.HELM3_VERSION}`, "bin/helm"),
  helm4: join(cache, `helm-${versions.HELM4_VERSION}`, "bin/helm"),
};

/** The version of the local API server: `helm template` must not fall back to its built-in default. */
export const KUBE_VERSION = versions.KUBERNETES_VERSION!.replace(/^v/, "");

export const OPERATOR_CHART = join(repoRoot, "charts/elastic-jupyter-operator");
export const TEAM_CHART = join(repoRoot, "charts/elastic-jupyter");
export const EXAMPLES = join(repoRoot, "examples/values");

/** Team-chart example values files (examples/values/*.yaml), by name. */
export function teamExamples(): string[] {
  return readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).sort();
}
/** Operator-chart example values files (examples/values/operator/*.yaml). */
export function operatorExamples(): string[] {
  return readdirSync(join(EXAMPLES, "operator")).filter((f) => f.endsWith(".yaml")).sort();
}

/** helm against the test cluster. */
export function helm(bin: string, args: string[], timeoutMs = 240_000): Promise<RunResult> {
  return run(bin, [...args, "--kubeconfig", testCluster.kubeconfig], { timeoutMs });
}

export async function helmOk(bin: string, args: string[]): Promise<string> {
  const r = await helm(bin, args);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return r.stdout;
}

/** `helm template` of a chart into namespace ns; returns the manifest text. */
export async function template(bin: string, chart: string, ns: string, valuesFiles: string[] = [], extra: string[] = []): Promise<string> {
  const r = await run(bin, ["template", "t", chart, "--namespace", ns, "--kube-version", KUBE_VERSION,
    ...valuesFiles.flatMap((f) => ["-f", f]), ...extra]);
  if (r.code !== 0) throw new Error(`helm template ${chart} failed: ${r.stderr}`);
  return r.stdout;
}

/** The objects of a multi-document manifest. */
export function objects(manifest: string): any[] {
  return parseAllDocuments(manifest).map((d) => d.toJS()).filter((o) => o && typeof o === "object");
}

/**
 * Installs the operator chart in ns (waiting for its Deployment). --take-ownership: the CRDs it
 * keeps across uninstalls may belong to an earlier release (or to other suites' kubectl apply).
 */
export async function installOperator(bin: string, release: string, ns: string, extra: string[] = []): Promise<string> {
  return helmOk(bin, ["install", release, OPERATOR_CHART, "--namespace", ns, "--wait", "--timeout", "120s", "--take-ownership", ...extra]);
}

/** A copy of a chart with every symlink resolved, so editing it never touches the repository. */
export function copyChart(chart: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "ej-chart-")), "chart");
  // cp -L: node's cpSync({dereference}) keeps nested symlinks (files/crds) as links.
  execFileSync("cp", ["-RL", chart, dir]);
  const links = execFileSync("find", [dir, "-type", "l"], { encoding: "utf8" }).trim();
  if (links) throw new Error(`copyChart: symlinks left in ${dir}: ${links}`);
  return dir;
}


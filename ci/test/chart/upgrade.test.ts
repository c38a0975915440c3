// Upgrading the operator chart from the previous version: users' custom resources survive, the
// CRDs gain the new version's fields, and uninstalling leaves CRDs and resources in place.
//
// The previous version is the real one: chart 0.2.0 as it landed (PREVIOUS.commit), taken from
// git history, whose CRDs lack this version's fields (JupyterKernelSpec spec.allowedImages and
// spec.nodeSelector, JupyterGateway spec.allowedNamespaces).
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { freshNamespace, getJson, kubectl, kubectlOk, repoRoot } from "../cluster.ts";
import { HELMS, OPERATOR_CHART, copyChart, helm, helmOk } from "./helm.ts";

/** The previous release of the operator chart: its version and the commit it landed as. */
const PREVIOUS = { version: "0.2.0", commit: "129c0d71a890f13e997b6dd446bd33f439a620ff" };
const CURRENT_VERSION = (parseDocument(readFileSync(join(OPERATOR_CHART, "Chart.yaml"), "utf8")).toJS() as { version: string }).version;

/** The previous operator chart, exactly as committed then (symlinks resolved, outside the repository). */
function previousChart(): string {
  const dir = mkdtempSync(join(tmpdir(), "ej-previous-"));
  execFileSync("sh", ["-c", `git -C "$0" archive --format=tar "$1" charts examples | tar -x -C "$2"`, repoRoot, PREVIOUS.commit, dir]);
  const chart = copyChart(join(dir, "charts/elastic-jupyter-operator"));
  if (realpathSync(chart).startsWith(repoRoot)) throw new Error(`${chart} resolves into the repository`);
  return chart;
}

/** PUTs the chart's CRD schema for each plural over the live CRD (keeping its metadata). */
async function replaceCrdSchemas(chartDir: string, plurals: string[]): Promise<void> {
  const dir = join(chartDir, "files/crds");
  for (const plural of plurals) {
    const file = readdirSync(dir).find((f) => f.startsWith(`${plural}.`))!;
    const wanted = parseDocument(readFileSync(join(dir, file), "utf8")).toJS();
    const live = await getJson(["get", "crd", `${plural}.kubeflow.tkestack.io`]);
    live.spec.versions = wanted.spec.versions;
    await kubectlOk(["replace", "-f", "-"], JSON.stringify(live));
  }
}

async function specProperties(plural: string): Promise<string[]> {
  const crd = await getJson(["get", "crd", `${plural}.kubeflow.tkestack.io`]);
  return Object.keys(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties);
}

const userResources = (ns: string) => `
apiVersion: kubeflow.tkestack.io/v1alpha1
kind: JupyterKernelSpec
metadata: {name: users-python, namespace: ${ns}}
spec: {language: python, image: example.com/kernel-py:1}
---
apiVersion: kubeflow.tkestack.io/v1alpha1
kind: JupyterGateway
metadata: {name: users-gateway, namespace: ${ns}}
spec: {kernels: [users-python], cullIdleTimeout: 600}
---
apiVersion: kubeflow.tkestack.io/v1alpha1
kind: JupyterKernel
metadata: {name: users-kernel, namespace: ${ns}}
spec: {kernelId: 0b5e4c3e-2f0a-4a51-9d6e-5a3c1c1d2e3f, kernelSpec: {name: users-python}}
`;

const newKernelSpec = (ns: string) => `
apiVersion: kubeflow.tkestack.io/v1alpha1
kind: JupyterKernelSpec
metadata: {name: users-a100, namespace: ${ns}}
spec: {language: python, image: example.com/kernel-py:1, allowedImages: ["example.com/*"], nodeSelector: {gpu: a100}}
`;

async function uids(ns: string): Promise<Record<string, string>> {
  const list = await getJson(["get", "jupyterkernelspecs,jupytergateways,jupyterkernels", "-n", ns]);
  return Object.fromEntries(list.items.map((o: any) => [`${o.kind}/${o.metadata.name}`, o.metadata.uid]));
}

describe("operator chart upgrade from the previous version", function () {
  this.timeout(600_000);

  for (const [name, bin] of Object.entries(HELMS)) {
    it(`${name}: keeps users' resources, adds the new CRD fields, and uninstall keeps both`, async () => {
      const previous = previousChart();
      const ns = await freshNamespace(`chart-upgrade-${name}`);
      const release = `upgrade-${name}`;
      try {
        // The previous version, over whatever CRDs exist (taking them over, as docs/install.md says).
        await helmOk(bin, ["install", release, previous, "-n", ns, "--wait", "--timeout", "120s", "--take-ownership"]);
        // Helm 4 applies server-side, and fields another field manager co-owns (other suites
        // kubectl-apply the CRDs) survive such an apply: make the live CRDs exactly the previous ones.
        await replaceCrdSchemas(previous, ["jupyterkernelspecs", "jupytergateways"]);
        expect(await specProperties("jupyterkernelspecs")).to.not.include.members(["allowedImages", "nodeSelector"]);
        expect(await specProperties("jupytergateways")).to.not.include("allowedNamespaces");

        await kubectlOk(["apply", "-f", "-"], userResources(ns));
        const before = await uids(ns);
        expect(Object.keys(before)).to.have.length(3);
        const rejected = await kubectl(["apply", "--validate=strict", "-f", "-"], newKernelSpec(ns));
        expect(rejected.code, `${PREVIOUS.version} has no spec.allowedImages`).to.not.equal(0);
        expect(rejected.stderr).to.match(/unknown field "spec.allowedImages"/);

        await helmOk(bin, ["upgrade", release, OPERATOR_CHART, "-n", ns, "--wait", "--timeout", "120s"]);
        const history = await helmOk(bin, ["history", release, "-n", ns, "-o", "json"]);
        expect(JSON.parse(history).map((h: any) => h.chart)).to.deep.equal([`elastic-jupyter-operator-${PREVIOUS.version}`, `elastic-jupyter-operator-${CURRENT_VERSION}`]);
        expect(CURRENT_VERSION).to.not.equal(PREVIOUS.version);
        expect(await specProperties("jupyterkernelspecs")).to.include.members(["allowedImages", "nodeSelector"]);
        expect(await specProperties("jupytergateways")).to.include("allowedNamespaces");
        expect(await uids(ns), "users' resources are the same objects").to.deep.equal(before);
        await kubectlOk(["apply", "--validate=strict", "-f", "-"], newKernelSpec(ns));
        const a100 = await getJson(["get", "jupyterkernelspec", "users-a100", "-n", ns]);
        expect(a100.spec.allowedImages).to.deep.equal(["example.com/*"]);

        await helmOk(bin, ["uninstall", release, "-n", ns, "--wait"]);
        const crds = await kubectlOk(["get", "crd", "-o", "name"]);
        for (const plural of ["jupytergateways", "jupyternotebooks", "jupyterkernels", "jupyterkernelspecs", "jupyterkerneltemplates"]) {
          expect(crds, "CRDs are kept on uninstall").to.include(`customresourcedefinition.apiextensions.k8s.io/${plural}.kubeflow.tkestack.io`);
        }
        const after = await uids(ns);
        expect(after, "users' resources survive uninstall").to.deep.include(before);
      } finally {
        await helm(bin, ["uninstall", release, "-n", ns, "--wait"]);
        await kubectl(["delete", "jupyterkernels,jupytergateways,jupyterkernelspecs", "--all", "-n", ns, "--wait=false"]);
        await kubectl(["delete", "namespace", ns, "--wait=false"]);
      }
    });
  }
});

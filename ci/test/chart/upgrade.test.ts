// Upgrading the operator chart from the previous version: users' custom resources survive, the
// CRDs gain the new version's fields, and uninstalling leaves CRDs and resources in place.
//
// The previous version: no earlier release of this chart installed CRDs (0.1.0 was a skeleton),
// so the test derives it from the current chart: version 0.1.0, with CRDs that lack fields this
// version has (JupyterKernelSpec spec.gpu and spec.cullIdleTimeout, JupyterGateway spec.sidecar).
// What is exercised is real: Helm upgrading CRD templates on the API server, and the keep policy.
// Once a release with CRD templates exists, derive the previous chart from its git tag instead.
import { expect } from "chai";
import { readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { freshNamespace, getJson, kubectl, kubectlOk, repoRoot } from "../cluster.ts";
import { HELMS, OPERATOR_CHART, copyChart, helm, helmOk, setChartVersion } from "./helm.ts";

/** Removes spec.properties.<field> from the chart copy's CRD file for `plural`. */
function dropSpecFields(chartDir: string, plural: string, fields: string[]): void {
  const dir = join(chartDir, "files/crds");
  const file = readdirSync(dir).find((f) => f.startsWith(`${plural}.`))!;
  // Never edit the generated CRDs of the repository (a symlinked copy would).
  if (realpathSync(join(dir, file)).startsWith(repoRoot)) throw new Error(`${join(dir, file)} resolves into the repository`);
  const doc = parseDocument(readFileSync(join(dir, file), "utf8"));
  for (const f of fields) {
    const path = ["spec", "versions", 0, "schema", "openAPIV3Schema", "properties", "spec", "properties", f];
    if (!doc.hasIn(path)) throw new Error(`${file}: no ${f} to drop`);
    doc.deleteIn(path);
  }
  writeFileSync(join(dir, file), doc.toString({ lineWidth: 0 }));
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

const gpuKernelSpec = (ns: string) => `
apiVersion: kubeflow.tkestack.io/v1alpha1
kind: JupyterKernelSpec
metadata: {name: users-gpu, namespace: ${ns}}
spec: {language: python, image: example.com/kernel-py:1, gpu: {count: 1, max: 2}}
`;

async function uids(ns: string): Promise<Record<string, string>> {
  const list = await getJson(["get", "jupyterkernelspecs,jupytergateways,jupyterkernels", "-n", ns]);
  return Object.fromEntries(list.items.map((o: any) => [`${o.kind}/${o.metadata.name}`, o.metadata.uid]));
}

describe("operator chart upgrade from the previous version", function () {
  this.timeout(600_000);

  for (const [name, bin] of Object.entries(HELMS)) {
    it(`${name}: keeps users' resources, adds the new CRD fields, and uninstall keeps both`, async () => {
      const previous = copyChart(OPERATOR_CHART);
      setChartVersion(previous, "0.1.0");
      dropSpecFields(previous, "jupyterkernelspecs", ["gpu", "cullIdleTimeout"]);
      dropSpecFields(previous, "jupytergateways", ["sidecar"]);
      const ns = await freshNamespace(`chart-upgrade-${name}`);
      const release = `upgrade-${name}`;
      try {
        // The previous version, over whatever CRDs exist (taking them over, as docs/install.md says).
        await helmOk(bin, ["install", release, previous, "-n", ns, "--wait", "--timeout", "120s", "--take-ownership"]);
        // Helm 4 applies server-side, and fields another field manager co-owns (other suites
        // kubectl-apply the CRDs) survive such an apply: make the live CRDs exactly 0.1.0's.
        await replaceCrdSchemas(previous, ["jupyterkernelspecs", "jupytergateways"]);
        expect(await specProperties("jupyterkernelspecs")).to.not.include.members(["gpu"]);
        expect(await specProperties("jupytergateways")).to.not.include("sidecar");

        await kubectlOk(["apply", "-f", "-"], userResources(ns));
        const before = await uids(ns);
        expect(Object.keys(before)).to.have.length(3);
        const rejected = await kubectl(["apply", "--validate=strict", "-f", "-"], gpuKernelSpec(ns));
        expect(rejected.code, "0.1.0 has no spec.gpu").to.not.equal(0);
        expect(rejected.stderr).to.match(/unknown field "spec.gpu"/);

        await helmOk(bin, ["upgrade", release, OPERATOR_CHART, "-n", ns, "--wait", "--timeout", "120s"]);
        const history = await helmOk(bin, ["history", release, "-n", ns, "-o", "json"]);
        expect(JSON.parse(history).map((h: any) => h.chart)).to.deep.equal(["elastic-jupyter-operator-0.1.0", "elastic-jupyter-operator-0.2.0"]);
        expect(await specProperties("jupyterkernelspecs")).to.include.members(["gpu", "cullIdleTimeout"]);
        expect(await specProperties("jupytergateways")).to.include("sidecar");
        expect(await uids(ns), "users' resources are the same objects").to.deep.equal(before);
        await kubectlOk(["apply", "--validate=strict", "-f", "-"], gpuKernelSpec(ns));
        const gpu = await getJson(["get", "jupyterkernelspec", "users-gpu", "-n", ns]);
        // The new schema is in force: it even defaults resourceName.
        expect(gpu.spec.gpu).to.deep.equal({ count: 1, max: 2, resourceName: "nvidia.com/gpu" });

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

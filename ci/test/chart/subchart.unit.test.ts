// The team chart as a subchart of a platform team's own chart: `enabled` is its condition, and
// `global` is open (a parent's globals never fail it) with the common keys it reads
// (imageRegistry, imagePullSecrets). `helm dependency build` from a file:// repository, then
// `helm template` of the parent, on Helm 3 and Helm 4.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { HELMS, TEAM_CHART, copyChart, objects, template } from "./helm.ts";

function parentChart(bin: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "ej-parent-")), "platform");
  mkdirSync(join(dir, "templates"), { recursive: true });
  writeFileSync(join(dir, "Chart.yaml"), stringify({
    apiVersion: "v2", name: "platform", version: "1.0.0",
    dependencies: [{ name: "elastic-jupyter", alias: "jupyter", version: "*", repository: `file://${copyChart(TEAM_CHART)}`, condition: "jupyter.enabled" }],
  }));
  writeFileSync(join(dir, "values.yaml"), stringify({
    global: { imageRegistry: "mirror.example.com", imagePullSecrets: [{ name: "platform-pull" }], storageClass: "fast", platformTeam: { owner: "ml" } },
    jupyter: { notebooks: [{ name: "nb" }] },
  }));
  execFileSync(bin, ["dependency", "build", dir], { stdio: "pipe" });
  return dir;
}

describe("team chart as a subchart", function () {
  this.timeout(60_000);
  for (const [name, bin] of Object.entries(HELMS)) {
    it(`${name}: renders under a parent with its own globals; the parent's globals reach the team chart's pods; enabled=false renders none of it`, async () => {
      const parent = parentChart(bin);
      const objs = objects(await template(bin, parent, "ml"));
      const gw = objs.find((o) => o.kind === "JupyterGateway");
      expect(gw.spec.image).to.match(/^mirror\.example\.com\/elastic-jupyter\/enterprise-gateway:/);
      const nb = objs.find((o) => o.kind === "JupyterNotebook" && o.metadata.name === "nb");
      expect(nb.spec.template.spec.imagePullSecrets).to.deep.equal([{ name: "platform-pull" }]);
      for (const ks of objs.filter((o) => o.kind === "JupyterKernelSpec")) {
        expect(ks.spec.imagePullSecrets, ks.metadata.name).to.deep.equal([{ name: "platform-pull" }]);
        expect(ks.spec.image, ks.metadata.name).to.match(/^mirror\.example\.com\//);
      }
      const off = objects(await template(bin, parent, "ml", [], ["--set", "jupyter.enabled=false"]));
      expect(off.filter((o) => o.apiVersion?.startsWith("kubeflow.tkestack.io"))).to.deep.equal([]);
    });
  }
});

// The team chart's NOTES.txt says, at install time, what will not work as a platform team would
// expect. Helm renders NOTES only on install, so this renders them from a copy of the chart in
// which a ConfigMap carries the same template text.
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { HELMS, TEAM_CHART, copyChart, objects, template } from "./helm.ts";

async function notes(values: object): Promise<string> {
  const chart = copyChart(TEAM_CHART);
  writeFileSync(join(chart, "templates/_notes.tpl"), `{{- define "notes" }}${readFileSync(join(chart, "templates/NOTES.txt"), "utf8")}{{- end }}`);
  writeFileSync(join(chart, "templates/notes-cm.yaml"), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: |\n{{ include "notes" . | indent 4 }}\n');
  const file = join(mkdtempSync(join(tmpdir(), "ej-notes-")), "values.yaml");
  writeFileSync(file, stringify(values));
  const cm = objects(await template(HELMS.helm3, chart, "team-a", [file])).find((o) => o.kind === "ConfigMap" && o.metadata.name === "notes");
  return cm.data.notes as string;
}

describe("team chart NOTES: what will not work is said at install", function () {
  this.timeout(30_000);

  it("says nothing alarming for the defaults", async () => {
    const text = await notes({});
    expect(text).to.not.match(/Warning|Note:/);
    expect(text).to.contain("Kernels (python-kubernetes, python-gpu) run as their own pods");
  });

  it("warns about a GPU kernelspec without its own idle timeout, images outside the mirror, a gateway without auth or NetworkPolicies, a pinned sidecar", async () => {
    const text = await notes({
      global: { imageRegistry: "registry.example.com" },
      gateway: { auth: { mode: "disable" }, sidecar: { image: "ghcr.io/elastic-jupyter/controller:0.1.0" } },
      networkPolicy: { enabled: false },
      kernelSpecs: [
        { name: "gpu-in-limits", language: "python", image: "x/y:1", resources: { limits: { "nvidia.com/gpu": 1 } }, allowedImages: ["docker.io/*", "registry.example.com/team/*"] },
        { name: "gpu-culled", language: "python", image: "x/y:1", gpu: { count: 1 }, cullIdleTimeout: 600 },
      ],
    });
    expect(text).to.contain("kernelspec gpu-in-limits has GPUs but no cullIdleTimeout").and.not.contain("kernelspec gpu-culled has GPUs");
    expect(text).to.contain('matching "docker.io/*", outside\nglobal.imageRegistry registry.example.com').and.not.contain('"registry.example.com/team/*"');
    expect(text).to.contain("gateway.auth.mode is disable").and.contain("networkPolicy.enabled is false");
    expect(text).to.contain("gateway.sidecar.image pins ghcr.io/elastic-jupyter/controller:0.1.0");
  });
});

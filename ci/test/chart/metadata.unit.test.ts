// Every label, annotation and name the charts render is a YAML string. An unquoted template value
// that looks like a number (a release named "1234", a checksum prefix such as "2517633630312654")
// becomes a number, and the API server refuses the whole object: a failure that depends on the
// release name and the files, so CI met it only now and then. Two guards: a convention on the
// template text (a scalar from a template expression is quoted unless it is a number field), and
// renders under numeric-looking release names and namespaces. No cluster (`helm template` only).
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "../cluster.ts";
import { EXAMPLES, HELMS, KUBE_VERSION, OPERATOR_CHART, TEAM_CHART, objects, operatorExamples, teamExamples } from "./helm.ts";

/** Every labels/annotations map in an object, its pod template's, and a CronJob's job template's. */
function metadataMaps(o: any): [string, Record<string, unknown>][] {
  const out: [string, Record<string, unknown>][] = [];
  const visit = (where: string, meta: any) => {
    if (!meta) return;
    for (const key of ["labels", "annotations"] as const) if (meta[key]) out.push([`${where}.${key}`, meta[key]]);
  };
  const name = `${o.kind}/${o.metadata?.name}`;
  visit(`${name} metadata`, o.metadata);
  visit(`${name} spec.template.metadata`, o.spec?.template?.metadata);
  visit(`${name} spec.jobTemplate.metadata`, o.spec?.jobTemplate?.metadata);
  return out;
}

async function render(chart: string, release: string, valuesFile?: string): Promise<any[]> {
  const r = await run(HELMS.helm3, ["template", release, chart, "--namespace", release, "--kube-version", KUBE_VERSION,
    ...(valuesFile ? ["-f", valuesFile] : [])]);
  if (r.code !== 0) throw new Error(`helm template ${release} ${chart} failed: ${r.stderr}`);
  return objects(r.stdout);
}

function expectStringMetadata(objs: any[], context: string): void {
  for (const o of objs) {
    for (const key of ["name", "namespace"] as const) {
      if (key in o.metadata) expect(typeof o.metadata[key], `${context}: ${o.kind} metadata.${key} = ${o.metadata[key]}`).to.equal("string");
    }
    for (const [where, map] of metadataMaps(o)) {
      for (const [k, v] of Object.entries(map)) {
        expect(typeof v, `${context}: ${where}["${k}"] = ${JSON.stringify(v)}`).to.equal("string");
      }
    }
  }
}

/** Fields whose template value is a number; every other `key: {{ expr }}` scalar must be quoted. */
const NUMBER_FIELDS = new Set(["port", "endPort", "containerPort", "replicas", "minAvailable"]);

function templateFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /\.(yaml|tpl)$/.test(f)).map((f) => join(dir, f));
}

describe("chart metadata: every label, annotation and name renders as a string", function () {
  this.timeout(120_000);

  it("template scalars are quoted unless they are numbers", () => {
    const unquoted: string[] = [];
    for (const chart of [OPERATOR_CHART, TEAM_CHART]) {
      for (const file of templateFiles(join(chart, "templates"))) {
        readFileSync(file, "utf8").split("\n").forEach((line, i) => {
          const m = /^\s*(?:- )?([\w./-]+): \{\{-? (.*?) -?\}\}\s*$/.exec(line);
          if (!m || NUMBER_FIELDS.has(m[1]!) || /\|\s*(quote|toYaml|nindent|indent)\b/.test(m[2]!)) return;
          unquoted.push(`${file.slice(chart.length + 1)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(unquoted, "add | quote").to.deep.equal([]);
  });

  it("both charts under numeric-looking release names and namespaces", async () => {
    for (const release of ["1234", "1e10", "0x1f"]) {
      expectStringMetadata(await render(OPERATOR_CHART, release), `operator chart, release ${release}`);
      expectStringMetadata(await render(TEAM_CHART, release), `team chart, release ${release}`);
    }
  });

  it("both charts with every example values file", async () => {
    for (const f of operatorExamples()) expectStringMetadata(await render(OPERATOR_CHART, "ex", join(EXAMPLES, "operator", f)), f);
    for (const f of teamExamples()) expectStringMetadata(await render(TEAM_CHART, "ex", join(EXAMPLES, f)), f);
  });
});

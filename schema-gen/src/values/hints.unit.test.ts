// The values-schema hints on small schemas, and their invariants on both charts' real schemas.
import { expect } from "chai";
import { generateAll } from "../generate.ts";
import type { Schema } from "../postprocess.ts";
import { ANCHOR_HABITS, type AnchorHabit, closedObjects, HINT_MARK, hintsFor, pathText, spellingVariants, valuesSchemaJson, withHints } from "./hints.ts";

const closed = (properties: Schema): Schema => ({ type: "object", additionalProperties: false, properties });
const str = { type: "string" };

/** A values schema shaped like ours: a top level, a section, a list of entries, an open core type. */
const small = closed({
  gateway: closed({ name: str, kernels: { type: "array", items: str }, image: closed({ repository: str, tag: str }) }),
  kernelSpecs: { type: "array", items: closed({ name: str, image: str, gpu: closed({ count: str }), nodeSelector: { type: "object", additionalProperties: str } }) },
  notebooks: { type: "array", items: closed({ name: str, image: str, port: str }) },
  template: { type: "object", properties: { spec: { type: "object", properties: { containers: str } } } },
});

function hintsAt(schema: Schema, path: string, habits: readonly AnchorHabit[] = []): Record<string, string> {
  return Object.fromEntries(hintsFor(schema, habits).get(path) ?? []);
}

describe("values schema hints", () => {
  describe("spellingVariants", () => {
    it("gives lowercase, snake_case, kebab-case and Capitalised, never the key itself", () => {
      expect(spellingVariants("imagePullSecrets")).to.deep.equal(["imagepullsecrets", "image_pull_secrets", "image-pull-secrets", "ImagePullSecrets"]);
      expect(spellingVariants("nonPrivateIPs")).to.include("non_private_ips");
      expect(spellingVariants("name")).to.deep.equal(["Name"]);
    });
  });

  describe("closedObjects", () => {
    it("finds closed objects under properties, list items and union branches, with the paths users write", () => {
      const withUnion = closed({ secrets: { type: "array", items: { anyOf: [str, closed({ name: str })] } } });
      expect(closedObjects(small).map((o) => pathText(o.path))).to.deep.equal(["", "gateway", "gateway.image", "kernelSpecs[]", "kernelSpecs[].gpu", "notebooks[]"]);
      expect(closedObjects(withUnion).map((o) => pathText(o.path))).to.deep.equal(["", "secrets[]"]);
    });
    it("leaves open objects (core types, maps) out: they get no hints", () => {
      const paths = closedObjects(small).map((o) => pathText(o.path));
      expect(paths.filter((p) => p.startsWith("template") || p.includes("nodeSelector"))).to.deep.equal([]);
    });
  });

  describe("hintsFor", () => {
    it("hints spellings of each valid key, never a key valid in that object", () => {
      const root = hintsAt(small, "");
      expect(root.kernelspecs).to.equal(`${HINT_MARK}write kernelSpecs (keys are case-sensitive)`);
      expect(root.kernel_specs).to.equal(`${HINT_MARK}write kernelSpecs (keys are camelCase)`);
      expect(root.Gateway).to.equal(`${HINT_MARK}write gateway (keys are case-sensitive)`);
      for (const o of closedObjects(small)) {
        for (const key of o.keys) expect(hintsAt(small, pathText(o.path)), `${pathText(o.path)}.${key}`).to.not.have.property(key);
      }
    });
    it("hints keys valid elsewhere with every place they are valid", () => {
      expect(hintsAt(small, "").kernels).to.equal(`${HINT_MARK}kernels belongs under gateway`);
      expect(hintsAt(small, "").image).to.equal(`${HINT_MARK}image belongs under gateway, kernelSpecs[], notebooks[]`);
      expect(hintsAt(small, "").count, "two levels too shallow").to.equal(`${HINT_MARK}count belongs under kernelSpecs[].gpu`);
      expect(hintsAt(small, "notebooks[]").gpu, "a like object beside it").to.equal(`${HINT_MARK}gpu belongs under kernelSpecs[]`);
      expect(hintsAt(small, "kernelSpecs[]").port).to.equal(`${HINT_MARK}port belongs under notebooks[]`);
    });
    it("says 'the top level' for a key valid there", () => {
      const s = closed({ imagePullSecrets: str, kernelSpecs: { type: "array", items: closed({ name: str, imagePullSecrets: str }) }, notebooks: { type: "array", items: closed({ name: str, port: str }) } });
      // notebooks[] and kernelSpecs[] share only `name`: not alike enough to hint each other's keys.
      expect(hintsAt(s, "notebooks[]")).to.not.have.property("imagePullSecrets");
      const alike = closed({ imagePullSecrets: str, kernelSpecs: { type: "array", items: closed({ name: str, image: str, imagePullSecrets: str }) }, notebooks: { type: "array", items: closed({ name: str, image: str }) } });
      expect(hintsAt(alike, "notebooks[]").imagePullSecrets).to.equal(`${HINT_MARK}imagePullSecrets belongs at the top level or under kernelSpecs[]`);
    });
    it("leaves out places nobody mistakes: unlike neighbours and objects below the key's place", () => {
      expect(hintsAt(small, "gateway.image"), "kernels is valid above, not here").to.not.have.property("kernels");
      expect(hintsAt(small, "kernelSpecs[].gpu")).to.not.have.property("port");
      expect(hintsAt(small, "gateway.image"), "not beside kernelSpecs[].gpu").to.not.have.property("count");
      const unlike = closed({ a: closed({ x: str, y: str }), b: closed({ x: str, z: str }) });
      const like = closed({ a: closed({ x: str, y: str }), b: closed({ x: str, y: str, z: str }) });
      expect(hintsAt(unlike, "a"), "one key in common").to.not.have.property("z");
      expect(hintsAt(like, "a").z, "two keys in common").to.equal(`${HINT_MARK}z belongs under b`);
    });
    it("gives another chart's habit first, and only where the schema has every path it names", () => {
      const habits: AnchorHabit[] = [
        { from: "Enterprise Gateway", at: "", key: "kernelspecs", hint: "write kernelSpecs, each naming its image", refers: ["kernelSpecs[].image"] },
        { from: "zero-to-jupyterhub", at: "", key: "singleuser", hint: "write notebooks", refers: ["notebooks[]"] },
        { from: "zero-to-jupyterhub", at: "", key: "hub", hint: "none", refers: ["hub.config"] },
        { from: "zero-to-jupyterhub", at: "gateway", key: "kernels", hint: "valid here, so never a hint", refers: [] },
      ];
      const root = hintsAt(small, "", habits);
      expect(root.kernelspecs, "before the spelling hint").to.equal(`${HINT_MARK}write kernelSpecs, each naming its image`);
      expect(root.singleuser).to.equal(`${HINT_MARK}write notebooks`);
      expect(root).to.not.have.property("hub");
      expect(hintsAt(small, "gateway", habits)).to.not.have.property("kernels");
    });
    it("refuses two habits for one key and two closed objects at one path", () => {
      const twice: AnchorHabit[] = [0, 1].map(() => ({ from: "zero-to-jupyterhub", at: "", key: "hub", hint: "none", refers: [] }));
      expect(() => hintsFor(small, twice)).to.throw(/two habits hint hub/);
      expect(() => hintsFor(closed({ a: { anyOf: [closed({ x: str }), closed({ y: str })] } }))).to.throw(/two closed objects at a/);
    });
  });

  describe("withHints and valuesSchemaJson", () => {
    it("adds the hints as draft-07 dependencies, leaving the input and open objects alone", () => {
      const before = JSON.stringify(small);
      const s = withHints(small, []);
      expect(JSON.stringify(small)).to.equal(before);
      expect(s.dependencies.kernelspecs).to.deep.equal([`${HINT_MARK}write kernelSpecs (keys are case-sensitive)`]);
      expect(s.properties.kernelSpecs.items.properties.nodeSelector).to.not.have.property("dependencies");
      expect(s.properties.template).to.not.have.property("dependencies");
      expect(Object.keys(s.dependencies)).to.deep.equal([...Object.keys(s.dependencies)].sort());
    });
    it("writes each hint on one line and the rest as JSON.stringify does", () => {
      const s = withHints(small, []);
      const text = valuesSchemaJson(s);
      expect(JSON.parse(text)).to.deep.equal(s);
      expect(text).to.include(`"kernelspecs": ["${HINT_MARK}write kernelSpecs (keys are case-sensitive)"]`);
      expect(valuesSchemaJson({ required: ["a"] })).to.equal(`${JSON.stringify({ required: ["a"] }, null, 2)}\n`);
    });
  });

  describe("both charts' generated schemas", function () {
    this.timeout(60_000);
    const files = generateAll();
    const schemas = Object.fromEntries(["charts/elastic-jupyter", "charts/elastic-jupyter-operator"]
      .map((dir) => [dir, JSON.parse(files.get(`${dir}/values.schema.json`)!) as Schema]));

    it("hint every closed object, and nothing else", () => {
      for (const [dir, schema] of Object.entries(schemas)) {
        const closedNodes = new Set(closedObjects(schema).map((o) => o.node));
        const visit = (node: Schema, where: string): void => {
          if (!node || typeof node !== "object") return;
          if (node.dependencies !== undefined) expect(closedNodes.has(node), `${dir} ${where}: dependencies on an open object`).to.equal(true);
          for (const [k, v] of Object.entries(node)) if (k !== "dependencies") visit(v as Schema, `${where}/${k}`);
        };
        visit(schema, "");
        for (const o of closedObjects(schema)) expect(o.node.dependencies, `${dir} ${pathText(o.path)}`).to.be.an("object");
      }
    });

    it("hints only refused keys, each with one hint Helm prints as written (no quotes)", () => {
      for (const [dir, schema] of Object.entries(schemas)) {
        for (const o of closedObjects(schema)) {
          for (const [key, hints] of Object.entries((o.node.dependencies ?? {}) as Record<string, string[]>)) {
            const where = `${dir} ${pathText(o.path)}.${key}`;
            expect(o.keys, where).to.not.include(key);
            expect(hints, where).to.have.length(1);
            expect(hints[0]!.startsWith(HINT_MARK), where).to.equal(true);
            expect(hints[0], where).to.not.match(/['"]/);
          }
        }
      }
    });

    it("name what to write for the keys the issue met (kernelspecs, z2jh and EG chart keys)", () => {
      const team = schemas["charts/elastic-jupyter"]!;
      expect(team.dependencies.kernelspecs[0]).to.match(/^→ write kernelSpecs \(keys are case-sensitive\)/);
      expect(team.dependencies.singleuser[0]).to.include("notebooks");
      expect(team.dependencies.kernel[0]).to.include("gateway");
      expect(team.dependencies.logLevel[0]).to.equal("→ logLevel belongs under gateway");
      expect(team.properties.kernelSpecs.items.dependencies.display_name[0]).to.equal("→ write displayName (keys are camelCase)");
      expect(team.properties.kernelSpecs.items.dependencies.kip, "only where platform teams write it").to.equal(undefined);
    });

    it("honour every anchor habit in a chart that has its place and its paths", () => {
      const honoured = new Set<AnchorHabit>();
      for (const schema of Object.values(schemas)) {
        const hints = hintsFor(schema);
        for (const h of ANCHOR_HABITS) if (hints.get(h.at)?.get(h.key) === `${HINT_MARK}${h.hint}`) honoured.add(h);
      }
      // A habit whose place is open (a `global` opened for subcharts) needs no hint; any other unhonoured habit names a path we renamed.
      const sites = new Set(Object.values(schemas).flatMap((s) => closedObjects(s).map((o) => pathText(o.path))));
      const stale = ANCHOR_HABITS.filter((h) => !honoured.has(h) && sites.has(h.at));
      expect(stale.map((h) => `${h.at || "<root>"}.${h.key}: ${h.refers.join(", ")}`), "habits naming paths no chart has").to.deep.equal([]);
    });

    it("stay a fraction of the schema", () => {
      for (const dir of Object.keys(schemas)) {
        const text = files.get(`${dir}/values.schema.json`)!;
        const hintLines = text.split("\n").filter((l) => l.includes(`["${HINT_MARK}`)).length;
        expect(hintLines / text.split("\n").length, dir).to.be.below(0.35);
      }
    });
  });
});

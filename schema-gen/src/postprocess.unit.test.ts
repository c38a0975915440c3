// The post-processing rules on small inputs, and the structural invariants on the real output.
import { expect } from "chai";
import { parse } from "yaml";
import { CRD_DIR, generateAll } from "./generate.ts";
import { QUANTITY_PATTERN, type Schema, toStructural, toValuesSchema } from "./postprocess.ts";

/** Every schema node below `s`, with its path. */
function* nodes(s: Schema, path = ""): Generator<[string, Schema]> {
  yield [path, s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* nodes(v as Schema, `${path}.${k}`);
  if (s.items) yield* nodes(s.items, `${path}[*]`);
  if (typeof s.additionalProperties === "object") yield* nodes(s.additionalProperties, `${path}{*}`);
  for (const a of s.anyOf ?? []) yield* nodes(a, `${path}<anyOf>`);
}

describe("postprocess", function () {
  this.timeout(60_000);

  describe("toStructural", () => {
    it("turns number|string into int-or-string and const into enum", () => {
      const s = toStructural({ type: "object", properties: { port: { type: ["number", "string"] }, kind: { type: "string", const: "X" } } });
      expect(s.properties.port).to.deep.equal({ anyOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true });
      expect(s.properties.kind).to.deep.equal({ enum: ["X"], type: "string" });
    });
    it("recognises quantities and gives them the quantity pattern", () => {
      const s = toStructural({ type: "object", additionalProperties: { type: "string", description: "Quantity is a fixed-point representation of a number. ..." } });
      expect(s.additionalProperties.pattern).to.equal(QUANTITY_PATTERN);
      expect(s.additionalProperties["x-kubernetes-int-or-string"]).to.equal(true);
    });
    it("drops additionalProperties:false and descriptions inside core types, keeps ours", () => {
      const s = toStructural({ type: "object", additionalProperties: false, properties: {
        ours: { type: "object", description: "ours", coreType: "core/v1.Thing", additionalProperties: false, properties: { theirs: { type: "string", description: "theirs" } } },
      } });
      expect(s).to.not.have.property("additionalProperties");
      expect(s.properties.ours.description).to.equal("ours");
      expect(s.properties.ours.properties.theirs).to.deep.equal({ type: "string" });
    });
    it("maps our tags to x-kubernetes extensions", () => {
      const s = toStructural({ type: "array", listType: "map", listMapKeys: ["name"], items: { type: "object", properties: { name: { type: "string" } } },
        validations: [{ rule: "size(self) < 3", message: "m" }] });
      expect(s["x-kubernetes-list-type"]).to.equal("map");
      expect(s["x-kubernetes-list-map-keys"]).to.deep.equal(["name"]);
      expect(s["x-kubernetes-validations"]).to.deep.equal([{ message: "m", rule: "size(self) < 3" }]);
    });
    it("refuses what a structural schema cannot say, naming the path", () => {
      expect(() => toStructural({ type: "object", properties: { a: { type: ["string", "boolean"] } } })).to.throw(/\.a: union type/);
      expect(() => toStructural({ type: "object", properties: { b: { anyOf: [{ type: "string" }, { type: "object" }] } } })).to.throw(/\.b: unions/);
      expect(() => toStructural({ type: "object", properties: { c: { $ref: "#/definitions/C" } } })).to.throw(/\.c: unexpected \$ref/);
      expect(() => toStructural({ type: "array", uniqueItems: true, items: { type: "string" } })).to.throw(/uniqueItems/);
    });
  });

  describe("toValuesSchema", () => {
    it("keeps our objects closed, opens core types, and demands descriptions", () => {
      const s = toValuesSchema({ type: "object", additionalProperties: false, properties: {
        res: { description: "r", coreType: "core/v1.ResourceRequirements", type: "object", additionalProperties: false, properties: { limits: { type: "object" } } },
      } });
      expect(s.additionalProperties).to.equal(false);
      expect(s.properties.res).to.not.have.property("additionalProperties");
      expect(() => toValuesSchema({ type: "object", properties: { undocumented: { type: "string" } } })).to.throw(/\.undocumented: every values key needs a description/);
    });
  });

  describe("the generated output", () => {
    const files = generateAll();
    const crds = [...files].filter(([p]) => p.startsWith(`${CRD_DIR}/`)).map(([p, t]) => [p, parse(t)] as const);

    it("has five CRDs whose schemas are structural", () => {
      expect(crds).to.have.length(5);
      for (const [p, crd] of crds) {
        const root = crd.spec.versions[0].schema.openAPIV3Schema as Schema;
        for (const [path, n] of nodes(root)) {
          const where = `${p}${path}`;
          expect(n, where).to.not.have.any.keys("$ref", "definitions", "const", "$schema", "oneOf", "allOf");
          expect(n.additionalProperties, where).to.not.equal(false);
          expect(Array.isArray(n.type), where).to.equal(false);
          if (n.anyOf) expect(n["x-kubernetes-int-or-string"], where).to.equal(true);
          if (n.properties && n.additionalProperties) expect.fail(`${where}: properties and additionalProperties together`);
        }
        expect(root.properties.metadata).to.deep.equal({ type: "object" });
      }
    });

    it("keys condition and env lists by type and name", () => {
      const kernel = crds.find(([p]) => p.includes("jupyterkernels."))![1].spec.versions[0].schema.openAPIV3Schema;
      expect(kernel.properties.status.properties.conditions["x-kubernetes-list-map-keys"]).to.deep.equal(["type"]);
      expect(kernel.properties.spec.properties.env["x-kubernetes-list-map-keys"]).to.deep.equal(["name"]);
    });

    it("gives every values key a description and closes our own objects, in both charts", () => {
      const team = JSON.parse(files.get("charts/elastic-jupyter/values.schema.json")!);
      const operator = JSON.parse(files.get("charts/elastic-jupyter-operator/values.schema.json")!);
      for (const values of [team, operator]) {
        expect(values.$schema).to.equal("http://json-schema.org/draft-07/schema#");
        expect(values.additionalProperties).to.equal(false);
        expect(values.properties.custom.additionalProperties, "escape hatch stays open").to.not.equal(false);
        for (const key of Object.keys(values.properties)) expect(values.properties[key].description, key).to.be.a("string");
      }
      expect(team.properties.gateway.additionalProperties).to.equal(false);
      expect(team.properties.kernelSpecs.items.additionalProperties).to.equal(false);
      expect(operator.properties.operator.additionalProperties).to.equal(false);
      expect(operator.properties.operator.properties.extraPodSpec.additionalProperties, "escape hatch stays open").to.not.equal(false);
    });
  });
});

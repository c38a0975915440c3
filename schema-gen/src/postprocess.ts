// Turns ts-json-schema-generator output into (a) structural OpenAPI v3 schemas the API server
// accepts in a CRD and (b) draft-07 schemas for Helm's values.schema.json. Pure functions: the
// generator's JSON in, new JSON out; every rule that cannot be expressed fails with the path.
import { withHints } from "./values/hints.ts";

/** A JSON Schema node as the generator emits it (open: generators and tags add keys). */
export type Schema = { [key: string]: any };

/** Our own JSDoc tags (see api/common.ts), read from the generator's output and removed from it. */
export const EXTRA_TAGS = ["coreType", "listType", "listMapKeys", "validations", "preserveUnknownFields", "intOrString"] as const;

/** Kubernetes' quantity syntax (resource.Quantity), as controller-gen emits it. */
export const QUANTITY_PATTERN = "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

// kubernetes-types writes resource.Quantity as plain `string`. Where it is the value of a map
// (limits, requests, overhead) the alias' description survives and identifies it; where it is a
// property, the property's own description wins, so these property names (the only Quantity
// properties reachable from a PodSpec) are listed instead.
const QUANTITY_DESCRIPTION = "Quantity is a fixed-point representation of a number";
const QUANTITY_PROPERTIES = new Set(["sizeLimit", "divisor"]);

// CORE_NUMBERS_ARE_INTEGERS: kubernetes-types writes Go's int32/int64 as `number`; core/v1 and
// meta/v1 have no floating-point fields, so inside a core type every number is an integer.

/** Keys a CRD's openAPIV3Schema node may carry (apiextensions.k8s.io/v1 JSONSchemaProps, minus what we never emit). */
const CRD_KEYS = new Set([
  "description", "type", "format", "default", "enum", "maximum", "minimum", "maxLength", "minLength", "pattern",
  "maxItems", "minItems", "maxProperties", "minProperties", "multipleOf", "required", "items", "properties",
  "additionalProperties", "anyOf", "nullable", "title",
  "x-kubernetes-int-or-string", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
  "x-kubernetes-map-type", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations",
  "x-kubernetes-embedded-resource",
]);

/** A value is a quantity when its description or its property name says so (see above). */
function isQuantity(node: Schema, propertyName: string | undefined, inCore: boolean): boolean {
  if (node.type !== "string") return false;
  if (typeof node.description === "string" && node.description.startsWith(QUANTITY_DESCRIPTION)) return true;
  return inCore && propertyName !== undefined && QUANTITY_PROPERTIES.has(propertyName);
}

/** `number | string` (int-or-string) in any of the shapes the generator uses for it. */
function isIntOrStringUnion(node: Schema): boolean {
  if (Array.isArray(node.type)) {
    const t = [...node.type].sort().join(",");
    return t === "number,string" || t === "integer,string";
  }
  if (Array.isArray(node.anyOf) && node.anyOf.length === 2) {
    const t = node.anyOf.map((s: Schema) => s.type).sort().join(",");
    return t === "number,string" || t === "integer,string";
  }
  return false;
}

function sortKeys(node: Schema): Schema {
  const out: Schema = {};
  for (const k of Object.keys(node).sort()) out[k] = node[k];
  return out;
}

function fail(path: string, why: string): never {
  throw new Error(`schema-gen: ${path || "<root>"}: ${why}`);
}

interface Walk {
  path: string;
  /** Inside a Kubernetes core type (below a @coreType field). */
  inCore: boolean;
  propertyName?: string;
}

/**
 * A structural CRD schema from a generated one: everything inlined, no additionalProperties:false,
 * no const, no array-valued type, int-or-string and quantities marked, our tags turned into
 * x-kubernetes-* extensions. Descriptions inside Kubernetes core types are dropped: the API
 * server documents those types already, and with them a CRD embedding a PodSpec grows past
 * several hundred kilobytes. Our own fields keep their descriptions.
 */
export function toStructural(input: Schema, walk: Walk = { path: "", inCore: false }): Schema {
  const node: Schema = { ...input };
  const { path } = walk;
  if ("$ref" in node) fail(path, `unexpected $ref ${node.$ref}: a recursive type cannot be inlined into a CRD`);
  const coreType = node.coreType;
  const inCore = walk.inCore || coreType !== undefined;
  const out: Schema = {};
  const quantity = isQuantity(node, walk.propertyName, inCore);
  if (walk.inCore && coreType === undefined) delete node.description;
  if (node.description !== undefined) out.description = node.description;

  if (quantity) {
    return sortKeys({ ...out, anyOf: [{ type: "integer" }, { type: "string" }], pattern: QUANTITY_PATTERN, "x-kubernetes-int-or-string": true });
  }
  if (isIntOrStringUnion(node) || node.intOrString === true) {
    const r: Schema = { ...out, anyOf: [{ type: "integer" }, { type: "string" }], "x-kubernetes-int-or-string": true };
    if (node.default !== undefined) r.default = node.default;
    if (node.pattern !== undefined) r.pattern = node.pattern;
    return sortKeys(r);
  }
  if (Array.isArray(node.type)) fail(path, `union type ${JSON.stringify(node.type)} is not structural`);
  if (node.anyOf || node.oneOf || node.allOf) fail(path, "unions other than int-or-string are not structural; use one type");

  for (const [k, v] of Object.entries(node)) {
    switch (k) {
      case "description": case "$schema": case "definitions": case "coreType": case "intOrString":
      case "examples": case "$comment":
        break;
      case "type":
        out.type = inCore && v === "number" ? "integer" : v; // see CORE_NUMBERS_ARE_INTEGERS
        break;
      case "const":
        out.enum = [v];
        if (node.type === undefined) out.type = typeof v;
        break;
      case "listType": out["x-kubernetes-list-type"] = v; break;
      case "listMapKeys": out["x-kubernetes-list-map-keys"] = v; break;
      case "validations": out["x-kubernetes-validations"] = (v as Schema[]).map(sortKeys); break;
      case "preserveUnknownFields": out["x-kubernetes-preserve-unknown-fields"] = true; break;
      case "properties": {
        const props: Schema = {};
        for (const name of Object.keys(v).sort()) {
          props[name] = toStructural(v[name], { path: `${path}.${name}`, inCore, propertyName: name });
        }
        out.properties = props;
        break;
      }
      case "additionalProperties":
        // Closed objects are not allowed in CRDs (unknown fields are pruned instead), and a map
        // schema next to properties is not structural: preserveUnknownFields covers that case.
        if (typeof v === "object" && !node.preserveUnknownFields) {
          if (node.properties !== undefined) fail(path, "properties plus an index signature is not structural; mark it @preserveUnknownFields");
          out.additionalProperties = toStructural(v, { path: `${path}[*]`, inCore });
        }
        break;
      case "items":
        if (Array.isArray(v)) fail(path, "tuples are not structural");
        out.items = toStructural(v, { path: `${path}[*]`, inCore });
        break;
      case "uniqueItems":
        if (v === true) fail(path, "uniqueItems is not allowed in CRDs; use @listType set");
        break;
      case "exclusiveMinimum": case "exclusiveMaximum":
        fail(path, `${k} differs between draft-07 and OpenAPI v3; use @minimum/@maximum`);
      default:
        if (!CRD_KEYS.has(k)) fail(path, `keyword ${k} is not allowed in a CRD schema`);
        out[k] = v;
    }
  }
  if (out.type === "object" && out.properties === undefined && out.additionalProperties === undefined) {
    // An object with no declared shape is free-form by construction.
    out["x-kubernetes-preserve-unknown-fields"] = true;
  }
  return sortKeys(out);
}

/**
 * A draft-07 values schema from a generated one (generated with additionalProperties:false, so
 * our own objects are closed and a typo is an error). Kubernetes core types stay open and lose
 * their descriptions, as in the CRDs; every one of our own keys must carry a description. CEL
 * rules are dropped here: Helm cannot run them, and the API server checks them when the chart's
 * custom resources are applied. Closed objects get hints (values/hints.ts): a refused key comes
 * with what to write instead.
 */
export function toValuesSchema(input: Schema): Schema {
  return withHints(valuesNode(input, { path: "", inCore: false }));
}

function valuesNode(input: Schema, walk: Walk): Schema {
  const node: Schema = { ...input };
  const { path } = walk;
  if ("$ref" in node) fail(path, `unexpected $ref ${node.$ref}`);
  const coreType = node.coreType;
  const inCore = walk.inCore || coreType !== undefined;
  if (isQuantity(node, walk.propertyName, inCore)) {
    return { type: ["string", "number"], pattern: QUANTITY_PATTERN };
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    switch (k) {
      case "definitions": case "coreType": case "listType": case "listMapKeys": case "validations":
      case "preserveUnknownFields":
        break;
      case "description":
        if (!walk.inCore || coreType !== undefined) out.description = v;
        break;
      case "intOrString":
        out.type = ["integer", "string"];
        break;
      case "type":
        if (out.type === undefined) out.type = inCore && v === "number" ? "integer" : v; // see CORE_NUMBERS_ARE_INTEGERS
        break;
      case "properties": {
        const props: Schema = {};
        for (const name of Object.keys(v).sort()) {
          const child = v[name] as Schema;
          if (!inCore && child.description === undefined) fail(`${path}.${name}`, "every values key needs a description (JSDoc)");
          props[name] = valuesNode(child, { path: `${path}.${name}`, inCore, propertyName: name });
        }
        out.properties = props;
        break;
      }
      case "additionalProperties":
        if (typeof v === "object") out.additionalProperties = valuesNode(v, { path: `${path}[*]`, inCore });
        // Kubernetes' own types stay open: the API server validates them, and a newer field
        // than kubernetes-types knows must not be a values error.
        else if (!(inCore && v === false)) out.additionalProperties = v;
        break;
      case "items":
        out.items = valuesNode(v, { path: `${path}[*]`, inCore });
        break;
      case "anyOf": case "oneOf": case "allOf": {
        // `T | undefined` in an index signature comes out as anyOf [{not: {}}, T]: keep T only.
        const branches = (v as Schema[]).filter((b) => !(b.not && Object.keys(b.not).length === 0 && Object.keys(b).length === 1));
        const mapped = branches.map((b, i) => valuesNode(b, { path: `${path}<${i}>`, inCore }));
        if (mapped.length === 1 && k === "anyOf") Object.assign(out, mapped[0]);
        else out[k] = mapped;
        break;
      }
      default:
        out[k] = v;
    }
  }
  if (node.intOrString) delete out.anyOf;
  return sortKeys(out);
}

// Markdown reference docs from the same generated schemas (before post-processing, so our tags
// such as @coreType and @validations are still visible). Pure: schema in, text out.
import { GROUP, type KindNames, VERSION } from "./api/index.ts";
import type { Schema } from "./postprocess.ts";

interface Row { path: string; type: string; required: boolean; notes: string }

function typeOf(s: Schema): string {
  if (s.coreType) return Array.isArray(s.items) || s.type === "array" ? `[]${s.coreType}` : String(s.coreType);
  if (s.intOrString || (Array.isArray(s.type) && s.type.includes("string"))) return "integer \\| string";
  if (s.enum) return s.enum.map((v: unknown) => `\`${JSON.stringify(v)}\``).join(" \\| ");
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.type === "array") return `[]${!s.items ? "any" : s.items.anyOf ? `(${typeOf(s.items)})` : typeOf(s.items)}`;
  if (s.type === "object" && !s.properties && typeof s.additionalProperties === "object") {
    const v = s.additionalProperties as Schema;
    return Object.keys(v).length === 0 ? "object (free-form)" : `map[string]${typeOf(v)}`;
  }
  if (s.type === "object" && !s.properties) return "object (free-form)";
  if (Array.isArray(s.anyOf)) return s.anyOf.map(typeOf).join(" \\| ");
  return s.type ?? "any";
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ").trim();
}

function notes(s: Schema): string {
  const parts: string[] = [];
  if (s.description) parts.push(cell(s.description));
  const c: string[] = [];
  if (s.default !== undefined) c.push(`default \`${JSON.stringify(s.default)}\``);
  if (s.minimum !== undefined) c.push(`min ${s.minimum}`);
  if (s.maximum !== undefined) c.push(`max ${s.maximum}`);
  if (s.minLength !== undefined) c.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) c.push(`max length ${s.maxLength}`);
  if (s.minItems !== undefined) c.push(`min items ${s.minItems}`);
  if (s.maxItems !== undefined) c.push(`max items ${s.maxItems}`);
  if (s.pattern !== undefined) c.push(`pattern \`${s.pattern.replace(/\|/g, "\\|")}\``);
  if (s.listType === "map") c.push(`list keyed by ${(s.listMapKeys as string[]).join(", ")}`);
  if (s.listType === "set") c.push("a set (no duplicates)");
  for (const v of (s.validations ?? []) as { message: string }[]) c.push(`rule: ${cell(v.message)}`);
  if (c.length) parts.push(`<br>_${c.join("; ")}_`);
  return parts.join(" ");
}

/** Rows for every field below `s`, depth first, stopping at Kubernetes core types. */
function rows(s: Schema, prefix: string): Row[] {
  const out: Row[] = [];
  const required = new Set<string>(s.required ?? []);
  for (const name of Object.keys(s.properties ?? {}).sort()) {
    const child = s.properties[name] as Schema;
    const path = prefix ? `${prefix}.${name}` : name;
    out.push({ path, type: typeOf(child), required: required.has(name), notes: notes(child) });
    if (child.coreType) continue;
    if (child.type === "object" && child.properties) out.push(...rows(child, path));
    if (child.type === "array" && child.items?.properties) out.push(...rows(child.items, `${path}[]`));
    if (child.type === "object" && child.additionalProperties?.properties) out.push(...rows(child.additionalProperties, `${path}.*`));
  }
  return out;
}

function table(rs: Row[]): string {
  const lines = ["| Field | Type | Required | Description |", "|---|---|---|---|"];
  for (const r of rs) lines.push(`| \`${r.path}\` | ${r.type} | ${r.required ? "yes" : ""} | ${r.notes} |`);
  return lines.join("\n");
}

export function apiReference(kinds: { names: KindNames; schema: Schema }[], columns: Record<string, object[]>, notice: string): string {
  const out: string[] = [
    `<!-- ${notice} -->`,
    "# API reference",
    "",
    `Group \`${GROUP}\`, version \`${VERSION}\`; every kind is namespaced, has the status subresource and belongs to the category \`jupyter\` (\`kubectl get jupyter\` lists them all).`,
    "Fields typed `core/v1.*` are Kubernetes' own types: see the [Kubernetes API reference](https://kubernetes.io/docs/reference/kubernetes-api/).",
    "",
  ];
  for (const { names, schema } of kinds) {
    const cols = (columns[names.kind] ?? []).map((c) => (c as { name: string }).name).join(", ");
    out.push(
      `## ${names.kind}`,
      "",
      cell(schema.description ?? ""),
      "",
      `Plural \`${names.plural}\`, short name${names.shortNames.length > 1 ? "s" : ""} ${names.shortNames.map((n) => `\`${n}\``).join(", ")}; \`kubectl get\` columns: ${cols}.`,
      "",
    );
    for (const part of ["spec", "status"]) {
      const s = schema.properties?.[part] as Schema | undefined;
      if (!s) continue;
      out.push(`### ${names.kind}.${part}`, "", cell(s.description ?? ""), "");
      for (const v of (s.validations ?? []) as { message: string }[]) out.push(`- Rule: ${cell(v.message)}`);
      if (s.validations) out.push("");
      out.push(table(rows(s, part)), "");
    }
  }
  return `${out.join("\n").trimEnd()}\n`;
}

export function valuesReference(values: Schema, notice: string, chartDir = "charts/elastic-jupyter"): string {
  const out: string[] = [
    `<!-- ${notice} -->`,
    `# Chart values reference: ${chartDir.split("/").pop()}`,
    "",
    `Values of \`${chartDir}\`, checked by its \`values.schema.json\`: every object the chart owns is closed, so a misspelt key is an error, and Helm prints what to write instead next to it (the key's spelling, the place where it belongs, or our counterpart of a zero-to-jupyterhub or Enterprise Gateway chart key).`,
    ...(values.properties?.gateway ? ["`gateway`, `notebooks[]`, `kernelSpecs[]` and `kernelTemplates[]` reuse the custom resources' spec types (see [api.md](api.md))."] : []),
    "Fields typed `core/v1.*` are Kubernetes' own types.",
    "",
  ];
  for (const name of Object.keys(values.properties ?? {}).sort()) {
    const s = values.properties[name] as Schema;
    out.push(`## ${name}`, "", cell(s.description ?? ""), "");
    const sub = s.type === "array" ? s.items : s;
    const r = sub?.properties ? rows(sub, s.type === "array" ? `${name}[]` : name) : [{ path: name, type: typeOf(s), required: false, notes: notes(s) }];
    out.push(table(r), "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

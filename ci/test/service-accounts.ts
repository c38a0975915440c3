// Test support for docs/security/service-accounts.md: reads `kubectl auth can-i --list`, compares
// what a ServiceAccount may do with the rules we expect it to hold, and renders the table of who
// may do what and why. Pure: text and rules in, text out.
import type { ExplainedRule } from "../../controller/src/gateways/rbac.ts";

/** One row of `kubectl auth can-i --list`: a resource as kubectl prints it
 *  (plural[.group][/subresource]) or a non-resource URL, with its names and verbs. */
export interface Grant {
  resource?: string;
  url?: string;
  resourceNames: string[];
  verbs: string[];
}

const CAN_I_ROW = /^([^\s[]\S*)?\s*\[([^\]]*)\]\s+\[([^\]]*)\]\s+\[([^\]]*)\]\s*$/;
const words = (list: string) => list.split(/\s+/).filter(Boolean);

/** The rows of `kubectl auth can-i --list` (its header skipped; a row it cannot read throws). */
export function parseCanIList(text: string): Grant[] {
  const lines = text.split("\n").filter((l) => l.trim());
  if (!/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\s*$/.test(lines[0] ?? "")) throw new Error(`not a can-i --list table:\n${text}`);
  return lines.slice(1).map((line) => {
    const m = CAN_I_ROW.exec(line);
    if (!m) throw new Error(`cannot read can-i --list row ${JSON.stringify(line)}`);
    const urls = words(m[2]!);
    if (m[1] && urls.length) throw new Error(`row with both a resource and a URL: ${JSON.stringify(line)}`);
    const where = m[1] ? { resource: m[1] } : { url: urls.join(" ") };
    return { ...where, resourceNames: words(m[3]!), verbs: words(m[4]!) };
  });
}

/** A resource as kubectl prints it: deployments.apps/status, pods. */
export function printedResource(group: string, resource: string): string {
  const [plural, sub] = resource.split("/");
  return `${plural}${group ? `.${group}` : ""}${sub ? `/${sub}` : ""}`;
}

/** What a grant allows, one "resource[name] verb" or "URL verb" string per permission. */
function grantPermissions(g: Grant): string[] {
  const targets = g.url !== undefined ? [g.url] : (g.resourceNames.length ? g.resourceNames : [""]).map((n) => `${g.resource}${n ? `[${n}]` : ""}`);
  return targets.flatMap((t) => g.verbs.map((v) => `${t} ${v}`));
}

/** The same strings for rules as a Role holds them. */
export function rulePermissions(rule: ExplainedRule): string[] {
  return [
    ...(rule.nonResourceURLs ?? []).map((url) => ({ url, resourceNames: [], verbs: rule.verbs })),
    ...(rule.apiGroups ?? []).flatMap((group) => (rule.resources ?? []).map((r) => ({ resource: printedResource(group, r), resourceNames: rule.resourceNames ?? [], verbs: rule.verbs }))),
  ].flatMap(grantPermissions);
}

/** The grants that hold something beyond `rules` (e.g. beyond the API server's defaults). */
export function grantsBeyond(grants: readonly Grant[], rules: readonly ExplainedRule[]): Grant[] {
  const covered = new Set(expectedPermissions(rules));
  return grants.filter((g) => !grantPermissions(g).every((p) => covered.has(p)));
}

export function permissions(grants: readonly Grant[]): string[] {
  return [...new Set(grants.flatMap(grantPermissions))].sort();
}

export function expectedPermissions(rules: readonly ExplainedRule[]): string[] {
  return [...new Set(rules.flatMap(rulePermissions))].sort();
}

/** Permissions held but not expected, and expected but not held. */
export function permissionDrift(held: readonly string[], expected: readonly string[]): { extra: string[]; missing: string[] } {
  const h = new Set(held);
  const e = new Set(expected);
  return { extra: held.filter((p) => !e.has(p)), missing: expected.filter((p) => !h.has(p)) };
}

/** One line of the table: what (resources or URLs), the verbs, and who needs them. */
export interface TableRow {
  what: string;
  verbs: string;
  why: string;
}

/**
 * Table rows for what a ServiceAccount was seen holding, each explained by the expected rules it
 * falls under ("not expected" when none). Resources with the same verbs and reasons share a row;
 * rows follow the order of the rules that explain them. `note` marks some grants (e.g. only in
 * the release namespace).
 */
export function explainedRows(grants: readonly Grant[], rules: readonly ExplainedRule[], note: (g: Grant) => string = () => ""): TableRow[] {
  // One grant per resource (or URL) and names: kubectl may print one several times.
  const merged = new Map<string, Grant>();
  for (const g of grants) {
    const key = `${g.resource ?? ""}|${g.url ?? ""}|${g.resourceNames.join(",")}`;
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, verbs: [...new Set([...seen.verbs, ...g.verbs])] } : { ...g, verbs: [...g.verbs] });
  }
  const ruleSets = rules.map((r) => new Set(rulePermissions(r)));
  const rows = new Map<string, { order: number; what: string[]; verbs: string; why: string }>();
  for (const g of merged.values()) {
    const held = grantPermissions(g);
    const explaining = ruleSets.map((s, i) => (held.some((p) => s.has(p)) ? i : -1)).filter((i) => i >= 0);
    const why = explaining.length ? explaining.map((i) => rules[i]!.why).join(" ") : "**not expected**";
    const verbs = [...g.verbs].sort().join(", ");
    const name = g.url !== undefined ? `\`${g.url}\`` : `\`${g.resource}\`${g.resourceNames.length ? ` named ${g.resourceNames.map((n) => `\`${n}\``).join(", ")}` : ""}`;
    const what = `${name}${note(g)}`;
    const key = `${verbs}|${why}|${note(g)}`;
    const row = rows.get(key);
    if (row) row.what.push(what);
    else rows.set(key, { order: explaining[0] ?? rules.length, what: [what], verbs, why });
  }
  return [...rows.values()]
    .sort((a, b) => a.order - b.order || (a.what[0]! < b.what[0]! ? -1 : 1))
    .map((r) => ({ what: r.what.sort().join(", "), verbs: r.verbs, why: r.why }));
}

export interface ServiceAccountSection {
  /** The ServiceAccount, as the reader finds it (name and namespace). */
  serviceAccount: string;
  /** Which pods run as it, and whether they get its token. */
  usedBy: string;
  rows: TableRow[];
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ").trim();

/** The Markdown document: one table of every ServiceAccount's own permissions, one of the API server's defaults. */
export function serviceAccountsDoc(intro: string, sections: readonly ServiceAccountSection[], defaultsIntro: string, defaults: readonly TableRow[]): string {
  const out = [
    "# ServiceAccounts and what they may do",
    "",
    intro,
    "",
    "| ServiceAccount | where it is used | API group/resource | verbs | who needs it |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const s of sections) {
    const rows = s.rows.length ? s.rows : [{ what: "nothing", verbs: "", why: "Nothing beyond the API server's defaults below." }];
    rows.forEach((r, i) => out.push(`| ${i === 0 ? cell(s.serviceAccount) : ""} | ${i === 0 ? cell(s.usedBy) : ""} | ${cell(r.what)} | ${cell(r.verbs)} | ${cell(r.why)} |`));
  }
  out.push("", defaultsIntro, "", "| API group/resource or URL | verbs | why |", "| --- | --- | --- |");
  for (const r of defaults) out.push(`| ${cell(r.what)} | ${cell(r.verbs)} | ${cell(r.why)} |`);
  return `${out.join("\n")}\n`;
}

/** A short line diff of two texts ("- " committed only, "+ " generated only), for a failure message. */
export function lineDiff(committed: string, fresh: string, max = 20): string {
  const a = committed.split("\n");
  const b = fresh.split("\n");
  const inA = new Set(a);
  const inB = new Set(b);
  const lines = [...a.filter((l) => !inB.has(l)).map((l) => `- ${l}`), ...b.filter((l) => !inA.has(l)).map((l) => `+ ${l}`)];
  if (lines.length === 0 && committed !== fresh) return "(the same lines, in another order)";
  return lines.length > max ? [...lines.slice(0, max), `... ${lines.length - max} more`].join("\n") : lines.join("\n");
}

// The operator chart's ClusterRole rules, rendered from OPERATOR_RULES (controller/src/gateways/
// rbac.ts), their one source: templates/operator/rbac.yaml includes the file, and
// drift.unit.test.ts fails when the committed copy is stale. Pure: rules in, text out.
import type { ExplainedRule } from "../../controller/src/gateways/rbac.ts";

/** Comment lines of at most `width` columns, each starting with `prefix`. */
export function commentLines(text: string, prefix: string, width = 100): string[] {
  const lines: string[] = [];
  let line = prefix;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== prefix && line.length + 1 + word.length > width) {
      lines.push(line);
      line = prefix;
    }
    line += line === prefix ? word : ` ${word}`;
  }
  if (line !== prefix) lines.push(line);
  return lines;
}

/** A YAML flow sequence of quoted strings: ["a", "b"]. */
function flowList(items: readonly string[] | undefined): string {
  return `[${(items ?? []).map((i) => JSON.stringify(i)).join(", ")}]`;
}

/**
 * The rules as a YAML list, each preceded by its `why` as a comment. No blank lines: the chart
 * indents the file with `nindent`, which would leave trailing spaces on them.
 */
export function operatorRulesYaml(rules: readonly ExplainedRule[], notice: string): string {
  const out = [
    `# ${notice}`,
    "# The operator's ClusterRole rules: OPERATOR_RULES in controller/src/gateways/rbac.ts, each with",
    "# who needs it. templates/operator/rbac.yaml includes this file.",
  ];
  for (const rule of rules) {
    out.push(...commentLines(rule.why, "# "));
    out.push(`- apiGroups: ${flowList(rule.apiGroups)}`);
    out.push(`  resources: ${flowList(rule.resources)}`);
    if (rule.resourceNames) out.push(`  resourceNames: ${flowList(rule.resourceNames)}`);
    out.push(`  verbs: ${flowList(rule.verbs)}`);
  }
  return `${out.join("\n")}\n`;
}

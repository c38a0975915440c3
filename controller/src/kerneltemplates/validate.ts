// JupyterKernelTemplate validation (operator role). The CRD's schema already types the pod spec;
// these are the rules it cannot express, checked before a kernel launch would trip over them.
// Every problem names its field.
import type { JupyterKernelTemplate, JupyterKernelTemplateStatus } from "@elastic-jupyter/api";
import { readyCondition, withConditions } from "../gateways/owned.ts";

const KNOWN_METADATA = new Set(["labels", "annotations", "name", "namespace", "generateName"]);
// Label syntax (k8s.io/apimachinery validation): optional DNS-subdomain prefix, then a name of at most 63.
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix))) return "its prefix must be a DNS subdomain";
  if (name.length > 63 || !LABEL_NAME.test(name)) return "its name must be at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric";
  return undefined;
}

export function validateKernelTemplate(t: JupyterKernelTemplate): string[] {
  const problems: string[] = [];
  const meta = (t.spec?.template?.metadata ?? {}) as Record<string, unknown>;
  const labels: Record<string, unknown> = { ...(meta.labels as Record<string, unknown> | undefined) };
  // SEED.md's sample puts labels straight under metadata; they are labels, so they must be valid ones.
  for (const [k, v] of Object.entries(meta)) {
    if (KNOWN_METADATA.has(k)) continue;
    if (typeof v !== "string") problems.push(`spec.template.metadata.${k} must be a string (keys outside labels/annotations are treated as labels)`);
    else labels[k] = v;
  }
  for (const [k, v] of Object.entries(labels)) {
    const keyProblem = labelKeyProblem(k);
    if (keyProblem) problems.push(`spec.template.metadata label key ${JSON.stringify(k)} is invalid: ${keyProblem}`);
    if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) problems.push(`spec.template.metadata label ${JSON.stringify(k)} has an invalid value ${JSON.stringify(v)} (at most 63 letters, digits, '-', '_' or '.')`);
  }
  const spec = t.spec?.template?.spec;
  const containers = spec?.containers ?? [];
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    if (!c.name || !DNS_LABEL.test(c.name) || c.name.length > 63) problems.push(`spec.template.spec.containers[${i}].name ${JSON.stringify(c.name)} must be a DNS label`);
    if (seen.has(c.name)) problems.push(`spec.template.spec.containers[${i}].name ${JSON.stringify(c.name)} is used twice`);
    seen.add(c.name);
    // Only the kernel container gets an image from the kernelspec; any other container needs its own.
    const isKernel = c.name === "kernel" || (i === 0 && !containers.some((o) => o.name === "kernel"));
    if (!isKernel && !c.image) problems.push(`spec.template.spec.containers[${i}].image is required (only the kernel container takes its image from the kernelspec)`);
  });
  const volumes = new Set<string>();
  (spec?.volumes ?? []).forEach((v, i) => {
    if (volumes.has(v.name)) problems.push(`spec.template.spec.volumes[${i}].name ${JSON.stringify(v.name)} is used twice`);
    volumes.add(v.name);
  });
  containers.forEach((c, i) => (c.volumeMounts ?? []).forEach((m, j) => {
    if (!volumes.has(m.name)) problems.push(`spec.template.spec.containers[${i}].volumeMounts[${j}] refers to volume ${JSON.stringify(m.name)}, which spec.template.spec.volumes does not define`);
  }));
  return problems;
}

/** Notes that are not errors: settings the kernel pod overrides. */
export function kernelTemplateNotes(t: JupyterKernelTemplate): string[] {
  const notes: string[] = [];
  const policy = t.spec?.template?.spec?.restartPolicy;
  if (policy && policy !== "Never") notes.push(`spec.template.spec.restartPolicy ${policy} is replaced by Never (a restarted kernel would come back on ports the gateway does not know)`);
  return notes;
}

export function kernelTemplateStatus(t: JupyterKernelTemplate, now: string): JupyterKernelTemplateStatus {
  const gen = t.metadata?.generation;
  const problems = validateKernelTemplate(t);
  const notes = kernelTemplateNotes(t);
  const cond = problems.length
    ? readyCondition(false, "InvalidTemplate", problems.join("; "), gen)
    : readyCondition(true, "Valid", ["the template is valid", ...notes].join("; "), gen);
  return { ...t.status, observedGeneration: gen, conditions: withConditions(t.status?.conditions, [cond], now) };
}

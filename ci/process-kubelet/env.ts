// The environment of one container, resolved the way the kubelet does it: envFrom sources first,
// then env entries in order, each value `$(VAR)`-expanded against the variables defined before it;
// downward-API fieldRef/resourceFieldRef, configMapKeyRef and secretKeyRef. Pure: objects come in
// through lookups, so a missing ConfigMap is an error the caller reports, not an I/O failure here.
import type { ConfigMap, Container, ObjectFieldSelector, Pod, ResourceFieldSelector, Secret } from "kubernetes-types/core/v1.js";
import { expand, lookupIn } from "./expansion.ts";
import { parseQuantity } from "./quantity.ts";

/** What the kubelet knows about a pod beyond its spec. */
export interface PodFacts {
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** Node allocatable (limits default to it in resourceFieldRef). */
  allocatable: Record<string, string>;
}

export interface ObjectLookups {
  configMap(namespace: string, name: string): ConfigMap | undefined;
  secret(namespace: string, name: string): Secret | undefined;
}

/** The container cannot be configured yet (e.g. a referenced ConfigMap is missing): the kubelet
 *  reports CreateContainerConfigError and retries. */
export class ContainerConfigError extends Error {}

const envNamePattern = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** A downward-API field of the pod, as env vars and downwardAPI volumes see it. */
export function podFieldValue(pod: Pod, facts: PodFacts, ref: ObjectFieldSelector, what: string): string {
  const path = ref.fieldPath;
  const md = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === "labels" ? md.labels : md.annotations)?.[keyed[2]!] ?? "";
  switch (path) {
    case "metadata.name": return md.name ?? "";
    case "metadata.namespace": return md.namespace ?? "";
    case "metadata.uid": return md.uid ?? "";
    case "metadata.labels": return formatMap(md.labels);
    case "metadata.annotations": return formatMap(md.annotations);
    case "spec.nodeName": return facts.nodeName;
    case "spec.serviceAccountName": return pod.spec?.serviceAccountName ?? "default";
    case "status.podIP": case "status.podIPs": return facts.podIP;
    case "status.hostIP": case "status.hostIPs": return facts.hostIP;
  }
  throw new ContainerConfigError(`${what}: fieldRef.fieldPath ${JSON.stringify(path)} is not supported`);
}

/** Labels/annotations as a downwardAPI volume file: sorted key="value" lines. */
function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join("\n");
}

/** A container resource (limits.cpu, requests.memory, ...) divided by the divisor, rounded up;
 *  an unset limit defaults to the node's allocatable, as in Kubernetes. */
export function resourceFieldValue(pod: Pod, facts: PodFacts, ref: ResourceFieldSelector, defaultContainer: string | undefined, what: string): string {
  const name = ref.containerName || defaultContainer;
  const c = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === name);
  if (!c) throw new ContainerConfigError(`${what}: resourceFieldRef.containerName ${JSON.stringify(name ?? "")} is not a container of the pod`);
  const m = /^(limits|requests)\.(.+)$/.exec(ref.resource);
  if (!m) throw new ContainerConfigError(`${what}: resourceFieldRef.resource ${JSON.stringify(ref.resource)} is not supported (limits.<name> or requests.<name>)`);
  const [, kind, resource] = m as unknown as [string, "limits" | "requests", string];
  let raw: string | number | undefined = c.resources?.[kind]?.[resource];
  if (raw === undefined && kind === "limits") raw = facts.allocatable[resource];
  if (raw === undefined && kind === "requests") raw = c.resources?.limits?.[resource] ?? 0;
  const divisor = ref.divisor === undefined ? 1 : parseQuantity(ref.divisor, `${what}: resourceFieldRef.divisor`);
  if (divisor <= 0) throw new ContainerConfigError(`${what}: resourceFieldRef.divisor must be positive`);
  const value = parseQuantity(raw ?? 0, `${what}: ${ref.resource}`);
  return String(Math.ceil(value / divisor - 1e-9));
}

function decode(b64: string): string {
  return Buffer.from(b64, "base64").toString("utf8");
}

/** The container's own variables (envFrom + env) in definition order, later ones winning.
 *  `inherited` (service variables, KUBERNETES_SERVICE_HOST...) may be referenced by `$(VAR)` but
 *  are overridden by the container's own. */
export function containerEnv(pod: Pod, container: Container, facts: PodFacts, lookups: ObjectLookups, inherited: Record<string, string> = {}): Record<string, string> {
  const ns = pod.metadata?.namespace ?? "default";
  const where = `container ${container.name}`;
  const env = new Map<string, string>();

  for (const [i, src] of (container.envFrom ?? []).entries()) {
    const prefix = src.prefix ?? "";
    let data: Record<string, string> | undefined;
    if (src.configMapRef) {
      const cm = lookups.configMap(ns, src.configMapRef.name ?? "");
      if (!cm) { if (src.configMapRef.optional) continue; throw new ContainerConfigError(`${where}: envFrom[${i}].configMapRef: configmap ${JSON.stringify(src.configMapRef.name)} not found`); }
      data = cm.data ?? {};
    } else if (src.secretRef) {
      const s = lookups.secret(ns, src.secretRef.name ?? "");
      if (!s) { if (src.secretRef.optional) continue; throw new ContainerConfigError(`${where}: envFrom[${i}].secretRef: secret ${JSON.stringify(src.secretRef.name)} not found`); }
      data = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decode(v)]));
      for (const [k, v] of Object.entries(s.stringData ?? {})) data[k] = v;
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      if (envNamePattern.test(prefix + k)) env.set(prefix + k, v); // invalid names are skipped, as the kubelet does
    }
  }

  const lookup = lookupIn(env, inherited);
  for (const [i, e] of (container.env ?? []).entries()) {
    const what = `${where}: env[${i}] (${e.name})`;
    let value: string;
    const from = e.valueFrom;
    if (!from) {
      value = expand(e.value ?? "", lookup);
    } else if (from.fieldRef) {
      value = podFieldValue(pod, facts, from.fieldRef, what);
    } else if (from.resourceFieldRef) {
      value = resourceFieldValue(pod, facts, from.resourceFieldRef, container.name, what);
    } else if (from.configMapKeyRef) {
      const ref = from.configMapKeyRef;
      const v = lookups.configMap(ns, ref.name ?? "")?.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${what}: configMapKeyRef: key ${JSON.stringify(ref.key)} of configmap ${JSON.stringify(ref.name)} not found`);
      }
      value = v;
    } else if (from.secretKeyRef) {
      const ref = from.secretKeyRef;
      const s = lookups.secret(ns, ref.name ?? "");
      const v = s?.data?.[ref.key] !== undefined ? decode(s.data[ref.key]!) : s?.stringData?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${what}: secretKeyRef: key ${JSON.stringify(ref.key)} of secret ${JSON.stringify(ref.name)} not found`);
      }
      value = v;
    } else {
      throw new ContainerConfigError(`${what}: valueFrom has no supported source (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef)`);
    }
    env.set(e.name, value);
  }
  return Object.fromEntries(env);
}

/** command/args after `$(VAR)` expansion against the final environment. */
export function expandArgv(argv: readonly string[], env: Record<string, string>): string[] {
  const lookup = lookupIn(env);
  return argv.map((a) => expand(a, lookup));
}

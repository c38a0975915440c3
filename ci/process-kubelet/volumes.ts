// What each pod volume should contain, computed from the pod and the objects it references (pure).
// ConfigMap, Secret, downwardAPI and projected volumes become sets of files that the atomic writer
// materialises; emptyDir is a per-pod directory; hostPath is a directory of this machine.
import type { ConfigMap, KeyToPath, Pod, Secret, ServiceAccountTokenProjection, Volume } from "kubernetes-types/core/v1.js";
import { podFieldValue, resourceFieldValue, type ObjectLookups, type PodFacts } from "./env.ts";

export interface VolumeFile { path: string; data: Buffer; mode: number }

export type VolumePlan =
  | { kind: "files"; files: VolumeFile[] }
  | { kind: "emptyDir" }
  | { kind: "hostPath"; path: string; type: string };

/** Not ready yet (a referenced object is missing, a token not issued): retried, as FailedMount. */
export class VolumeNotReadyError extends Error {}
/** A volume type this kubelet cannot provide: the pod fails with reason VolumeNotSupported. */
export class VolumeNotSupportedError extends Error {}

/** Issued service-account tokens, keyed by tokenKey(). */
export type TokenLookup = (source: ServiceAccountTokenProjection) => string | undefined;

export function tokenKey(source: ServiceAccountTokenProjection): string {
  return `${source.audience ?? ""}|${source.expirationSeconds ?? 3600}`;
}

const defaultMode = 0o644;

function checkPath(path: string, what: string): string {
  if (!path || path.startsWith("/") || path.split("/").some((p) => p === ".." || p === "") || path.startsWith("..")) {
    throw new VolumeNotSupportedError(`${what}: path ${JSON.stringify(path)} must be relative, without '..' or empty segments, and not start with '..'`);
  }
  return path;
}

/** Key/value data (ConfigMap data+binaryData, Secret data) projected through optional items. */
function keyedFiles(data: Map<string, Buffer>, items: KeyToPath[] | undefined, mode: number, optional: boolean, what: string): VolumeFile[] {
  if (!items?.length) return [...data].map(([k, v]) => ({ path: checkPath(k, what), data: v, mode }));
  const out: VolumeFile[] = [];
  for (const [i, item] of items.entries()) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeNotReadyError(`${what}: items[${i}]: key ${JSON.stringify(item.key)} not found`);
    }
    out.push({ path: checkPath(item.path, `${what}: items[${i}]`), data: v, mode: item.mode ?? mode });
  }
  return out;
}

function configMapData(cm: ConfigMap): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, "base64"));
  return m;
}

function secretData(s: Secret): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, "base64"));
  for (const [k, v] of Object.entries(s.stringData ?? {})) m.set(k, Buffer.from(v, "utf8"));
  return m;
}

export function volumePlan(pod: Pod, volume: Volume, facts: PodFacts, lookups: ObjectLookups, tokens: TokenLookup): VolumePlan {
  const ns = pod.metadata?.namespace ?? "default";
  const what = `volume ${volume.name}`;
  if (volume.emptyDir) return { kind: "emptyDir" };
  if (volume.hostPath) return { kind: "hostPath", path: volume.hostPath.path, type: volume.hostPath.type ?? "" };
  if (volume.configMap) {
    const src = volume.configMap;
    const cm = lookups.configMap(ns, src.name ?? "");
    if (!cm) {
      if (src.optional) return { kind: "files", files: [] };
      throw new VolumeNotReadyError(`${what}: configmap ${JSON.stringify(src.name)} not found`);
    }
    return { kind: "files", files: keyedFiles(configMapData(cm), src.items, src.defaultMode ?? defaultMode, !!src.optional, what) };
  }
  if (volume.secret) {
    const src = volume.secret;
    const s = lookups.secret(ns, src.secretName ?? "");
    if (!s) {
      if (src.optional) return { kind: "files", files: [] };
      throw new VolumeNotReadyError(`${what}: secret ${JSON.stringify(src.secretName)} not found`);
    }
    return { kind: "files", files: keyedFiles(secretData(s), src.items, src.defaultMode ?? defaultMode, !!src.optional, what) };
  }
  if (volume.downwardAPI) {
    return { kind: "files", files: downwardFiles(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? defaultMode, facts, what) };
  }
  if (volume.projected) {
    const mode = volume.projected.defaultMode ?? defaultMode;
    const files: VolumeFile[] = [];
    for (const [i, src] of (volume.projected.sources ?? []).entries()) {
      const w = `${what}: sources[${i}]`;
      if (src.configMap) {
        const cm = lookups.configMap(ns, src.configMap.name ?? "");
        if (!cm) {
          if (src.configMap.optional) continue;
          throw new VolumeNotReadyError(`${w}: configmap ${JSON.stringify(src.configMap.name)} not found`);
        }
        files.push(...keyedFiles(configMapData(cm), src.configMap.items, mode, !!src.configMap.optional, w));
      } else if (src.secret) {
        const s = lookups.secret(ns, src.secret.name ?? "");
        if (!s) {
          if (src.secret.optional) continue;
          throw new VolumeNotReadyError(`${w}: secret ${JSON.stringify(src.secret.name)} not found`);
        }
        files.push(...keyedFiles(secretData(s), src.secret.items, mode, !!src.secret.optional, w));
      } else if (src.downwardAPI) {
        files.push(...downwardFiles(pod, src.downwardAPI.items ?? [], mode, facts, w));
      } else if (src.serviceAccountToken) {
        const token = tokens(src.serviceAccountToken);
        if (token === undefined) throw new VolumeNotReadyError(`${w}: service account token not issued yet`);
        files.push({ path: checkPath(src.serviceAccountToken.path, w), data: Buffer.from(token), mode });
      } else {
        throw new VolumeNotSupportedError(`${w}: only configMap, secret, downwardAPI and serviceAccountToken projections are supported`);
      }
    }
    return { kind: "files", files };
  }
  const kind = Object.keys(volume).find((k) => k !== "name") ?? "(none)";
  throw new VolumeNotSupportedError(`${what}: volume type ${kind} is not supported by the process kubelet (supported: configMap, secret, emptyDir, projected, downwardAPI, hostPath)`);
}

function downwardFiles(pod: Pod, items: NonNullable<NonNullable<Volume["downwardAPI"]>["items"]>, mode: number, facts: PodFacts, what: string): VolumeFile[] {
  return items.map((item, i) => {
    const w = `${what}: items[${i}]`;
    let value: string;
    if (item.fieldRef) value = podFieldValue(pod, facts, item.fieldRef, w);
    else if (item.resourceFieldRef) value = resourceFieldValue(pod, facts, item.resourceFieldRef, undefined, w);
    else throw new VolumeNotSupportedError(`${w}: needs fieldRef or resourceFieldRef`);
    return { path: checkPath(item.path, w), data: Buffer.from(value), mode: item.mode ?? mode };
  });
}

/** ConfigMaps and Secrets (namespace/name) a pod's volumes read, to re-materialise on change. */
export function referencedObjects(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const ns = pod.metadata?.namespace ?? "default";
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap) configMaps.add(`${ns}/${v.configMap.name}`);
    if (v.secret) secrets.add(`${ns}/${v.secret.secretName}`);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) configMaps.add(`${ns}/${s.configMap.name}`);
      if (s.secret) secrets.add(`${ns}/${s.secret.name}`);
    }
  }
  const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of all) {
    for (const e of c.envFrom ?? []) {
      if (e.configMapRef) configMaps.add(`${ns}/${e.configMapRef.name}`);
      if (e.secretRef) secrets.add(`${ns}/${e.secretRef.name}`);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef) configMaps.add(`${ns}/${e.valueFrom.configMapKeyRef.name}`);
      if (e.valueFrom?.secretKeyRef) secrets.add(`${ns}/${e.valueFrom.secretKeyRef.name}`);
    }
  }
  return { configMaps, secrets };
}

/** The volume the kubelet adds for in-cluster config when admission did not (automount not off). */
export const serviceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
export function defaultServiceAccountVolume(): Volume {
  return {
    name: "kube-api-access-process-kubelet",
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    },
  };
}

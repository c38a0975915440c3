// Hints in the values schemas: Helm names only the key it refuses (`additional properties
// 'kernelspecs' not allowed`). draft-07 `dependencies` makes it also say what to write: in a closed
// object, `"kernelspecs": ["→ write kernelSpecs (keys are case-sensitive)"]` asks for a property
// that never exists whenever `kernelspecs` does, and Helm 3 and 4 print that property's name
// (`properties '→ write kernelSpecs ...' required, if 'kernelspecs' exists`) beside the refusal.
// Every hint is derived from the schema itself, except a short list of the keys platform teams
// bring from zero-to-jupyterhub and the Enterprise Gateway chart. Pure: schema in, schema out.
import type { Schema } from "../postprocess.ts";

/** How every hint starts, so a reader (and a test) tells it from a real property name. */
export const HINT_MARK = "→ ";

/** Where a key is written: the segments of its object, `[]` marking a list's items ("kernelSpecs[]", "gpu"). */
export type ObjectPath = readonly string[];

/** An object of our own that refuses unknown keys (additionalProperties: false), with its keys. */
export interface ClosedObject { path: ObjectPath; node: Schema; keys: string[] }

/** A values path as the docs write it: `kernelSpecs[].gpu`; the root is "". */
export function pathText(path: ObjectPath): string {
  return path.join(".");
}

/**
 * Every closed object of a values schema, root first, in schema order. Kubernetes' own types are
 * left open by toValuesSchema, so they are never closed objects and get no hints.
 */
export function closedObjects(schema: Schema): ClosedObject[] {
  const out: ClosedObject[] = [];
  const walk = (node: Schema, path: ObjectPath): void => {
    if (node.additionalProperties === false && node.properties) out.push({ path, node, keys: Object.keys(node.properties) });
    for (const [key, child] of Object.entries(node.properties ?? {})) walk(child as Schema, [...path, key]);
    // A list's items and a union's branches sit where the list or the union is.
    if (node.items && typeof node.items === "object") walk(node.items, itemsPath(path));
    if (typeof node.additionalProperties === "object") walk(node.additionalProperties, [...path.slice(0, -1), `${path.at(-1) ?? ""}{}`]);
    for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) walk(branch as Schema, path);
  };
  walk(schema, []);
  return out;
}

function itemsPath(path: ObjectPath): ObjectPath {
  return [...path.slice(0, -1), `${path.at(-1) ?? ""}[]`];
}

/** Spellings of `key` a user may type for it: all lowercase, snake_case, kebab-case, Capitalised. */
export function spellingVariants(key: string): string[] {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").split(" ").map((w) => w.toLowerCase());
  const variants = [key.toLowerCase(), words.join("_"), words.join("-"), key.charAt(0).toUpperCase() + key.slice(1)];
  return [...new Set(variants)].filter((v) => v !== key);
}

function spellingHint(key: string, variant: string): string {
  const why = variant.toLowerCase() === key.toLowerCase() ? "keys are case-sensitive" : "keys are camelCase";
  return `${HINT_MARK}write ${key} (${why})`;
}

/** "belongs under gateway, kernelSpecs[]", or "belongs at the top level or under kernelSpecs[]". */
function placementHint(key: string, places: ObjectPath[]): string {
  const named = places.filter((p) => p.length > 0).map(pathText);
  if (named.length === places.length) return `${HINT_MARK}${key} belongs under ${named.join(", ")}`;
  if (named.length === 0) return `${HINT_MARK}${key} belongs at the top level`;
  return `${HINT_MARK}${key} belongs at the top level or under ${named.join(", ")}`;
}

function isAncestor(a: ObjectPath, b: ObjectPath): boolean {
  return a.length < b.length && a.every((s, i) => s === b[i]);
}

function isSibling(a: ObjectPath, b: ObjectPath): boolean {
  return a.length === b.length && a.length > 0 && a.slice(0, -1).every((s, i) => s === b[i]) && a.at(-1) !== b.at(-1);
}

/** Objects alike enough to be mistaken for one another: at least two keys in common (gateway and a notebook, two images). */
function alike(a: ClosedObject, b: ClosedObject): boolean {
  return a.keys.filter((k) => b.keys.includes(k)).length >= 2;
}

/**
 * Whether a user writing in `site` plausibly meant `place`, where the key is valid: a flattened
 * path (the site is above the place: `nodeSelector` at the top level instead of under `gateway`)
 * or a like object beside it (`gpu` in a notebook instead of a kernelspec). Hinting every key
 * everywhere would add thousands of entries for mistakes nobody makes.
 */
function plausiblyMeant(site: ClosedObject, place: ClosedObject): boolean {
  return isAncestor(site.path, place.path) || (isSibling(site.path, place.path) && alike(site, place));
}

/**
 * A key platform teams bring from another chart, at the object they write it in, and what to
 * write here instead. `refers` lists our paths the hint names (a list's items end in `[]`): the
 * hint is given only in a schema that has them all, so a rename drops it rather than leave it wrong.
 */
export interface AnchorHabit { from: "zero-to-jupyterhub" | "Enterprise Gateway"; at: string; key: string; hint: string; refers: string[] }

const Z2JH = "zero-to-jupyterhub";
/** Enterprise Gateway's Helm chart, and its kernelspecs' kernel.json. */
const EG = "Enterprise Gateway";

// Hints read inside Helm's single quotes, which it escapes: no quotes or apostrophes in them.
/** The keys of zero-to-jupyterhub's and Enterprise Gateway's values where ours differ. */
export const ANCHOR_HABITS: readonly AnchorHabit[] = [
  { from: Z2JH, at: "", key: "singleuser", hint: "write notebooks (one entry per notebook server) and notebookDefaults.image {repository, tag}; GPUs, node selectors and resources of kernels go in kernelSpecs", refers: ["notebooks[]", "notebookDefaults.image", "kernelSpecs[]"] },
  { from: Z2JH, at: "", key: "hub", hint: "none: there is no hub; each entry of notebooks is its own notebook server with its own token", refers: ["notebooks[]"] },
  { from: Z2JH, at: "", key: "proxy", hint: "none: each notebook has its own Service on notebooks[].port; point your own Ingress at it", refers: ["notebooks[].port"] },
  { from: Z2JH, at: "", key: "ingress", hint: "none: the chart creates no Ingress; point yours at the Service of a notebook (notebooks[].port)", refers: ["notebooks[].port"] },
  { from: Z2JH, at: "", key: "imagePullSecret", hint: "write imagePullSecrets: names of Secrets you create (kubectl create secret docker-registry); the chart creates none", refers: ["imagePullSecrets"] },
  { from: Z2JH, at: "", key: "scheduling", hint: "write nodeSelector, tolerations and affinity on each entry of kernelSpecs (no user scheduler or placeholder pods)", refers: ["kernelSpecs[].nodeSelector", "kernelSpecs[].tolerations", "kernelSpecs[].affinity"] },
  { from: Z2JH, at: "", key: "cull", hint: "write gateway.cullIdleTimeout and gateway.cullInterval (seconds), or cullIdleTimeout on an entry of kernelSpecs", refers: ["gateway.cullIdleTimeout", "gateway.cullInterval", "kernelSpecs[].cullIdleTimeout"] },
  { from: Z2JH, at: "", key: "prePuller", hint: "none: kernel pods pull their images when they start", refers: ["kernelSpecs[].image"] },
  { from: Z2JH, at: "", key: "debug", hint: "write gateway.logLevel: DEBUG", refers: ["gateway.logLevel"] },
  { from: Z2JH, at: "", key: "rbac", hint: "none: the operator creates the ServiceAccount, Role and RoleBinding of the gateway", refers: ["gateway.serviceAccountName"] },
  { from: Z2JH, at: "", key: "rbac", hint: "none: the chart always creates the RBAC of the operator", refers: ["operator.serviceAccount"] },
  { from: Z2JH, at: "", key: "fullnameOverride", hint: "none: write the names of what the chart creates (gateway.name, notebooks[].name)", refers: ["gateway.name", "notebooks[].name"] },
  { from: Z2JH, at: "", key: "nameOverride", hint: "none: write the names of what the chart creates (gateway.name, notebooks[].name)", refers: ["gateway.name", "notebooks[].name"] },
  { from: Z2JH, at: "kernelSpecs[]", key: "kubespawner_override", hint: "write its fields on the kernelspec itself: image, resources, nodeSelector, tolerations, affinity", refers: ["kernelSpecs[].image", "kernelSpecs[].resources", "kernelSpecs[].nodeSelector"] },
  { from: Z2JH, at: "kernelSpecs[]", key: "slug", hint: "write name", refers: ["kernelSpecs[].name"] },
  { from: Z2JH, at: "kernelSpecs[]", key: "cpu", hint: "write resources.requests.cpu and resources.limits.cpu", refers: ["kernelSpecs[].resources"] },
  { from: Z2JH, at: "kernelSpecs[]", key: "memory", hint: "write resources.requests.memory and resources.limits.memory", refers: ["kernelSpecs[].resources"] },
  { from: Z2JH, at: "kernelSpecs[]", key: "extraResource", hint: "write gpu {resourceName, count, max}, or the resource in resources.limits", refers: ["kernelSpecs[].gpu", "kernelSpecs[].resources"] },
  { from: EG, at: "", key: "image", hint: "write gateway.image {repository, tag} (the Enterprise Gateway image)", refers: ["gateway.image"] },
  { from: EG, at: "", key: "imagePullPolicy", hint: "write gateway.image.pullPolicy", refers: ["gateway.image.pullPolicy"] },
  { from: EG, at: "", key: "deployment", hint: "write gateway: resources, nodeSelector, tolerations, affinity, serviceAccountName, extraEnv (a list of {name, value}); it runs one replica", refers: ["gateway.resources", "gateway.nodeSelector", "gateway.extraEnv"] },
  { from: EG, at: "", key: "service", hint: "write gateway.port and gateway.responsePort (the operator creates a ClusterIP Service)", refers: ["gateway.port", "gateway.responsePort"] },
  { from: EG, at: "", key: "kernel", hint: "write gateway: kernels (allowedKernels), defaultKernel (defaultKernelName), cullIdleTimeout, cullConnected, launchTimeout; kernels always run in the namespace of the gateway", refers: ["gateway.kernels", "gateway.defaultKernel", "gateway.cullIdleTimeout"] },
  { from: EG, at: "", key: "kernelspecs", hint: "write kernelSpecs (keys are case-sensitive): a list of kernelspecs, each naming its image; there is no kernelspecs image", refers: ["kernelSpecs[].image"] },
  { from: EG, at: "", key: "kernelspecsPvc", hint: "none: kernelspecs come from kernelSpecs, not a volume", refers: ["kernelSpecs[]"] },
  { from: EG, at: "", key: "kip", hint: "none: there is no kernel image puller; kernel pods pull their images when they start", refers: ["kernelSpecs[].image"] },
  { from: EG, at: "", key: "authToken", hint: "write gateway.auth.secretName (a Secret with key token), or nothing for a generated token", refers: ["gateway.auth.secretName"] },
  { from: EG, at: "", key: "imagePullSecretsCreate", hint: "write imagePullSecrets: names of Secrets you create (kubectl create secret docker-registry); the chart creates none", refers: ["imagePullSecrets"] },
  { from: EG, at: "", key: "nfs", hint: "none: mount volumes in a kernel template (kernelTemplates[].template.spec.volumes)", refers: ["kernelTemplates[].template"] },
  { from: EG, at: "global", key: "rbac", hint: "none: the operator creates the ServiceAccount, Role and RoleBinding of the gateway", refers: ["gateway.serviceAccountName"] },
  { from: EG, at: "global", key: "rbac", hint: "none: the chart always creates the RBAC of the operator", refers: ["operator.serviceAccount"] },
  { from: EG, at: "global", key: "imagePullSecrets", hint: "write imagePullSecrets at the top level", refers: ["imagePullSecrets"] },
  { from: EG, at: "global", key: "commonLabels", hint: "none: the chart sets the app.kubernetes.io labels", refers: [] },
  { from: EG, at: "gateway", key: "replicas", hint: "none: a gateway runs one replica (its kernel sessions live in its memory)", refers: [] },
  { from: EG, at: "kernelSpecs[]", key: "argv", hint: "none: kernel.json argv is generated (the gateway runs our launcher); write what the kernel pod runs in kernelCommand", refers: ["kernelSpecs[].kernelCommand"] },
  { from: EG, at: "kernelSpecs[]", key: "metadata", hint: "write image, resources, nodeSelector and tolerations on the kernelspec; kernel.json metadata is generated from them", refers: ["kernelSpecs[].image", "kernelSpecs[].resources"] },
];

/** Every path a values file can write in the closed objects, lists' items included ("notebooks", "notebooks[]", "notebooks[].port"). */
export function writablePaths(objects: ClosedObject[]): Set<string> {
  const out = new Set<string>();
  for (const o of objects) {
    for (const key of o.keys) {
      const path = pathText([...o.path, key]);
      out.add(path);
      if (o.node.properties[key].type === "array") out.add(`${path}[]`);
    }
  }
  return out;
}

/** The anchor habits a schema can honour: each names only paths it has, at an object it closes. */
export function applicableHabits(objects: ClosedObject[], habits: readonly AnchorHabit[] = ANCHOR_HABITS): AnchorHabit[] {
  const paths = writablePaths(objects);
  const sites = new Map(objects.map((o) => [pathText(o.path), o]));
  return habits.filter((h) => sites.has(h.at) && !sites.get(h.at)!.keys.includes(h.key) && h.refers.every((r) => paths.has(r)));
}

/** Orders [key, value] pairs by key, as sortKeys orders a schema's keys (code units, not locale). */
function byKey([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The hints of each closed object (by its pathText): refused key -> what to write. One hint per
 * key, the most specific first: another chart's habit, then a spelling of a key valid here,
 * then the places where the key is valid.
 */
export function hintsFor(schema: Schema, habits: readonly AnchorHabit[] = ANCHOR_HABITS): Map<string, Map<string, string>> {
  const objects = closedObjects(schema);
  const places = new Map<string, ClosedObject[]>();
  for (const o of objects) for (const k of o.keys) places.set(k, [...(places.get(k) ?? []), o]);
  const out = new Map<string, Map<string, string>>();
  for (const o of objects) {
    if (out.has(pathText(o.path))) throw new Error(`schema-gen: two closed objects at ${pathText(o.path) || "<root>"}; hints need one`);
    out.set(pathText(o.path), new Map());
  }
  for (const h of applicableHabits(objects, habits)) {
    const hints = out.get(h.at)!;
    if (hints.has(h.key)) throw new Error(`schema-gen: two habits hint ${h.key} at ${h.at || "<root>"}`);
    hints.set(h.key, `${HINT_MARK}${h.hint}`);
  }
  for (const o of objects) {
    const hints = out.get(pathText(o.path))!;
    const add = (key: string, hint: string) => { if (!o.keys.includes(key) && !hints.has(key)) hints.set(key, hint); };
    for (const key of o.keys) for (const v of spellingVariants(key)) add(v, spellingHint(key, v));
    for (const [key, where] of [...places].sort(byKey)) {
      if (o.keys.includes(key) || !where.some((p) => plausiblyMeant(o, p))) continue;
      add(key, placementHint(key, where.map((p) => p.path)));
    }
  }
  return out;
}

/** The schema with every closed object's hints as `dependencies` (keys sorted, so output is stable). */
export function withHints(schema: Schema, habits: readonly AnchorHabit[] = ANCHOR_HABITS): Schema {
  const hints = hintsFor(schema, habits);
  const copy: Schema = structuredClone(schema);
  for (const o of closedObjects(copy)) {
    const entries = [...hints.get(pathText(o.path))!].sort(byKey);
    if (entries.length === 0) continue;
    if (o.node.dependencies !== undefined) throw new Error(`schema-gen: ${pathText(o.path) || "<root>"} has dependencies of its own`);
    // Added last, after the object's own keywords: the schema reads as its contract first.
    o.node.dependencies = Object.fromEntries(entries.map(([key, hint]) => [key, [hint]]));
  }
  return copy;
}

/**
 * JSON text of a values schema with each hint on one line (`"kernelspecs": ["→ write ..."]`)
 * rather than three: hundreds of hints would otherwise double the file a reader scrolls through.
 */
export function valuesSchemaJson(schema: Schema): string {
  const oneHint = new RegExp(`\\[\\n\\s*("${HINT_MARK}(?:[^"\\\\]|\\\\.)*")\\n\\s*\\]`, "g");
  return `${JSON.stringify(schema, null, 2).replace(oneHint, "[$1]")}\n`;
}

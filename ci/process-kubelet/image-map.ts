// The image map: since pods run as local processes, an image stands for a local runtime. Each
// entry matches image repositories (tag and digest ignored) by glob or regex and says how to run
// them: ENTRYPOINT/CMD stand-ins (defaultCommand/defaultArgs), a commandPrefix, image ENV and a
// WORKDIR. Strings in an entry may use `$(VAR)`: the kubelet's own environment (e.g. $(PATH)) and
// the pod facts POD_IP, POD_NAME, POD_NAMESPACE, POD_UID, NODE_NAME, HOST_IP.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { expand, lookupIn } from "./expansion.ts";
import { readOciImage, type OciImage } from "./oci-image.ts";

export interface ImageMapEntry {
  /** Glob on the repository: `*` matches any run of characters (slashes too), `?` one. */
  match?: string;
  /** Regular expression on the repository (unanchored unless you anchor it). */
  regex?: string;
  /** Prepended to the final argv (e.g. a wrapper script). */
  commandPrefix?: string[];
  /** The image's ENTRYPOINT: used when the container sets no command. */
  defaultCommand?: string[];
  /** The image's CMD: used when the container sets neither command nor args. */
  defaultArgs?: string[];
  /** The image's ENV: the container's env overrides it. */
  env?: Record<string, string>;
  /** The image's WORKDIR: used when the container sets no workingDir. */
  workingDir?: string;
  /** An OCI image layout holding the image itself: its layers become the container's root and its
   *  ENTRYPOINT, CMD, ENV, WORKDIR and USER apply (instead of the fields above). */
  ociLayout?: string;
}

export interface ImageMap {
  entries: Array<ImageMapEntry & { pattern: RegExp; source: string; image?: OciImage }>;
}

/** The repository of an image reference: no digest, no tag ("docker.io/x/y:1.2" -> "docker.io/x/y"). */
export function repositoryOf(image: string): string {
  const noDigest = image.split("@")[0]!;
  const lastSlash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

const entryKeys = new Set(["match", "regex", "commandPrefix", "defaultCommand", "defaultArgs", "env", "workingDir", "ociLayout"]);
const localOnlyKeys = ["commandPrefix", "defaultCommand", "defaultArgs", "env", "workingDir"] as const;

/** Validates parsed image-map data; every error names the entry and field. */
export function parseImageMap(data: unknown, source = "image map"): ImageMap {
  const list = Array.isArray(data) ? data : (data as { images?: unknown } | null)?.images;
  if (!Array.isArray(list)) throw new Error(`${source}: expected a list of entries or {images: [...]}`);
  const entries = list.map((raw, i) => {
    const where = `${source}: images[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${where}: must be an object`);
    const e = raw as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!entryKeys.has(k)) throw new Error(`${where}: unknown field ${JSON.stringify(k)} (known: ${[...entryKeys].join(", ")})`);
    if ((e.match === undefined) === (e.regex === undefined)) throw new Error(`${where}: exactly one of match (glob) and regex is required`);
    for (const k of ["match", "regex", "workingDir", "ociLayout"] as const) {
      if (e[k] !== undefined && (typeof e[k] !== "string" || e[k] === "")) throw new Error(`${where}.${k}: must be a non-empty string`);
    }
    for (const k of ["commandPrefix", "defaultCommand", "defaultArgs"] as const) {
      if (e[k] !== undefined && !(Array.isArray(e[k]) && e[k].every((s) => typeof s === "string"))) throw new Error(`${where}.${k}: must be a list of strings`);
    }
    if (e.env !== undefined && (typeof e.env !== "object" || e.env === null || Array.isArray(e.env) || !Object.values(e.env).every((v) => typeof v === "string"))) {
      throw new Error(`${where}.env: must be a map of strings to strings`);
    }
    let pattern: RegExp;
    if (typeof e.regex === "string") {
      try { pattern = new RegExp(e.regex); } catch (err) { throw new Error(`${where}.regex: ${(err as Error).message}`); }
    } else {
      pattern = globToRegExp(e.match as string);
    }
    let image: OciImage | undefined;
    if (typeof e.ociLayout === "string") {
      const mixed = localOnlyKeys.filter((k) => e[k] !== undefined);
      if (mixed.length) throw new Error(`${where}: ociLayout takes ENTRYPOINT, CMD, ENV and WORKDIR from the image; drop ${mixed.join(", ")}`);
      image = readOciImage(e.ociLayout, `${where}.ociLayout ${e.ociLayout}`);
    }
    return { ...(e as ImageMapEntry), pattern, ...(image ? { image } : {}), source: `${where} (${e.match !== undefined ? `match ${e.match}` : `regex ${e.regex}`})` };
  });
  return { entries };
}

export function loadImageMap(path: string): ImageMap {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (err) { throw new Error(`--image-map ${path}: ${(err as Error).message}`); }
  let data: unknown;
  try { data = parseYaml(text); } catch (err) { throw new Error(`--image-map ${path}: not valid YAML/JSON: ${(err as Error).message}`); }
  return parseImageMap(data, `--image-map ${path}`);
}

/** The image cannot be run here: the pod fails with reason ImageNotMapped. */
export class ImageNotMappedError extends Error {}

export interface ProcessSpec {
  argv: string[];
  /** Image ENV (expanded); the container env is layered on top by the caller. */
  imageEnv: Record<string, string>;
  workingDir: string;
  entry: string;
  /** Set when the entry is an OCI image: the container runs in a root made from its layers. */
  image?: OciImage;
}

/** How to run one container: argv (Kubernetes' command/args rules against the entry's
 *  ENTRYPOINT/CMD), image env and working directory. `containerEnv` expands command and args;
 *  `mapVars` (kubelet env + pod facts) expands the entry's own strings. */
export function processFor(map: ImageMap, container: { name: string; image?: string; command?: string[]; args?: string[]; workingDir?: string },
  containerEnv: Record<string, string>, mapVars: Record<string, string>, mapSource = "the image map"): ProcessSpec {
  const image = container.image ?? "";
  const repo = repositoryOf(image);
  const found = map.entries.find((e) => e.pattern.test(repo));
  // An OCI image entry: the image's own config stands where a local entry's fields would.
  const wantDigest = /@(sha256:[0-9a-f]{64})$/.exec(image)?.[1];
  if (found?.image && wantDigest && wantDigest !== found.image.digest) {
    throw new ImageNotMappedError(`container ${container.name}: image ${JSON.stringify(image)} names digest ${wantDigest}, but ${found.source} holds ${found.image.digest}`);
  }
  const entry = found?.image
    ? { ...found, defaultCommand: found.image.entrypoint, defaultArgs: found.image.cmd, env: found.image.env, workingDir: found.image.workingDir }
    : found;
  if (!entry) throw new ImageNotMappedError(`container ${container.name}: image ${JSON.stringify(image)} (repository ${JSON.stringify(repo)}) matches no entry of ${mapSource}; processes run on this machine, so every image needs an entry saying how to run it`);
  const fromMap = lookupIn(mapVars);
  const fromEnv = lookupIn(containerEnv);
  const mapStr = (s: string): string => expand(s, fromMap);
  const podStr = (s: string): string => expand(s, fromEnv);

  let argv: string[];
  if (container.command?.length) {
    argv = [...container.command, ...(container.args ?? [])].map(podStr);
  } else {
    const args = container.args?.length ? container.args.map(podStr) : (entry.defaultArgs ?? []).map(mapStr);
    argv = [...(entry.defaultCommand ?? []).map(mapStr), ...args];
  }
  if (argv.length === 0) throw new ImageNotMappedError(`container ${container.name}: no command to run: the container sets no command and ${entry.source} has no defaultCommand`);
  return {
    argv: [...(entry.commandPrefix ?? []).map(mapStr), ...argv],
    imageEnv: Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, mapStr(v)])),
    workingDir: container.workingDir || (entry.workingDir ? mapStr(entry.workingDir) : "/"),
    entry: entry.source,
    ...(entry.image ? { image: entry.image } : {}),
  };
}

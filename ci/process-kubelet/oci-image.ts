// Images the process kubelet runs for real: an OCI image layout on disk (ci/image/build-controller.sh
// writes one). Reads the image's config (ENTRYPOINT, CMD, ENV, WORKDIR, USER) and unpacks its
// layers once per digest into a directory the pod's containers use as the lower layer of their root.
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface OciImage {
  layout: string;
  /** The manifest's digest: what a registry would show for the image. */
  digest: string;
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workingDir: string;
  /** USER as uid and gid; names are not looked up (our images use numbers). */
  uid: number;
  gid: number;
  /** Layer blobs, base first. */
  layers: string[];
}

interface Descriptor { mediaType: string; digest: string }

const blob = (layout: string, d: Descriptor): string => join(layout, "blobs", ...d.digest.split(":"));

/** "65532", "65532:65532" or "" (root). */
export function parseUser(user: string, where: string): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) throw new Error(`${where}: USER ${JSON.stringify(user)} must be numeric (uid or uid:gid)`);
  return { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) };
}

/** The single image of an OCI layout (index.json with one manifest). */
export function readOciImage(layout: string, where = layout): OciImage {
  let index: { manifests?: Descriptor[] };
  try { index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")); } catch (err) {
    throw new Error(`${where}: not an OCI image layout: ${(err as Error).message}`);
  }
  const manifests = index.manifests ?? [];
  if (manifests.length !== 1) throw new Error(`${where}: index.json must name exactly one image, it names ${manifests.length}`);
  const desc = manifests[0]!;
  const manifest = JSON.parse(readFileSync(blob(layout, desc), "utf8")) as { config: Descriptor; layers: Descriptor[] };
  const config = (JSON.parse(readFileSync(blob(layout, manifest.config), "utf8")) as { config?: Record<string, unknown> }).config ?? {};
  for (const l of manifest.layers) {
    if (!/tar\+gzip$|tar\.gzip$|rootfs\.diff\.tar\.gzip$/.test(l.mediaType)) throw new Error(`${where}: layer ${l.digest}: media type ${l.mediaType} is not a gzip tar`);
  }
  const env = Object.fromEntries(((config.Env as string[] | undefined) ?? []).map((kv) => {
    const i = kv.indexOf("=");
    return i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
  }));
  return {
    layout, digest: desc.digest,
    entrypoint: (config.Entrypoint as string[] | undefined) ?? [], cmd: (config.Cmd as string[] | undefined) ?? [],
    env, workingDir: (config.WorkingDir as string | undefined) || "/",
    ...parseUser((config.User as string | undefined) ?? "", `${where}: config`),
    layers: manifest.layers.map((l) => blob(layout, l)),
  };
}

/** Unpacks the image's layers (as root, keeping owners and modes) into <cacheDir>/<digest>, once;
 *  returns that directory. Whiteouts (files deleted by a later layer) are not supported: our
 *  images have none, and an image that has them is refused rather than run wrong. */
export function unpackImage(image: OciImage, cacheDir: string): string {
  const dir = join(cacheDir, image.digest.replace(":", "-"));
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const layer of image.layers) {
    const names = execFileSync("tar", ["-tzf", layer], { maxBuffer: 256 << 20 }).toString();
    if (/(^|\/)\.wh\./m.test(names)) throw new Error(`${image.layout}: layer ${layer} has whiteout entries, which the process kubelet does not apply`);
    execFileSync("tar", ["-xzf", layer, "-C", tmp, "--same-owner", "--same-permissions", "--numeric-owner"]);
  }
  renameSync(tmp, dir);
  return dir;
}

/** The home directory of uid in the image's /etc/passwd (as the kubelet sets HOME), else "/". */
export function homeOf(root: string, uid: number): string {
  try {
    for (const line of readFileSync(join(root, "etc/passwd"), "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length >= 6 && Number(f[2]) === uid && f[5]) return f[5];
    }
  } catch { /* no passwd: "/" */ }
  return "/";
}

/** A path as the image sees it, its symlinks followed inside root (an absolute link such as
 *  /var/run -> /run means root's /run, never this machine's); the missing tail is kept as is. */
export function resolveInRoot(root: string, path: string): string {
  const parts = path.split("/").filter((p) => p && p !== ".");
  const done: string[] = [];
  for (let hops = 0; parts.length; ) {
    const name = parts.shift()!;
    if (name === "..") { done.pop(); continue; }
    const here = join(root, ...done, name);
    let link: string | undefined;
    try { link = lstatSync(here).isSymbolicLink() ? readlinkSync(here) : undefined; } catch { /* missing: kept */ }
    if (link === undefined) { done.push(name); continue; }
    if (++hops > 40) throw new Error(`${path}: too many symlinks in the image`);
    if (link.startsWith("/")) done.length = 0;
    parts.unshift(...link.split("/").filter((p) => p && p !== "."));
  }
  return "/" + done.join("/");
}

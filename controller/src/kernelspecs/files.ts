// Kernelspec sync (sidecar role): the kernelspec ConfigMaps selected for this gateway become
// directories in the gateway's kernels directory, so kernelspecs come and go without a restart.
//
// Atomicity: a kernelspec directory is never written in place. Each version is written to
// `.versions/<name>-<hash>/` and `<name>` is a symlink swapped by rename(2), which is atomic, so the
// gateway sees either the old kernel.json or the new one, never half of one.
import { createHash } from "node:crypto";
import { mkdir, readdir, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigMap } from "kubernetes-types/core/v1.js";

export const KERNELSPEC_LABEL = "kubeflow.tkestack.io/kernelspec";
const VERSIONS = ".versions";

/** File name -> contents of one kernelspec directory. */
export type KernelspecFiles = Record<string, Buffer>;

/** Jupyter's rule for kernel names (jupyter_client's kernelspec.NAME_PAT), checked before a name becomes a path. */
const KERNEL_NAME = /^[a-z0-9._-]+$/i;

/**
 * The kernelspec directories the gateway should have: one per ConfigMap labelled with a kernelspec
 * name, limited to `selected` when the gateway lists its kernels (an empty list serves them all).
 * Pure: ConfigMaps in, files out. Entries that cannot be safe paths are skipped and reported.
 */
export function desiredKernelspecs(configMaps: ConfigMap[], selected: string[]): { specs: Map<string, KernelspecFiles>; skipped: string[] } {
  const specs = new Map<string, KernelspecFiles>();
  const skipped: string[] = [];
  const wanted = new Set(selected);
  for (const cm of configMaps) {
    const name = cm.metadata?.labels?.[KERNELSPEC_LABEL];
    if (!name || (wanted.size > 0 && !wanted.has(name))) continue;
    if (!KERNEL_NAME.test(name)) { skipped.push(`${cm.metadata?.name}: kernelspec name "${name}" is not a valid kernel name`); continue; }
    // kernel.json alone: it is all the operator renders, and other kernelspec resources (kernel.js)
    // would run in the users' browsers.
    const json = cm.data?.["kernel.json"];
    if (json === undefined) { skipped.push(`${cm.metadata?.name}: no kernel.json`); continue; }
    specs.set(name, { "kernel.json": Buffer.from(json, "utf8") });
  }
  return { specs, skipped };
}

function versionOf(files: KernelspecFiles): string {
  const h = createHash("sha256");
  for (const f of Object.keys(files).sort()) h.update(f).update("\0").update(files[f]!).update("\0");
  return h.digest("hex").slice(0, 16);
}

export interface SyncResult { written: string[]; removed: string[] }

/** Makes `dir` hold exactly the given kernelspecs (only entries this sync manages are removed). */
export async function syncKernelsDir(dir: string, specs: Map<string, KernelspecFiles>): Promise<SyncResult> {
  const versionsDir = join(dir, VERSIONS);
  await mkdir(versionsDir, { recursive: true });
  const result: SyncResult = { written: [], removed: [] };
  const current = await managedLinks(dir);

  for (const [name, files] of specs) {
    const version = `${name}-${versionOf(files)}`;
    if (current.get(name) === join(VERSIONS, version)) continue;
    const target = join(versionsDir, version);
    await rm(target, { recursive: true, force: true });
    await mkdir(target);
    for (const [file, content] of Object.entries(files)) await writeFile(join(target, file), content);
    const tmpLink = join(dir, `.${name}.${process.pid}.tmp`);
    await rm(tmpLink, { force: true });
    await symlink(join(VERSIONS, version), tmpLink);
    await rename(tmpLink, join(dir, name));
    result.written.push(name);
  }
  for (const name of current.keys()) {
    if (specs.has(name)) continue;
    await rm(join(dir, name), { force: true });
    result.removed.push(name);
  }
  await pruneVersions(versionsDir, await managedLinks(dir));
  return result;
}

/** name -> link target for the symlinks this sync created. */
async function managedLinks(dir: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isSymbolicLink() || entry.name.startsWith(".")) continue;
    const target = await readlink(join(dir, entry.name));
    if (target.startsWith(`${VERSIONS}/`)) links.set(entry.name, target);
  }
  return links;
}

/** Deletes version directories no link points at (after the swap, so none is in use). */
async function pruneVersions(versionsDir: string, live: Map<string, string>): Promise<void> {
  const inUse = new Set([...live.values()].map((t) => t.slice(VERSIONS.length + 1)));
  for (const v of await readdir(versionsDir)) {
    if (!inUse.has(v)) await rm(join(versionsDir, v), { recursive: true, force: true });
  }
}

// Writes a volume's files the way the kubelet's AtomicWriter does, so a reader never sees a half
// update: the data lives in a timestamped directory `..<time>.<rand>`, `..data` is a symlink to
// it, and each visible top-level name is a symlink into `..data`. An update writes a new
// timestamped directory and swaps `..data` with one rename(2). Bind mounts of the volume directory
// see the swap at once (same directory inode), exactly as a ConfigMap update reaches a pod.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, chmodSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { VolumeFile } from "./volumes.ts";

function stamp(now: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.`;
}

/** Every regular file under dir, as relative paths. */
function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

/** True when the current `..data` holds exactly these files with these modes. */
function unchanged(dir: string, files: VolumeFile[]): boolean {
  const data = join(dir, "..data");
  if (!existsSync(data)) return false;
  const current = listFiles(data).sort();
  const wanted = files.map((f) => f.path).sort();
  if (current.length !== wanted.length || current.some((p, i) => p !== wanted[i])) return false;
  return files.every((f) => {
    const p = join(data, f.path);
    return (statSync(p).mode & 0o777) === (f.mode & 0o777) && readFileSync(p).equals(f.data);
  });
}

/** Makes dir hold exactly `files`; returns whether anything changed. */
export function writeAtomically(dir: string, files: VolumeFile[], now = new Date()): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (unchanged(dir, files)) return false;
  const oldTarget = existsSync(join(dir, "..data")) ? readlinkSync(join(dir, "..data")) : undefined;

  const tsDir = mkdtempSync(join(dir, stamp(now)));
  chmodSync(tsDir, 0o755);
  for (const f of files) {
    const p = join(tsDir, f.path);
    mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
    writeFileSync(p, f.data, { mode: f.mode & 0o777 });
    chmodSync(p, f.mode & 0o777); // writeFileSync's mode is masked by the umask
  }
  const tmpLink = join(dir, "..data_tmp");
  rmSync(tmpLink, { force: true });
  symlinkSync(tsDir.slice(dir.length + 1), tmpLink);
  renameSync(tmpLink, join(dir, "..data"));

  const visible = new Set(files.map((f) => f.path.split("/")[0]!));
  for (const name of visible) {
    const p = join(dir, name);
    let isLink = false;
    try { isLink = lstatSync(p).isSymbolicLink(); } catch { /* absent */ }
    if (!isLink) symlinkSync(join("..data", name), p);
  }
  for (const name of readdirSync(dir)) {
    if (!name.startsWith("..") && !visible.has(name)) rmSync(join(dir, name), { force: true, recursive: true });
  }
  if (oldTarget && oldTarget !== tsDir.slice(dir.length + 1)) rmSync(join(dir, oldTarget), { recursive: true, force: true });
  return true;
}

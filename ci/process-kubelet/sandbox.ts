// Runs one container as a local process: `unshare` gives it its own mount and UTS namespaces, a
// small sh script bind-mounts its volumes at their mountPaths (read-only where Kubernetes mounts
// them read-only), sets the hostname to the pod's, and execs the command - so the process has the
// same pid from spawn to exit. Every process of a container goes into its own pids cgroup (v1,
// when writable) so that stopping a container finds children that left its process group, as
// a container runtime's cgroup would. Mounts live only in the private namespace: when its last
// process exits the kernel drops them, nothing is mounted on the host.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { processAlive } from "./ip-allocator.ts";

export interface Mount { source: string; target: string; readOnly: boolean }

export interface LaunchSpec {
  /** Unique per container run; names its cgroup. */
  id: string;
  argv: string[];
  env: Record<string, string>;
  workingDir: string;
  hostname: string;
  mounts: Mount[];
  logFile: string;
  /** Where the script writes why it could not exec (mount failed, command not found). */
  startErrorFile: string;
  /** Run in an image's root instead of this machine's: mount targets, workingDir and argv are
   *  inside it. */
  rootfs?: RootFs;
}

/** An image's root for one container run: the unpacked image (read-only, shared) under an overlay
 *  whose upper layer is this run's (`dir`), mounted only in the container's mount namespace. */
export interface RootFs { image: string; dir: string; uid: number; gid: number }

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface RunningProcess {
  pid: number;
  exited: Promise<Exit>;
}

export interface SandboxTools { unshare: string; sh: string; mount: string; hostname: string; mkdir: string }

/** Absolute paths of the tools the launcher needs (a container's PATH may not reach them). */
export function findTools(path = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"): SandboxTools {
  const find = (name: string): string => {
    for (const dir of [...path.split(":"), "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
      const p = join(dir, name);
      try { if (dir && statSync(p).isFile()) return p; } catch { /* next */ }
    }
    throw new Error(`process kubelet needs ${name} (util-linux/coreutils) on PATH`);
  };
  return { unshare: find("unshare"), sh: find("sh"), mount: find("mount"), hostname: find("hostname"), mkdir: find("mkdir") };
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Mount order: parents before children, so nested mountPaths work. */
export function sortMounts(mounts: Mount[]): Mount[] {
  return [...mounts].sort((a, b) => a.target.split("/").length - b.target.split("/").length);
}

/** The script run inside the new namespaces; "$@" is the container's argv. */
export function launchScript(spec: LaunchSpec, tools: SandboxTools, cgroupDir: string | undefined): string {
  const q = shellQuote;
  const rfs = spec.rootfs;
  const root = rfs ? join(rfs.dir, "merged") : "";
  const lines = [
    `fail() { printf '%s\\n' "$1" > ${q(spec.startErrorFile)}; printf 'process-kubelet: %s\\n' "$1" >&2; exit 128; }`,
  ];
  if (cgroupDir) lines.push(`echo $$ > ${q(join(cgroupDir, "cgroup.procs"))} || fail ${q(`cannot join cgroup ${cgroupDir}`)}`);
  lines.push(`${q(tools.hostname)} ${q(spec.hostname)} || fail ${q(`cannot set hostname ${spec.hostname}`)}`);
  if (rfs) {
    const [upper, work] = [join(rfs.dir, "upper"), join(rfs.dir, "work")];
    lines.push(`${q(tools.mkdir)} -p ${q(upper)} ${q(work)} ${q(root)} || fail ${q(`cannot create ${rfs.dir}`)}`);
    lines.push(`${q(tools.mount)} -t overlay overlay -o ${q(`lowerdir=${rfs.image},upperdir=${upper},workdir=${work}`)} ${q(root)} || fail ${q(`cannot mount the image root ${rfs.image}`)}`);
    lines.push(`${q(tools.mkdir)} -p ${q(root + "/proc")} ${q(root + "/dev")} && ${q(tools.mount)} -t proc proc ${q(root + "/proc")} && ${q(tools.mount)} --rbind /dev ${q(root + "/dev")} || fail 'cannot mount /proc and /dev in the image root'`);
  }
  for (const m of sortMounts(spec.mounts).map((m) => ({ ...m, target: root + m.target }))) {
    // A target nested in an earlier mount must exist inside that volume, as runc creates it.
    lines.push(`[ -e ${q(m.target)} ] || if [ -d ${q(m.source)} ]; then ${q(tools.mkdir)} -p ${q(m.target)}; else ${q(tools.mkdir)} -p ${q(dirname(m.target))} && : > ${q(m.target)}; fi`);
    lines.push(`${q(tools.mount)} --bind ${q(m.source)} ${q(m.target)} || fail ${q(`cannot bind-mount ${m.source} at ${m.target}`)}`);
    if (m.readOnly) lines.push(`${q(tools.mount)} -o remount,bind,ro ${q(m.target)} || fail ${q(`cannot make ${m.target} read-only`)}`);
  }
  if (rfs) {
    lines.push(`[ -d ${q(root + spec.workingDir)} ] || fail ${q(`workingDir ${spec.workingDir}: no such directory in the image`)}`);
    lines.push(`case "$1" in /*) [ -x ${q(root)}"$1" ] || fail "exec: \\"$1\\": no such file in the image";; esac`);
    // unshare chroots, changes directory, drops groups and sets gid and uid, then execs: one pid.
    lines.push(`exec ${q(tools.unshare)} --root=${q(root)} --wd=${q(spec.workingDir)} --setgid ${rfs.gid} --setuid ${rfs.uid} -- "$@"`);
    return lines.join("\n");
  }
  lines.push(`cd ${q(spec.workingDir)} || fail ${q(`workingDir ${spec.workingDir}: no such directory`)}`);
  lines.push(`command -v -- "$1" >/dev/null 2>&1 || fail "exec: \\"$1\\": executable file not found in \\$PATH"`);
  lines.push(`exec "$@"`);
  return lines.join("\n");
}

/** Creates mount targets that do not exist on this machine (a directory under /var/run/secrets
 *  must exist to be a mount point) and removes them again once no pod uses them. Removing a
 *  directory that is a mount point in another mount namespace detaches that mount, so a target
 *  is removed only when no live process kubelet on this machine claims it: each claim is a file
 *  `<registry>/<hash of path>.<kubelet pid>`. */
export class MountTargets {
  private readonly targets = new Map<string, Set<string>>();
  /** Every directory or file this kubelet created for a target, ancestors included. */
  private readonly created = new Set<string>();
  private readonly registry: string | undefined;
  private readonly pid: number;

  constructor(registryDir?: string, pid = process.pid) {
    this.registry = registryDir;
    this.pid = pid;
    if (registryDir) mkdirSync(registryDir, { recursive: true });
  }

  private static hash(target: string): string {
    return createHash("sha256").update(target).digest("hex").slice(0, 32);
  }

  /** Claims in the registry (all, or those on one target): which kubelet, alive or not, and
   *  what it created, so a later kubelet can clean up after one that crashed. */
  private claims(target?: string): Array<{ file: string; hash: string; pid: number; alive: boolean; created: string[] }> {
    if (!this.registry) return [];
    const only = target === undefined ? undefined : MountTargets.hash(target);
    const out = [];
    for (const f of readdirSync(this.registry)) {
      const m = /^([0-9a-f]{32})\.(\d+)$/.exec(f);
      if (!m || (only && m[1] !== only)) continue;
      const pid = Number(m[2]);
      const alive = pid === this.pid || processAlive(pid);
      let created: string[] = [];
      try { created = (JSON.parse(readFileSync(join(this.registry, f), "utf8")) as { created?: string[] }).created ?? []; } catch { /* unreadable: nothing to clean */ }
      out.push({ file: join(this.registry, f), hash: m[1]!, pid, alive, created });
    }
    return out;
  }

  ensure(owner: string, target: string, isDir: boolean): void {
    let owners = this.targets.get(target);
    if (!owners) {
      const made: string[] = [];
      if (!existsSync(target)) {
        for (let p = target; !existsSync(p); p = dirname(p)) made.push(p);
        if (isDir) mkdirSync(target, { recursive: true });
        else { mkdirSync(dirname(target), { recursive: true }); closeSync(openSync(target, "a")); }
      }
      for (const p of made) this.created.add(p);
      owners = new Set();
      this.targets.set(target, owners);
      if (this.registry) writeFileSync(join(this.registry, `${MountTargets.hash(target)}.${this.pid}`), JSON.stringify({ target, created: made }));
    }
    owners.add(owner);
  }

  private drop(target: string): void {
    this.targets.delete(target);
    const claims = this.claims(target);
    for (const c of claims) if (c.pid === this.pid) rmSync(c.file, { force: true });
    if (claims.some((c) => c.alive && c.pid !== this.pid)) return; // another kubelet's pod mounts it
    // What crashed kubelets created for it is ours to clean up now.
    const inherited = new Set(claims.filter((c) => !c.alive).flatMap((c) => c.created));
    for (const c of claims) if (!c.alive) rmSync(c.file, { force: true });
    // The target and the ancestors made for it, each only while empty and nobody's target.
    for (let p = target; (this.created.has(p) || inherited.has(p)) && !this.targets.has(p) && !this.claims(p).some((c) => c.alive) && removeIfEmpty(p); p = dirname(p)) {
      this.created.delete(p);
    }
  }

  release(owner: string): void {
    for (const [target, owners] of [...this.targets]) {
      owners.delete(owner);
      if (owners.size === 0) this.drop(target);
    }
  }

  releaseAll(): void {
    for (const target of [...this.targets.keys()]) this.drop(target);
  }

  /** Cleans up after kubelets that died without releasing (SIGKILL): for each target no live
   *  kubelet claims, removes what they created (deepest first, only if empty) and their claims;
   *  where a live kubelet shares the target, it inherits that cleanup when it releases it.
   *  Call once their processes are gone (their mount namespaces with them). */
  sweepStale(): void {
    const byHash = Map.groupBy(this.claims(), (c) => c.hash);
    for (const group of byHash.values()) {
      if (group.some((c) => c.alive)) {
        // Still in use: keep stale claims that made something (the user inherits them on release).
        for (const c of group) if (!c.alive && c.created.length === 0) rmSync(c.file, { force: true });
        continue;
      }
      const paths = [...new Set(group.flatMap((c) => c.created))].sort((a, b) => b.split("/").length - a.split("/").length);
      for (const p of paths) if (!this.targets.has(p)) removeIfEmpty(p);
      for (const c of group) rmSync(c.file, { force: true });
    }
  }
}

/** Removes an empty directory or empty file; false when it is not empty or cannot be removed. */
function removeIfEmpty(path: string): boolean {
  try {
    const st = statSync(path);
    if (st.isDirectory()) rmdirSync(path);
    else if (st.size === 0) rmSync(path);
    else return false;
    return true;
  } catch { return false; }
}

export class Sandbox {
  readonly tools: SandboxTools;
  /** The pids-cgroup directory for this kubelet, or undefined when cgroups are not writable. */
  readonly cgroupRoot: string | undefined;

  constructor(tools: SandboxTools, cgroupRoot: string | undefined) {
    this.tools = tools;
    this.cgroupRoot = cgroupRoot;
  }

  /** Uses /sys/fs/cgroup/pids/process-kubelet/<node> when it can be created. */
  static create(nodeName: string, tools = findTools()): Sandbox {
    const dir = join("/sys/fs/cgroup/pids/process-kubelet", nodeName);
    try { mkdirSync(dir, { recursive: true }); } catch { return new Sandbox(tools, undefined); }
    return new Sandbox(tools, dir);
  }

  cgroupOf(id: string): string | undefined {
    return this.cgroupRoot ? join(this.cgroupRoot, id.replace(/[^A-Za-z0-9_.-]/g, "_")) : undefined;
  }

  launch(spec: LaunchSpec): RunningProcess {
    const cg = this.cgroupOf(spec.id);
    if (cg) mkdirSync(cg, { recursive: true });
    mkdirSync(dirname(spec.logFile), { recursive: true });
    rmSync(spec.startErrorFile, { force: true });
    const log = openSync(spec.logFile, "a");
    try {
      const child = spawn(this.tools.unshare, ["--mount", "--uts", "--propagation", "private", "--", this.tools.sh, "-c", launchScript(spec, this.tools, cg), "sh", ...spec.argv], {
        env: spec.env, stdio: ["ignore", log, log], detached: true, cwd: "/",
      });
      const exited = new Promise<Exit>((resolve) => {
        child.on("exit", (code, signal) => resolve({ code, signal }));
        child.on("error", () => resolve({ code: 128, signal: null }));
      });
      if (child.pid === undefined) throw new Error(`cannot spawn ${this.tools.unshare}`);
      return { pid: child.pid, exited };
    } finally {
      closeSync(log);
    }
  }

  /** Signals the container's process group (its main process and what it started). */
  signalGroup(pid: number, signal: NodeJS.Signals): void {
    try { process.kill(-pid, signal); } catch { /* already gone */ }
  }

  /** Pids still in a container's cgroup. */
  members(id: string): number[] {
    const cg = this.cgroupOf(id);
    if (!cg) return [];
    try { return readFileSync(join(cg, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number); } catch { return []; }
  }

  /** SIGKILLs every process of the container (cgroup members, or the process group) and removes
   *  its cgroup once empty. */
  async killAll(id: string, pid: number | undefined): Promise<void> {
    if (pid !== undefined) this.signalGroup(pid, "SIGKILL");
    for (let i = 0; i < 100; i++) {
      const left = this.members(id);
      if (left.length === 0) break;
      for (const p of left) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } }
      await sleep(50);
    }
    const cg = this.cgroupOf(id);
    if (cg) { try { rmdirSync(cg); } catch { /* still busy: removed at shutdown */ } }
  }

  /** Kills whatever is left in every cgroup under ours (a previous run that crashed) and removes them. */
  async sweep(): Promise<void> {
    if (!this.cgroupRoot || !existsSync(this.cgroupRoot)) return;
    for (const e of readdirSync(this.cgroupRoot, { withFileTypes: true })) if (e.isDirectory()) await this.killAll(e.name, undefined);
  }

  async removeRoot(): Promise<void> {
    await this.sweep();
    if (this.cgroupRoot) {
      try { rmdirSync(this.cgroupRoot); rmdirSync(dirname(this.cgroupRoot)); } catch { /* busy, or other nodes' kubelets */ }
    }
  }
}

/** Writes /etc/hosts for a pod: localhost, its own name on its pod IP, and its hostAliases. */
export function hostsFile(podIP: string, hostname: string, fqdn: string | undefined, aliases: Array<{ ip?: string; hostnames?: string[] }> = []): string {
  const lines = [
    "# Kubernetes-managed hosts file (process kubelet).",
    "127.0.0.1\tlocalhost",
    // No "::1 localhost": localhost is this pod, and IPv6 loopback is not per pod here.
    "::1\tip6-localhost ip6-loopback",
    `${podIP}\t${fqdn ? `${fqdn}\t` : ""}${hostname}`,
  ];
  for (const a of aliases) if (a.ip && a.hostnames?.length) lines.push(`${a.ip}\t${a.hostnames.join("\t")}`);
  return lines.join("\n") + "\n";
}

export function writeFileEnsuringDir(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

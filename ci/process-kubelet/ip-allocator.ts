// Pod IPs on the loopback network: 127.0.0.10 upwards, one per live pod. Linux routes all of
// 127.0.0.0/8 to lo, so any of them can be bound without setup. Several process kubelets may run
// on one machine (parallel test suites), so an address is claimed machine-wide by creating a file
// named after it in a shared directory (O_EXCL: exactly one claimant wins); a claim whose kubelet
// process is gone is stale and taken over.
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";

/** Whether a process exists (EPERM: it does, owned by someone else). Claims of dead ones are stale. */
export function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; }
}

export class IpAllocator {
  private readonly byIp = new Map<string, string>();
  private readonly byOwner = new Map<string, string>();
  private readonly registry: string | undefined;
  private readonly pid: number;

  /** registryDir: the machine-wide claims directory (undefined: this process only). */
  constructor(registryDir?: string, pid = process.pid) {
    this.registry = registryDir;
    this.pid = pid;
    if (registryDir) mkdirSync(registryDir, { recursive: true });
  }

  static candidate(n: number): string {
    return `127.0.${Math.floor(n / 254)}.${(n % 254) + 1}`;
  }

  /** Claims ip in the shared registry; false when another live kubelet holds it, or when a dead
   *  one does and takeover is not allowed. */
  private claim(ip: string, owner: string, takeover: boolean): boolean {
    if (!this.registry) return true;
    const file = join(this.registry, ip);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, "wx");
        writeSync(fd, `${this.pid} ${owner}\n`);
        closeSync(fd);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      let holder = NaN;
      try { holder = Number(readFileSync(file, "utf8").split(" ")[0]); } catch { continue; /* just released: retry */ }
      if (!takeover || holder === this.pid || !Number.isInteger(holder) || processAlive(holder)) return false;
      rmSync(file, { force: true }); // stale: its kubelet died without releasing
    }
    return false;
  }

  /** The owner's IP: its current one, else `preferred` when free (a pod keeps its IP across a
   *  kubelet restart), else the lowest free address from 127.0.0.10. */
  allocate(owner: string, preferred?: string): string {
    const mine = this.byOwner.get(owner);
    if (mine) return mine;
    const take = (ip: string, takeover: boolean): boolean => !this.byIp.has(ip) && this.claim(ip, owner, takeover);
    let ip: string | undefined;
    // A pod's own old address may be taken back from its crashed kubelet; other addresses a crashed
    // kubelet held are left alone while free ones remain, so a restarted kubelet finds its pods' IPs.
    if (preferred && /^127\.0\.\d+\.\d+$/.test(preferred) && preferred !== "127.0.0.1" && take(preferred, true)) ip = preferred;
    for (const takeover of [false, true]) {
      for (let n = 9; !ip && n < 254 * 250; n++) {
        const c = IpAllocator.candidate(n);
        if (take(c, takeover)) ip = c;
      }
    }
    if (!ip) throw new Error("no free loopback pod IP left");
    this.byIp.set(ip, owner);
    this.byOwner.set(owner, ip);
    return ip;
  }

  release(owner: string): void {
    const ip = this.byOwner.get(owner);
    if (ip === undefined) return;
    this.byOwner.delete(owner);
    this.byIp.delete(ip);
    if (this.registry) rmSync(join(this.registry, ip), { force: true });
  }

  releaseAll(): void {
    for (const owner of [...this.byOwner.keys()]) this.release(owner);
  }

  get size(): number { return this.byIp.size; }
}

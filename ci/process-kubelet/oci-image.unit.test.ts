// Running OCI images, the pure parts: USER parsing, symlinks resolved inside the image root, the
// image-map's ociLayout field, and the launch script for an image root.
import { expect } from "chai";
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseImageMap } from "./image-map.ts";
import { parseUser, resolveInRoot } from "./oci-image.ts";
import { launchScript, type SandboxTools } from "./sandbox.ts";

const tools: SandboxTools = { unshare: "/usr/bin/unshare", sh: "/bin/sh", mount: "/bin/mount", hostname: "/bin/hostname", mkdir: "/bin/mkdir" };

describe("process kubelet: OCI images", () => {
  it("parses numeric USER, and refuses names, naming the field", () => {
    expect(parseUser("", "cfg")).to.deep.equal({ uid: 0, gid: 0 });
    expect(parseUser("65532", "cfg")).to.deep.equal({ uid: 65532, gid: 65532 });
    expect(parseUser("1000:100", "cfg")).to.deep.equal({ uid: 1000, gid: 100 });
    expect(() => parseUser("nonroot", "img: config")).to.throw(/img: config: USER "nonroot" must be numeric/);
  });

  it("follows symlinks inside the image root, absolute ones too, never onto this machine", () => {
    const root = mkdtempSync(join(tmpdir(), "root-"));
    mkdirSync(join(root, "run")); mkdirSync(join(root, "usr/lib"), { recursive: true });
    symlinkSync("/run", join(root, "var-run-abs"));
    mkdirSync(join(root, "var"));
    symlinkSync("/run", join(root, "var/run"));
    symlinkSync("usr/lib", join(root, "lib"));
    expect(resolveInRoot(root, "/var/run/secrets/kubernetes.io/serviceaccount")).to.equal("/run/secrets/kubernetes.io/serviceaccount");
    expect(resolveInRoot(root, "/lib/x/../y")).to.equal("/usr/lib/y");
    expect(resolveInRoot(root, "/etc/hosts")).to.equal("/etc/hosts");
    symlinkSync("loop", join(root, "loop"));
    expect(() => resolveInRoot(root, "/loop/x")).to.throw(/too many symlinks/);
  });

  it("refuses an ociLayout entry that also sets local-program fields, and a directory that is no layout", () => {
    expect(() => parseImageMap([{ match: "x/*", ociLayout: "/nonexistent", env: { A: "1" } }], "map")).to.throw(/map: images\[0\]: ociLayout takes ENTRYPOINT, CMD, ENV and WORKDIR from the image; drop env/);
    expect(() => parseImageMap([{ match: "x/*", ociLayout: "/nonexistent" }], "map")).to.throw(/map: images\[0\]\.ociLayout \/nonexistent: not an OCI image layout/);
  });

  it("mounts the image root, then volumes inside it, and execs through unshare --root as the image user", () => {
    const script = launchScript({
      id: "i", argv: ["/nodejs/bin/node"], env: {}, workingDir: "/app", hostname: "h", logFile: "/l", startErrorFile: "/e",
      mounts: [{ source: "/vol/tok", target: "/run/secrets/t", readOnly: true }],
      rootfs: { image: "/img", dir: "/pod/rootfs/c", uid: 65532, gid: 65532 },
    }, tools, undefined);
    const lines = script.split("\n");
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    expect(at(/-t overlay overlay -o 'lowerdir=\/img,upperdir=\/pod\/rootfs\/c\/upper,workdir=\/pod\/rootfs\/c\/work' '\/pod\/rootfs\/c\/merged'/)).to.be.greaterThan(0);
    expect(at(/--bind '\/vol\/tok' '\/pod\/rootfs\/c\/merged\/run\/secrets\/t'/)).to.be.greaterThan(at(/-t overlay/));
    expect(at(/remount,bind,ro '\/pod\/rootfs\/c\/merged\/run\/secrets\/t'/)).to.be.greaterThan(0);
    expect(lines.at(-1)).to.equal(`exec '/usr/bin/unshare' --root='/pod/rootfs/c/merged' --wd='/app' --setgid 65532 --setuid 65532 -- "$@"`);
    expect(script).to.not.match(/command -v/);
  });
});

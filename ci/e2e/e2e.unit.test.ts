// The e2e's own moving parts, without a cluster: the image map covers every image the operator
// renders by default, the gateway entrypoint stand-in maps EG_* env to flags as the image's script
// does, and the latency percentile is nearest-rank.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_GATEWAY_IMAGE, DEFAULT_SIDECAR_IMAGE } from "../../controller/src/gateways/deployment.ts";
import { DEFAULT_NOTEBOOK_IMAGE } from "../../controller/src/notebooks/deployment.ts";
import { parseImageMap, processFor } from "../process-kubelet/image-map.ts";
import { E2E_IMAGES, e2eImageMap } from "./image-map.ts";
import { CONTROLLER_NODE_FLAGS } from "../../controller/test/testing/controller-main.ts";
import { percentile } from "./latency.ts";
import { NAMES, e2eResources, repoRoot } from "./setup.ts";

/** A minimal OCI layout with one of our images' config (no layers: nothing is unpacked here). */
function fakeLayout(configFile: string): { layout: string; digest: string } {
  const layout = mkdtempSync(join(tmpdir(), "oci-"));
  mkdirSync(join(layout, "blobs/sha256"), { recursive: true });
  const put = (obj: unknown): string => {
    const text = JSON.stringify(obj);
    const hex = createHash("sha256").update(text).digest("hex");
    writeFileSync(join(layout, "blobs/sha256", hex), text);
    return `sha256:${hex}`;
  };
  const config = JSON.parse(readFileSync(join(repoRoot, "ci/image", configFile), "utf8"));
  const configDigest = put({ architecture: "amd64", os: "linux", config });
  const digest = put({ schemaVersion: 2, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest }, layers: [] });
  writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest }] }));
  return { layout, digest };
}
const controller = fakeLayout("controller-config.json");
const gateway = fakeLayout("gateway-config.json");
const runtimes = { repoRoot, gatewayVenv: "/venv/gw", notebookVenv: "/venv/nb", stateDir: "/state", controllerLayout: controller.layout, gatewayLayout: gateway.layout };
const map = parseImageMap(e2eImageMap(runtimes), "e2e image map");
const run = (image: string, c: { command?: string[]; args?: string[] } = {}) =>
  processFor(map, { name: "c", image, ...c }, {}, { PATH: "/usr/bin", POD_IP: "127.0.0.9" });

describe("e2e image map", () => {
  it("runs the operator's default gateway image (ours) from the gateway image's layout: its entrypoint, as jovyan", () => {
    expect(DEFAULT_GATEWAY_IMAGE).to.match(/^ghcr\.io\/elastic-jupyter\/enterprise-gateway:/);
    const p = run(DEFAULT_GATEWAY_IMAGE);
    expect(p.argv).to.deep.equal(["/usr/local/bin/start-enterprise-gateway"]);
    expect(p.image?.digest).to.equal(gateway.digest);
    expect(p.workingDir).to.equal("/home/jovyan");
    expect(p.imageEnv).to.include({ PYTHONPATH: "/opt/elastic-jupyter/gateway" });
    expect(run(`${DEFAULT_GATEWAY_IMAGE}@${gateway.digest}`).image?.digest).to.equal(gateway.digest);
  });

  it("runs the stock gateway image with the entrypoint stand-in and the gateway venv, as user jovyan", () => {
    const p = run(E2E_IMAGES.stockGateway);
    expect(p.argv).to.deep.equal([join(repoRoot, "ci/e2e/images/start-enterprise-gateway.sh")]);
    expect(p.image).to.equal(undefined);
    expect(p.imageEnv).to.include({ PATH: "/venv/gw/bin:/usr/bin", USER: "jovyan" });
  });

  it("runs the operator's default sidecar image from the controller image's layout, its ENTRYPOINT with the pod's args", () => {
    const p = run(DEFAULT_SIDECAR_IMAGE, { args: ["--role", "sidecar"] });
    expect(p.argv).to.deep.equal(["/nodejs/bin/node", ...CONTROLLER_NODE_FLAGS, "controller/dist/main.js", "--role", "sidecar"]);
    expect(p.image?.digest).to.equal(controller.digest);
    expect(p.workingDir).to.equal("/app");
    expect(run(`${DEFAULT_SIDECAR_IMAGE}@${controller.digest}`).image?.digest).to.equal(controller.digest);
    expect(() => run(`${DEFAULT_SIDECAR_IMAGE}@sha256:${"0".repeat(64)}`)).to.throw(/names digest sha256:0+, but .* holds sha256:/);
  });

  it("runs the controller with the image ENTRYPOINT's Node flags", () => {
    const config = JSON.parse(readFileSync(join(repoRoot, "ci/image/controller-config.json"), "utf8")) as { Entrypoint: string[] };
    const entrypoint = config.Entrypoint;
    expect(entrypoint).to.deep.equal(["/nodejs/bin/node", ...CONTROLLER_NODE_FLAGS, "controller/dist/main.js"]);
  });

  it("runs the notebook image with the notebook stand-in in its own working directory, and kernel pods' commands with the notebook venv", () => {
    expect(E2E_IMAGES.notebook).to.equal(DEFAULT_NOTEBOOK_IMAGE);
    const nb = run(DEFAULT_NOTEBOOK_IMAGE);
    expect(nb.argv).to.deep.equal([join(repoRoot, "ci/e2e/images/start-notebook.sh")]);
    expect(nb.workingDir).to.equal("/state/work");
    const kernel = run(E2E_IMAGES.kernel, { command: ["python3", "/b/bootstrap.py"] });
    expect(kernel.argv).to.deep.equal(["python3", "/b/bootstrap.py"]);
    expect(kernel.imageEnv.PATH).to.equal("/venv/nb/bin:/usr/bin");
  });

  it("steers every pod of the environment onto the process node", () => {
    const objs = e2eResources({ kubeconfig: "", namespace: "ns", nodeName: "pn", stateDir: "", gpus: 1, cullIdleTimeout: 15, cullInterval: 3 }, "127.0.0.7") as any[];
    const byKind = Object.fromEntries(objs.map((o) => [o.kind, o]));
    expect(byKind.JupyterGateway.spec.nodeSelector).to.deep.equal({ "kubernetes.io/hostname": "pn" });
    expect(byKind.JupyterKernelTemplate.spec.template.spec.nodeSelector).to.deep.equal({ "kubernetes.io/hostname": "pn" });
    expect(byKind.JupyterNotebook.spec.template.spec.hostAliases[0]).to.deep.include({ ip: "127.0.0.7" });
    expect(byKind.JupyterNotebook.spec.template.spec.hostAliases[0].hostnames).to.include(`${NAMES.gateway}.ns`);
    expect(byKind.JupyterGateway.spec).to.include({ cullIdleTimeout: 15, cullInterval: 3 });
  });
});

describe("gateway entrypoint stand-in", () => {
  // A fake `jupyter` on PATH prints what it was given: the flags and the environment EG would read.
  const bin = mkdtempSync(join(tmpdir(), "ej-fake-jupyter-"));
  writeFileSync(join(bin, "jupyter"), `#!/bin/sh\nprintf '%s\\n' "$@"\necho "EG_LIST_KERNELS=$EG_LIST_KERNELS"\n`);
  chmodSync(join(bin, "jupyter"), 0o755);
  const flags = (env: Record<string, string>): string[] =>
    execFileSync(join(repoRoot, "ci/e2e/images/start-enterprise-gateway.sh"), { env: { PATH: `${bin}:/usr/bin:/bin`, ...env }, encoding: "utf8" }).trim().split("\n").slice(1);

  it("turns the operator's EG_* env into flags", () => {
    const f = flags({ EG_PORT: "9999", EG_CULL_IDLE_TIMEOUT: "15", EG_CULL_INTERVAL: "3", EG_CULL_CONNECTED: "True", EG_DEFAULT_KERNEL_NAME: "python-remote", EG_LOG_LEVEL: "INFO" });
    expect(f).to.include.members(["enterprisegateway", "--port=9999", "--ip=0.0.0.0", "--port_retries=0", "--log-level=INFO",
      "--RemoteMappingKernelManager.cull_idle_timeout=15", "--RemoteMappingKernelManager.cull_interval=3",
      "--RemoteMappingKernelManager.cull_connected=True", "--RemoteMappingKernelManager.default_kernel_name=python-remote", "EG_LIST_KERNELS=True"]);
    expect(f.some((x) => x.includes("whitelist"))).to.equal(false);
  });

  it("uses the image script's defaults and passes an allow-list only when one is set", () => {
    const f = flags({ EG_ALLOWED_KERNELS: "['a','b']" });
    expect(f).to.include.members(["--port=8888", "--RemoteMappingKernelManager.cull_idle_timeout=43200", "--RemoteMappingKernelManager.cull_interval=60", "--KernelSpecManager.whitelist=['a','b']"]);
  });
});

describe("latency percentile", () => {
  it("is nearest-rank", () => {
    const v = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(v, 50)).to.equal(10);
    expect(percentile(v, 95)).to.equal(19);
    expect(percentile([3, 1, 2], 100)).to.equal(3);
    expect(() => percentile([], 50)).to.throw(/empty/);
  });
});

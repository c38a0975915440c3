// The notebook's environment and server config work with a real jupyter_server (the notebook venv
// of ci/build-pyenv.sh): auth.mode disable opens it, token mode asks for the Secret's token, and
// JUPYTER_GATEWAY_URL sends kernelspec requests to the gateway.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { createServer as createHttpServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JupyterNotebook } from "@elastic-jupyter/api";
import { repoRoot, run, waitFor } from "../../../ci/test/cluster.ts";
import { DEFAULT_NOTEBOOK_IMAGE, desiredNotebookConfigMap, desiredNotebookDeployment } from "../../src/notebooks/deployment.ts";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function notebook(spec: JupyterNotebook["spec"]): JupyterNotebook {
  return { apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterNotebook", metadata: { name: "nb", namespace: "ns", uid: "u" }, spec };
}

/** Starts jupyter_server the way the pod would: the Deployment's env (with the Secret's token and
 *  the config directory resolved) and the ConfigMap's files. */
async function startServer(venv: string, nb: JupyterNotebook, overrides: Record<string, string>, token?: string): Promise<{ child: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), "ej-nb-"));
  const configDir = join(dir, "config");
  mkdirSync(configDir);
  for (const [file, text] of Object.entries(desiredNotebookConfigMap(nb).data!)) writeFileSync(join(configDir, file), text);
  const port = await freePort();
  const env: Record<string, string> = { PATH: `${venv}/bin:${process.env.PATH}`, HOME: dir, JUPYTER_RUNTIME_DIR: join(dir, "runtime") };
  for (const e of desiredNotebookDeployment(nb, undefined, { notebookImage: DEFAULT_NOTEBOOK_IMAGE }).spec!.template.spec!.containers[0]!.env!) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef && token) env[e.name] = token;
  }
  Object.assign(env, { JUPYTER_CONFIG_PATH: configDir, JUPYTER_PORT: String(port), ...overrides });
  // --allow-root only because tests run as root; the pod runs as uid 1000 (restricted PSS).
  const child = spawn(`${venv}/bin/jupyter`, ["server", "--no-browser", "--allow-root"], { env, cwd: dir, stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor("jupyter_server to answer", async () => (await fetch(`${url}/api`).catch(() => undefined))?.ok, 30_000);
  return { child, url };
}

describe("notebook server config with a real jupyter_server", function () {
  this.timeout(60_000);
  let venv = "";
  const children: ChildProcess[] = [];
  let fakeGateway: Server;
  let gatewayUrl = "";
  let gatewayHits = 0;

  before(async function () {
    const r = await run("bash", [join(repoRoot, "ci/build-pyenv.sh"), "env"], { timeoutMs: 600_000 });
    venv = /EJ_NOTEBOOK_VENV=(\S+)/.exec(r.stdout)?.[1] ?? "";
    if (!venv) throw new Error(`ci/build-pyenv.sh env printed no EJ_NOTEBOOK_VENV: ${r.stderr}`);
    // Stands in for the gateway's REST API: answers kernelspec requests.
    fakeGateway = createHttpServer((req, res) => {
      gatewayHits++;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(req.url?.startsWith("/api/kernelspecs") ? { default: "py", kernelspecs: { py: { name: "py", spec: { display_name: "Remote Python", language: "python", argv: [] }, resources: {} } } } : {}));
    });
    await new Promise<void>((r) => fakeGateway.listen(0, "127.0.0.1", r));
    gatewayUrl = `http://127.0.0.1:${(fakeGateway.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const c of children) c.kill("SIGTERM");
    await new Promise((r) => fakeGateway?.close(r));
  });

  it("auth.mode disable: no token needed", async () => {
    const { child, url } = await startServer(venv, notebook({ auth: { mode: "disable" } }), {});
    children.push(child);
    expect((await fetch(`${url}/api/contents`)).status).to.equal(200);
  });

  it("token mode: the Secret's token is required", async () => {
    const { child, url } = await startServer(venv, notebook({}), {}, "s3cret-token");
    children.push(child);
    expect((await fetch(`${url}/api/contents`)).status).to.equal(403);
    expect((await fetch(`${url}/api/contents`, { headers: { Authorization: "token s3cret-token" } })).status).to.equal(200);
  });

  it("asks the gateway named by JUPYTER_GATEWAY_URL for kernelspecs", async () => {
    // The pod's URL names the gateway's Service (no cluster DNS here): point it at the stand-in.
    const { child, url } = await startServer(venv, notebook({ gateway: { name: "gw" }, auth: { mode: "disable" } }), { JUPYTER_GATEWAY_URL: gatewayUrl });
    children.push(child);
    const specs = await (await fetch(`${url}/api/kernelspecs`)).json() as { kernelspecs: Record<string, { spec: { display_name: string } }> };
    expect(specs.kernelspecs.py?.spec.display_name).to.equal("Remote Python");
    expect(gatewayHits).to.be.greaterThan(0);
  });
});

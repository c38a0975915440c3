// The `helm test` check script (charts/elastic-jupyter/files/tests/check-http.mjs), run by Node as
// in the test pod, against a local HTTP server that plays the gateway: it passes when /api answers
// and /api/kernelspecs lists every expected kernelspec, and fails naming what is missing.
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { repoRoot, run } from "../cluster.ts";

const script = join(repoRoot, "charts/elastic-jupyter/files/tests/check-http.mjs");

function gateway(kernelspecs: string[], apiStatus = 200, token = ""): Promise<Server> {
  const server = createServer((req, res) => {
    if (token && req.headers.authorization !== `token ${token}`) { res.writeHead(401); res.end(); return; }
    if (req.url === "/api") { res.writeHead(apiStatus); res.end(JSON.stringify({ version: "3.3.0" })); return; }
    if (req.url === "/api/kernelspecs") {
      res.writeHead(200);
      res.end(JSON.stringify({ default: kernelspecs[0], kernelspecs: Object.fromEntries(kernelspecs.map((k) => [k, { name: k }])) }));
      return;
    }
    res.writeHead(404); res.end();
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function check(server: Server, args: string[], env: Record<string, string> = {}) {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return run(process.execPath, [script, url, ...args], { env: { ...process.env, CHECK_TIMEOUT_SECONDS: "0", ...env }, timeoutMs: 20_000 });
}

describe("helm test check script (check-http.mjs)", () => {
  const servers: Server[] = [];
  after(() => { for (const s of servers) s.close(); });

  it("passes when the gateway answers and lists every expected kernelspec", async () => {
    const s = await gateway(["python-kubernetes", "python-gpu", "r"]); servers.push(s);
    const r = await check(s, ["--kernelspecs", "python-kubernetes,python-gpu"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include("lists python-kubernetes, python-gpu, r");
  });

  it("fails naming the kernelspec the gateway does not list", async () => {
    const s = await gateway(["python-kubernetes"]); servers.push(s);
    const r = await check(s, ["--kernelspecs", "python-kubernetes,python-gpu"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('missing ["python-gpu"]');
  });

  it("sends CHECK_TOKEN as the gateway's token, and fails without it", async () => {
    const s = await gateway(["py"], 200, "s3cret"); servers.push(s);
    expect((await check(s, ["--kernelspecs", "py"], { CHECK_TOKEN: "s3cret" })).code).to.equal(0);
    const r = await check(s, ["--kernelspecs", "py"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("GET /api: HTTP 401");
  });

  it("fails when the server does not answer 200 (a notebook check)", async () => {
    const s = await gateway([], 503); servers.push(s);
    const r = await check(s, []);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include("GET /api: HTTP 503");
  });
});

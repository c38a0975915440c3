// The culler's HTTP calls against a local server that answers as Enterprise Gateway does.
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cullingFailure, gatewayApi, GatewayHttpError } from "../../src/culling/gateway-api.ts";

describe("culling: the gateway REST client", () => {
  let server: Server;
  let base = "";
  const seen: Array<{ method?: string; url?: string; auth?: string }> = [];
  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      if (req.headers.authorization !== undefined && req.headers.authorization !== "token s3cret") return void res.writeHead(401).end();
      if (req.method === "GET" && req.url === "/api/kernels") {
        return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify([{ id: "k1", name: "gpu", last_activity: "2026-11-25T00:00:00Z", execution_state: "idle", connections: 0 }]));
      }
      if (req.method === "DELETE" && req.url === "/api/kernels/k1") return void res.writeHead(204).end();
      if (req.url === "/html/api/kernels") return void res.writeHead(200, { "content-type": "text/html" }).end("<html>a proxy login page</html>");
      if (req.url === "/object/api/kernels") return void res.writeHead(200, { "content-type": "application/json" }).end("{\"kernels\": []}");
      if (req.url === "/broken/api/kernels") return void res.writeHead(502).end("bad gateway");
      res.writeHead(404).end(JSON.stringify({ reason: "Not Found" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => { seen.length = 0; });

  it("lists kernels and shuts one down; a kernel already gone is not an error", async () => {
    const api = gatewayApi(base);
    expect((await api.listKernels()).map((k) => k.id)).to.deep.equal(["k1"]);
    expect(await api.shutdownKernel("k1")).to.equal(true);
    expect(await api.shutdownKernel("gone")).to.equal(false);
    expect(seen.map((r) => `${r.method} ${r.url}`)).to.deep.equal(["GET /api/kernels", "DELETE /api/kernels/k1", "DELETE /api/kernels/gone"]);
    expect(seen.every((r) => r.auth === undefined)).to.equal(true);
  });

  it("sends the gateway's token as EG expects, and reports a refusal with its status", async () => {
    expect(await gatewayApi(base, "s3cret").listKernels()).to.have.length(1);
    expect(seen[0]!.auth).to.equal("token s3cret");
    const err = await gatewayApi(base, "wrong").listKernels().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(GatewayHttpError);
    expect((err as GatewayHttpError).status).to.equal(401);
  });

  it("names why a list failed, as the Culling condition's reason", async () => {
    const failure = (p: Promise<unknown>) => p.then(() => expect.fail("the list must fail"), (e: unknown) => cullingFailure(e));
    expect(await failure(gatewayApi(base, "wrong").listKernels())).to.deep.include({ reason: "GatewayUnauthorized" });
    expect(await failure(gatewayApi(`${base}broken`).listKernels())).to.deep.equal({ reason: "GatewayError", message: "GET /api/kernels: HTTP 502 bad gateway" });
    expect(await failure(gatewayApi(`${base}html`).listKernels())).to.deep.include({ reason: "GatewayBadResponse" });
    expect(await failure(gatewayApi(`${base}object`).listKernels())).to.deep.equal({ reason: "GatewayBadResponse", message: "GET /api/kernels: the gateway did not answer with a list of kernels" });
    // A port nothing listens on any more.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await failure(gatewayApi(`http://127.0.0.1:${port}`).listKernels());
    expect(refused.reason).to.equal("GatewayUnreachable");
    expect(refused.message).to.match(/^GET \/api\/kernels: connect ECONNREFUSED/);
    // A gateway that accepts the connection and never answers: the list gives up at its timeout.
    const silent = createServer(() => { /* never answers */ });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const slow = await failure(gatewayApi(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, "", 200).listKernels());
      expect(slow).to.deep.equal({ reason: "GatewayUnreachable", message: "GET /api/kernels: no answer within the timeout (The operation was aborted due to timeout)" });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

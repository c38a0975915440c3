// The culler's HTTP calls against a local server that answers as Enterprise Gateway does.
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gatewayApi, GatewayHttpError } from "../../src/culling/gateway-api.ts";

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
});

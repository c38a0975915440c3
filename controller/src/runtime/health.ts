// One HTTP server for probes and scraping: /healthz (the process is alive), /readyz (every cache
// has synced; leadership does not matter, a standby is ready), /metrics (Prometheus text).
import type { Server } from "node:http";
import { http } from "./http.ts";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.ts";

export interface HealthChecks {
  /** Returns "" when ready, or why not. */
  ready: () => string;
  /** Returns "" when healthy, or what is wrong. */
  healthy?: () => string;
}

export class HealthServer {
  private readonly server: Server;

  constructor(checks: HealthChecks, metrics: Metrics) {
    this.server = http.createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const reply = (code: number, body: string, type = "text/plain; charset=utf-8"): void => {
        res.writeHead(code, { "Content-Type": type });
        res.end(body);
      };
      if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed\n");
      if (path === "/healthz" || path === "/livez") {
        const problem = checks.healthy?.() ?? "";
        return problem ? reply(500, problem + "\n") : reply(200, "ok\n");
      }
      if (path === "/readyz") {
        const why = checks.ready();
        return why ? reply(503, why + "\n") : reply(200, "ok\n");
      }
      if (path === "/metrics") {
        metrics.registry.metrics().then(
          (text) => reply(200, text, metrics.registry.contentType),
          (err: unknown) => reply(500, `metrics: ${String(err)}\n`),
        );
        return;
      }
      reply(404, "not found: try /healthz, /readyz, /metrics\n");
    });
  }

  /** Listens; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

// The few calls the culler makes to its own gateway's REST API (same pod: http://127.0.0.1:<port>).
// node:http rather than fetch(): fetch loads undici, which costs the controller ~6 MiB of RSS
// (runtime/http.ts).
import { request as httpsRequest } from "node:https";
import { http } from "../runtime/http.ts";
import type { GatewayKernel } from "./plan.ts";

export interface GatewayApi {
  listKernels(): Promise<GatewayKernel[]>;
  /** Shuts a kernel down as a client would; false when the gateway no longer has it. */
  shutdownKernel(id: string): Promise<boolean>;
}

export class GatewayHttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class GatewayBadResponse extends Error {}

/** Why a list failed, as the Culling condition's reason and the failure metric's label. */
export function cullingFailure(e: unknown): { reason: string; message: string } {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof GatewayHttpError) {
    return { reason: e.status === 401 || e.status === 403 ? "GatewayUnauthorized" : "GatewayError", message };
  }
  if (e instanceof GatewayBadResponse) return { reason: "GatewayBadResponse", message };
  return { reason: "GatewayUnreachable", message };
}

/** Why a request got no answer: a socket error says its cause (connect ECONNREFUSED ...); the
 *  deadline aborts the request with the signal's TimeoutError as the cause. */
function describe(e: unknown): string {
  const err = e as Error & { cause?: { name?: string; message?: string } };
  if (err?.cause?.name === "TimeoutError") return `no answer within the timeout (${err.cause.message})`;
  return err?.message ?? String(e);
}

interface Answer { status: number; body: string }

/** One request, its whole answer read, within `timeoutMs` from start to end. */
function call(url: URL, method: string, headers: Record<string, string>, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === "https:" ? httpsRequest : http.request;
    const req = request(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => { body += chunk; });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

export function gatewayApi(baseUrl: string, token = "", timeoutMs = 30_000): GatewayApi {
  const url = (path: string) => new URL(`${baseUrl.replace(/\/+$/, "")}${path}`);
  // Enterprise Gateway's token scheme (EG_AUTH_TOKEN): `Authorization: token <value>`.
  const headers: Record<string, string> = token ? { Authorization: `token ${token}` } : {};
  const ok = (status: number) => status >= 200 && status < 300;
  return {
    async listKernels() {
      const res = await call(url("/api/kernels"), "GET", headers, timeoutMs).catch((e: unknown) => { throw new Error(`GET /api/kernels: ${describe(e)}`, { cause: e }); });
      if (!ok(res.status)) throw new GatewayHttpError(res.status, `GET /api/kernels: HTTP ${res.status} ${res.body.slice(0, 300)}`);
      let body: unknown;
      try { body = JSON.parse(res.body); } catch (e) { throw new GatewayBadResponse(`GET /api/kernels: the answer is not JSON: ${(e as Error).message}`); }
      if (!Array.isArray(body) || !body.every((k) => typeof (k as GatewayKernel | null)?.id === "string")) throw new GatewayBadResponse("GET /api/kernels: the gateway did not answer with a list of kernels");
      return body as GatewayKernel[];
    },
    async shutdownKernel(id) {
      // A shutdown waits for the kernel's JupyterKernel to go: allow it longer than a list.
      const path = `/api/kernels/${encodeURIComponent(id)}`;
      const res = await call(url(path), "DELETE", headers, timeoutMs * 4).catch((e: unknown) => { throw new Error(`DELETE ${path}: ${describe(e)}`, { cause: e }); });
      if (res.status === 404) return false;
      if (!ok(res.status)) throw new GatewayHttpError(res.status, `DELETE /api/kernels/${id}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
      return true;
    },
  };
}

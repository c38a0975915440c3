// The few calls the culler makes to its own gateway's REST API (same pod: http://127.0.0.1:<port>).
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
  const message = describe(e);
  if (e instanceof GatewayHttpError) {
    return { reason: e.status === 401 || e.status === 403 ? "GatewayUnauthorized" : "GatewayError", message };
  }
  if (e instanceof GatewayBadResponse) return { reason: "GatewayBadResponse", message };
  return { reason: "GatewayUnreachable", message };
}

/** fetch() hides the socket's error (ECONNREFUSED...) in `cause`. */
function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError") return `GET /api/kernels: no answer within the timeout (${err.message})`;
  const cause = err?.cause ? `: ${err.cause.code ?? err.cause.message ?? String(err.cause)}` : "";
  return `${err?.message ?? String(e)}${cause}`;
}

export function gatewayApi(baseUrl: string, token = "", timeoutMs = 30_000): GatewayApi {
  const url = (path: string) => `${baseUrl.replace(/\/+$/, "")}${path}`;
  // Enterprise Gateway's token scheme (EG_AUTH_TOKEN): `Authorization: token <value>`.
  const headers: Record<string, string> = token ? { Authorization: `token ${token}` } : {};
  return {
    async listKernels() {
      const res = await fetch(url("/api/kernels"), { headers, signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new GatewayHttpError(res.status, `GET /api/kernels: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
      let body: unknown;
      try { body = await res.json(); } catch (e) { throw new GatewayBadResponse(`GET /api/kernels: the answer is not JSON: ${(e as Error).message}`); }
      if (!Array.isArray(body) || !body.every((k) => typeof (k as GatewayKernel | null)?.id === "string")) throw new GatewayBadResponse("GET /api/kernels: the gateway did not answer with a list of kernels");
      return body as GatewayKernel[];
    },
    async shutdownKernel(id) {
      // A shutdown waits for the kernel's JupyterKernel to go: allow it longer than a list.
      const res = await fetch(url(`/api/kernels/${encodeURIComponent(id)}`), { method: "DELETE", headers, signal: AbortSignal.timeout(timeoutMs * 4) });
      if (res.status === 404) return false;
      if (!res.ok) throw new GatewayHttpError(res.status, `DELETE /api/kernels/${id}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
      return true;
    },
  };
}

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

export function gatewayApi(baseUrl: string, token = "", timeoutMs = 30_000): GatewayApi {
  const url = (path: string) => `${baseUrl.replace(/\/+$/, "")}${path}`;
  // Enterprise Gateway's token scheme (EG_AUTH_TOKEN): `Authorization: token <value>`.
  const headers: Record<string, string> = token ? { Authorization: `token ${token}` } : {};
  return {
    async listKernels() {
      const res = await fetch(url("/api/kernels"), { headers, signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new GatewayHttpError(res.status, `GET /api/kernels: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
      const body: unknown = await res.json();
      if (!Array.isArray(body)) throw new Error("GET /api/kernels: the gateway did not answer with a list");
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

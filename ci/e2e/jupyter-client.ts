// A small Jupyter client for the e2e: the notebook server's REST API (kernels) and a kernel's
// websocket channels (Jupyter messaging protocol 5.x, JSON frames), as JupyterLab uses them.
// Node 24 has a global WebSocket.
import { randomUUID } from "node:crypto";

export interface KernelModel { id: string; name: string; execution_state?: string; connections?: number; last_activity?: string }

export class HttpError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string, what: string) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 2000)}`);
    this.status = status;
    this.body = body;
  }
}

export class JupyterServer {
  readonly baseUrl: string;
  readonly token: string;
  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.token = token;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(this.token ? { Authorization: `token ${this.token}` } : {}), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new HttpError(res.status, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  startKernel(name: string, env?: Record<string, string>): Promise<KernelModel> {
    return this.request<KernelModel>("POST", "/api/kernels", { name, ...(env ? { env } : {}) });
  }
  kernels(): Promise<KernelModel[]> { return this.request<KernelModel[]>("GET", "/api/kernels"); }
  interrupt(id: string): Promise<unknown> { return this.request("POST", `/api/kernels/${id}/interrupt`); }
  restart(id: string): Promise<KernelModel> { return this.request<KernelModel>("POST", `/api/kernels/${id}/restart`); }
  shutdown(id: string): Promise<unknown> { return this.request("DELETE", `/api/kernels/${id}`); }

  /** Opens the kernel's channels and waits for its kernel_info_reply: the kernel is ready. */
  async connect(id: string, timeoutMs = 60_000): Promise<KernelChannels> {
    const url = `${this.baseUrl.replace(/^http/, "ws")}/api/kernels/${id}/channels?session_id=${randomUUID()}${this.token ? `&token=${this.token}` : ""}`;
    const ch = new KernelChannels(new WebSocket(url));
    await ch.opened(timeoutMs);
    await ch.kernelInfo(timeoutMs);
    return ch;
  }
}

interface Message {
  header: { msg_id: string; msg_type: string };
  parent_header: { msg_id?: string };
  content: Record<string, any>;
  channel: string;
}

export interface ExecuteResult {
  status: "ok" | "error" | "aborted";
  /** stream output and text/plain results, in order. */
  text: string;
  ename?: string;
  evalue?: string;
}

/** The websocket of one kernel; replies are matched to requests by parent msg_id. */
export class KernelChannels {
  private readonly ws: WebSocket;
  private readonly session = randomUUID();
  private readonly waiters = new Map<string, (m: Message) => void>();
  private closedErr: Error | undefined;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (ev) => {
      let m: Message;
      try { m = JSON.parse(String(ev.data)) as Message; } catch { return; }
      const parent = m.parent_header?.msg_id;
      if (parent) this.waiters.get(parent)?.(m);
    });
    ws.addEventListener("close", (ev) => { this.closedErr = new Error(`kernel websocket closed (code ${ev.code} ${ev.reason})`); });
  }

  opened(timeoutMs: number): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`websocket not open after ${timeoutMs} ms`)), timeoutMs);
      this.ws.addEventListener("open", () => { clearTimeout(t); resolve(); }, { once: true });
      this.ws.addEventListener("error", () => { clearTimeout(t); reject(new Error("websocket error while connecting")); }, { once: true });
    });
  }

  /** Sends a request and collects messages until `done` says so; resolves with them. */
  private send(channel: string, msgType: string, content: Record<string, unknown>, done: (msgs: Message[]) => boolean, timeoutMs: number): Promise<Message[]> {
    const msgId = randomUUID();
    const msgs: Message[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters.delete(msgId); reject(new Error(`no complete reply to ${msgType} within ${timeoutMs} ms (got: ${msgs.map((m) => m.header.msg_type).join(", ") || "nothing"})${this.closedErr ? `; ${this.closedErr.message}` : ""}`)); }, timeoutMs);
      this.waiters.set(msgId, (m) => {
        msgs.push(m);
        if (done(msgs)) { clearTimeout(timer); this.waiters.delete(msgId); resolve(msgs); }
      });
      if (this.closedErr) { clearTimeout(timer); reject(this.closedErr); return; }
      this.ws.send(JSON.stringify({
        header: { msg_id: msgId, msg_type: msgType, username: "e2e", session: this.session, date: new Date().toISOString(), version: "5.3" },
        parent_header: {}, metadata: {}, channel, content, buffers: [],
      }));
    });
  }

  /** One kernel_info_request, answered (no retry: a first request that goes unanswered is the stall users would see). */
  async kernelInfo(timeoutMs = 60_000): Promise<Record<string, any>> {
    const msgs = await this.send("shell", "kernel_info_request", {}, (ms) => ms.some((m) => m.header.msg_type === "kernel_info_reply"), timeoutMs);
    return msgs.find((m) => m.header.msg_type === "kernel_info_reply")!.content;
  }

  /** Runs code; resolves once the execute_reply and the kernel's return to idle have both arrived. */
  async execute(code: string, timeoutMs = 60_000): Promise<ExecuteResult> {
    const isDone = (ms: Message[]): boolean => ms.some((m) => m.header.msg_type === "execute_reply")
      && ms.some((m) => m.header.msg_type === "status" && m.content.execution_state === "idle");
    const msgs = await this.send("shell", "execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, isDone, timeoutMs);
    let text = "";
    for (const m of msgs) {
      if (m.header.msg_type === "stream") text += m.content.text;
      if (m.header.msg_type === "execute_result") text += m.content.data?.["text/plain"] ?? "";
    }
    const reply = msgs.find((m) => m.header.msg_type === "execute_reply")!.content;
    return { status: reply.status, text, ...(reply.ename ? { ename: reply.ename, evalue: reply.evalue } : {}) };
  }

  close(): void { this.ws.close(); }
}

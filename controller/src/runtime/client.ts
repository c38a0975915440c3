// A thin REST client for the Kubernetes API over node:https, with credentials from kubeconfig.ts.
// We speak to the API server directly because client-node's generic KubernetesObjectApi cannot
// address subresources (/status), re-serialises bodies through its model types (dropping unknown
// fields) and costs ~85 MB of memory to import; here bodies go out exactly as given, over one
// keep-alive connection pool.
import type { Agent as HttpAgent, IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { http } from "./http.ts";
import { loadCredentials, type Credentials } from "./kubeconfig.ts";

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** Any Kubernetes object as JSON. Interfaces from kubernetes-types (Pod, ConfigMap...) fit it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** Identifies a kind: "v1"/"ConfigMap", "kubeflow.tkestack.io/v1alpha1"/"JupyterKernel". */
export interface GroupVersionKind {
  apiVersion: string;
  kind: string;
}

export interface WatchEvent<T = KubeObject> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

/** A failed API call, carrying the HTTP status and the API's Status reason and message. */
export class KubeApiError extends Error {
  readonly statusCode: number;
  readonly reason: string;
  readonly body: unknown;
  constructor(statusCode: number, reason: string, message: string, body?: unknown) {
    super(message);
    this.name = "KubeApiError";
    this.statusCode = statusCode;
    this.reason = reason;
    this.body = body;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.statusCode === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.statusCode === 409;
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.statusCode === 410;

interface ApiResource { plural: string; namespaced: boolean }

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the list is fetched page by page and returned whole. */
  limit?: number;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  /** The server ends the watch cleanly after this many seconds. */
  timeoutSeconds?: number;
}

/** One finished API request, as a Kubernetes verb (get, list, watch, create, patch, update,
 *  delete) on a resource ("pods", "jupyterkernels/status"); code 0 when no answer came. */
export interface RequestRecord { verb: string; resource: string; code: number }

/** The verb and resource of a request path, as the API server's own metrics name them. */
export function describeRequest(method: string, path: string, watch = false): { verb: string; resource: string } {
  // /api/v1/namespaces/ns/pods/name/status, /apis/g/v/pods, /apis/g/v/namespaces/ns/pods/name
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const rest = parts.slice(parts[0] === "api" ? 2 : 3);
  if (rest[0] === "namespaces" && rest.length > 2) rest.splice(0, 2);
  const [resource = "", name, sub] = rest;
  const verb = watch ? "watch" : method === "GET" ? (name ? "get" : "list") : ({ POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" } as Record<string, string>)[method] ?? method.toLowerCase();
  return { verb, resource: sub ? `${resource}/${sub}` : resource };
}

export class KubeClient {
  readonly credentials: Credentials;
  /** Called after every request (for the controller's request metrics). */
  onRequest: ((r: RequestRecord) => void) | undefined;
  readonly server: string;
  /** Upper bound for one non-watch request: a dead API server must not hang a reconcile. */
  requestTimeoutMs = 30_000;
  private agent: HttpsAgent | HttpAgent;
  private readonly discovery = new Map<string, Promise<Map<string, ApiResource>>>();

  constructor(credentials: Credentials) {
    this.credentials = credentials;
    this.server = credentials.server.replace(/\/+$/, "");
    this.agent = this.newAgent();
  }

  /** Credentials from a kubeconfig file, or the defaults (in-cluster in a pod) when path is "". */
  static fromConfig(kubeconfigPath: string): KubeClient {
    return new KubeClient(loadCredentials(kubeconfigPath));
  }

  private newAgent(): HttpsAgent | HttpAgent {
    // HTTP/1.1 with keep-alive: a connection per request in flight (each watch holds one), reused.
    if (this.server.startsWith("http:")) return new http.Agent({ keepAlive: true });
    const c = this.credentials;
    return new HttpsAgent({ keepAlive: true, ca: c.ca, cert: c.cert, key: c.key, rejectUnauthorized: !c.insecureSkipTlsVerify });
  }

  /** New connections for the next requests; the old ones close as their requests end. Used when a
   *  watch stalled or a request got no answer: its connection may be silently dead. */
  resetConnections(): void {
    const old = this.agent;
    this.agent = this.newAgent();
    old.on("free", (socket) => socket.destroy());
    for (const list of Object.values(old.freeSockets)) for (const socket of list ?? []) socket.destroy();
  }

  private url(path: string, query?: RequestOptions["query"]): URL {
    const u = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  /** Sends one request; resolves with the response once its headers arrived (body unread). */
  private async send(method: string, url: URL, body: string | undefined, contentType: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const auth = await this.credentials.authorization();
    if (auth) headers.Authorization = auth;
    if (body !== undefined) { headers["Content-Type"] = contentType ?? "application/json"; headers["Content-Length"] = String(Buffer.byteLength(body)); }
    const attempt = (): Promise<{ res?: IncomingMessage; err?: Error; reused: boolean }> => new Promise((resolve) => {
      const req = (url.protocol === "http:" ? http.request : httpsRequest)(url, { method, headers, agent: this.agent, signal });
      req.on("response", (res) => resolve({ res, reused: req.reusedSocket }));
      req.on("error", (err) => resolve({ err, reused: req.reusedSocket }));
      req.end(body);
    });
    let r = await attempt();
    // A pooled connection the server has just closed (a reset after an API server restart, or an
    // idle keep-alive timeout) fails the request before any response: try once on a new one.
    // Safe for our writes: applies and resourceVersion-guarded PUTs are idempotent, a repeated
    // create answers 409 AlreadyExists and a repeated delete 404.
    if (r.err && !signal.aborted && isConnectionError(r.err, r.reused)) {
      await new Promise((res) => setTimeout(res, 50));
      r = await attempt();
    }
    if (r.err) throw r.err;
    return r.res!;
  }

  async request<T>(method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", path: string, opts: RequestOptions = {}): Promise<T> {
    const url = this.url(path, opts.query);
    const body = opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let status: number;
    let text: string;
    try {
      const res = await this.send(method, url, body, opts.contentType, signal);
      status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString("utf8");
      this.onRequest?.({ ...describeRequest(method, path), code: status });
    } catch (err) {
      this.onRequest?.({ ...describeRequest(method, path), code: 0 });
      // No answer in time: the connection may be dead without knowing it; use a new one.
      const timedOut = signal.aborted && (signal.reason as Error | undefined)?.name === "TimeoutError";
      if (timedOut) this.resetConnections();
      const why = timedOut ? "no answer in time" : err instanceof Error ? err.message : String(err);
      throw new Error(`${method} ${path}: ${why}`, { cause: err });
    }
    let parsed: unknown;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = text; }
    if (status < 200 || status >= 300) throw apiError(status, parsed, `${method} ${path}`);
    return parsed as T;
  }

  /** Resolves a kind to its plural resource name through discovery (cached; refreshed on a miss
   *  so CRDs installed after start are found). */
  async resource(gvk: GroupVersionKind): Promise<ApiResource> {
    const lookup = async (refresh: boolean): Promise<ApiResource | undefined> => {
      if (refresh) this.discovery.delete(gvk.apiVersion);
      let p = this.discovery.get(gvk.apiVersion);
      if (!p) {
        const prefix = gvk.apiVersion.includes("/") ? "/apis/" : "/api/";
        p = this.request<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>("GET", prefix + gvk.apiVersion)
          .then((list) => new Map(list.resources.filter((r) => !r.name.includes("/")).map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }])));
        p.catch(() => this.discovery.delete(gvk.apiVersion));
        this.discovery.set(gvk.apiVersion, p);
      }
      return (await p).get(gvk.kind);
    };
    const found = (await lookup(false)) ?? (await lookup(true));
    if (!found) throw new Error(`the API server does not serve kind ${gvk.kind} in ${gvk.apiVersion}`);
    return found;
  }

  /** Path of a collection (namespace "" or undefined: all namespaces / cluster-scoped). */
  async collectionPath(gvk: GroupVersionKind, namespace?: string): Promise<string> {
    const r = await this.resource(gvk);
    const prefix = gvk.apiVersion.includes("/") ? "/apis/" : "/api/";
    const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${prefix}${gvk.apiVersion}${ns}/${r.plural}`;
  }

  async objectPath(gvk: GroupVersionKind, namespace: string | undefined, name: string, subresource?: string): Promise<string> {
    const r = await this.resource(gvk);
    if (r.namespaced && !namespace) throw new Error(`${gvk.kind} ${name}: metadata.namespace is required (the kind is namespaced)`);
    return `${await this.collectionPath(gvk, namespace)}/${encodeURIComponent(name)}${subresource ? "/" + subresource : ""}`;
  }

  /** GET one object; undefined when it does not exist. Reconcilers read the cache instead. */
  async get<T extends KubeObject>(gvk: GroupVersionKind, namespace: string | undefined, name: string, opts: { signal?: AbortSignal } = {}): Promise<T | undefined> {
    try {
      return await this.request<T>("GET", await this.objectPath(gvk, namespace, name), { signal: opts.signal });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** Lists page by page; if a continue token expires mid-way, starts over without paging. */
  async list<T extends KubeObject>(gvk: GroupVersionKind, opts: ListOptions = {}, signal?: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const path = await this.collectionPath(gvk, opts.namespace);
    const base = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    type Page = { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    const items: T[] = [];
    let cont: string | undefined;
    let rv = "";
    try {
      do {
        const page = await this.request<Page>("GET", path, { query: { ...base, limit: opts.limit ?? 500, continue: cont }, signal });
        items.push(...(page.items ?? []));
        if (!cont) rv = page.metadata?.resourceVersion ?? "";
        cont = page.metadata?.continue || undefined;
      } while (cont);
    } catch (e) {
      if (!(isGone(e) && cont)) throw e;
      const whole = await this.request<Page>("GET", path, { query: base, signal });
      items.length = 0;
      items.push(...(whole.items ?? []));
      rv = whole.metadata?.resourceVersion ?? "";
    }
    // Lists return items without apiVersion/kind; fill them so objects look like watch events.
    for (const item of items) { item.apiVersion ??= gvk.apiVersion; item.kind ??= gvk.kind; }
    return { items, resourceVersion: rv };
  }

  /** Streams watch events to onEvent until the server ends the watch (resolves) or it fails or
   *  the signal aborts (rejects). onActivity is called for every chunk received, bookmarks too. */
  async watch<T extends KubeObject>(gvk: GroupVersionKind, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal, onActivity: () => void = () => {}): Promise<void> {
    const path = await this.collectionPath(gvk, opts.namespace);
    const url = this.url(path, {
      watch: true, allowWatchBookmarks: true, resourceVersion: opts.resourceVersion,
      labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, timeoutSeconds: opts.timeoutSeconds,
    });
    const res = await this.send("GET", url, undefined, undefined, signal);
    const status = res.statusCode ?? 0;
    this.onRequest?.({ ...describeRequest("GET", path, true), code: status });
    if (status < 200 || status >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString("utf8");
      let parsed: unknown;
      try { parsed = JSON.parse(text); } catch { parsed = text; }
      throw apiError(status, parsed, `watch ${path}`);
    }
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of res) {
      onActivity();
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
      }
    }
  }

  /** Server-side apply: the body is the complete intent of `fieldManager` for this object. */
  async apply<T extends KubeObject>(obj: T, opts: { fieldManager: string; force?: boolean; subresource?: string; signal?: AbortSignal }): Promise<T> {
    const gvk = gvkOf(obj);
    const path = await this.objectPath(gvk, obj.metadata?.namespace, nameOf(obj), opts.subresource);
    return this.request<T>("PATCH", path, {
      body: obj,
      // JSON is YAML, so a JSON body with the apply-patch content type is a valid apply request.
      contentType: "application/apply-patch+yaml",
      query: { fieldManager: opts.fieldManager, force: opts.force ? true : undefined },
      signal: opts.signal,
    });
  }

  async create<T extends KubeObject>(obj: T, opts: { fieldManager?: string; signal?: AbortSignal } = {}): Promise<T> {
    const path = await this.collectionPath(gvkOf(obj), obj.metadata?.namespace);
    return this.request<T>("POST", path, { body: obj, query: { fieldManager: opts.fieldManager }, signal: opts.signal });
  }

  /** PUT: an update guarded by metadata.resourceVersion (409 Conflict when it is stale). */
  async replace<T extends KubeObject>(obj: T, opts: { fieldManager?: string; subresource?: string; signal?: AbortSignal } = {}): Promise<T> {
    const path = await this.objectPath(gvkOf(obj), obj.metadata?.namespace, nameOf(obj), opts.subresource);
    return this.request<T>("PUT", path, { body: obj, query: { fieldManager: opts.fieldManager }, signal: opts.signal });
  }

  /** Deletes; returns false when it was already gone. */
  async delete(gvk: GroupVersionKind, namespace: string | undefined, name: string, opts: { propagationPolicy?: "Background" | "Foreground" | "Orphan"; uid?: string } = {}): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    // A UID precondition never deletes a newer object that reused the name.
    if (opts.uid) body.preconditions = { uid: opts.uid };
    try {
      await this.request("DELETE", await this.objectPath(gvk, namespace, name), { body });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}

/** A failure before any response that a fresh connection may not have: the server reset or
 *  closed a pooled connection, or (restarting) refused a new one. */
function isConnectionError(err: Error, reusedSocket: boolean): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ECONNREFUSED" || (reusedSocket && (code === "ECONNRESET" || code === "EPIPE" || err.message === "socket hang up"));
}

export function gvkOf(obj: KubeObject): GroupVersionKind {
  if (!obj.apiVersion || !obj.kind) throw new Error(`object ${obj.metadata?.name ?? "(unnamed)"}: apiVersion and kind are required`);
  return { apiVersion: obj.apiVersion, kind: obj.kind };
}

function nameOf(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${obj.kind ?? "object"}: metadata.name is required`);
  return name;
}

function apiError(status: number, body: unknown, what: string): KubeApiError {
  const s = (typeof body === "object" && body !== null ? body : {}) as { reason?: string; message?: string };
  const message = s.message ?? (typeof body === "string" && body ? body.slice(0, 500) : `HTTP ${status}`);
  return new KubeApiError(status, s.reason ?? "", `${what}: ${message}`, body);
}

/** The informer/cache key of an object: "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ""}` : (obj.metadata?.name ?? "");
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

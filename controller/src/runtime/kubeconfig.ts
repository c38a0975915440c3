// Where the API server is and how to authenticate to it: in-cluster service account credentials,
// or a kubeconfig file. The common cases (tokens, token files, client certificates, CAs) are read
// here, so the controller does not load @kubernetes/client-node, whose generated API models cost
// ~85 MB of memory at import; exec plugins and auth providers (cloud logins, on developers'
// machines) are handed to client-node, imported only when a kubeconfig uses them.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, dirname, delimiter } from "node:path";
import { createRequire } from "node:module";

export interface Credentials {
  /** https://host:port, without a trailing slash. */
  server: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  insecureSkipTlsVerify?: boolean;
  /** The Authorization header for the next request (asked per request: tokens rotate). */
  authorization: () => Promise<string | undefined>;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";
/** How long a token read from a file is reused; bound service account tokens rotate hourly and
 *  the kubelet refreshes the file well before expiry, so client-go re-reads it every minute too. */
const TOKEN_FILE_TTL_MS = 60_000;

/** A token file, re-read at most once a minute. */
function tokenFile(path: string): () => Promise<string | undefined> {
  let token = "", readAt = -Infinity;
  return async () => {
    if (Date.now() - readAt > TOKEN_FILE_TTL_MS) {
      token = readFileSync(path, "utf8").trim();
      readAt = Date.now();
    }
    return `Bearer ${token}`;
  };
}

/** The pod's service account, as client-go's rest.InClusterConfig reads it. */
export function inClusterCredentials(): Credentials {
  const host = process.env.KUBERNETES_SERVICE_HOST, port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error("not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset) and no kubeconfig given");
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(SA_DIR, "ca.crt")),
    authorization: tokenFile(join(SA_DIR, "token")),
  };
}

interface NamedEntry<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }
type Entry = Record<string, unknown>;

/** A kubeconfig's document. JSON (kubectl reads it, and writes it with `-o json`) needs no YAML
 *  parser; the YAML parser (~4 MiB of RSS) is loaded only for YAML. A controller in a pod reads
 *  no kubeconfig at all. */
function parseKubeconfig(text: string): Entry {
  if (text.trimStart().startsWith("{")) {
    try { return JSON.parse(text) as Entry; } catch { /* a YAML flow mapping: the YAML parser reads it */ }
  }
  const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  return parse(text) as Entry;
}

/** Credentials from a kubeconfig file (its current context), as kubectl reads it. */
export function kubeconfigCredentials(path: string): Credentials {
  let doc: Entry;
  try { doc = parseKubeconfig(readFileSync(path, "utf8")); } catch (e) { throw new Error(`kubeconfig ${path}: ${(e as Error).message}`); }
  const find = (list: string, name: string | undefined): Entry => {
    const found = ((doc[list] ?? []) as NamedEntry<Entry>[]).find((e) => e.name === name);
    if (!found) throw new Error(`kubeconfig ${path}: no ${list.replace(/s$/, "")} named ${JSON.stringify(name)}`);
    return (found.cluster ?? found.user ?? found.context ?? {}) as Entry;
  };
  const context = find("contexts", doc["current-context"] as string | undefined);
  const cluster = find("clusters", context.cluster as string);
  const user = context.user ? find("users", context.user as string) : {};
  // Relative paths are relative to the kubeconfig file, as kubectl resolves them.
  const file = (p: unknown): Buffer => readFileSync(isAbsolute(String(p)) ? String(p) : join(dirname(path), String(p)));
  const data = (d: unknown): Buffer => Buffer.from(String(d), "base64");
  const pick = (dataKey: string, fileKey: string, from: Entry): Buffer | undefined =>
    from[dataKey] ? data(from[dataKey]) : from[fileKey] ? file(from[fileKey]) : undefined;

  const server = String(cluster.server ?? "").replace(/\/+$/, "");
  if (!server) throw new Error(`kubeconfig ${path}: cluster ${JSON.stringify(context.cluster)} has no server`);
  let authorization: Credentials["authorization"] = async () => undefined;
  if (user.token) authorization = async () => `Bearer ${String(user.token)}`;
  else if (user.tokenFile) authorization = tokenFile(isAbsolute(String(user.tokenFile)) ? String(user.tokenFile) : join(dirname(path), String(user.tokenFile)));
  else if (user.username) authorization = async () => `Basic ${Buffer.from(`${String(user.username)}:${String(user.password ?? "")}`).toString("base64")}`;
  else if (user.exec || user["auth-provider"]) authorization = pluginAuthorization(path);
  return {
    server,
    ca: pick("certificate-authority-data", "certificate-authority", cluster),
    cert: pick("client-certificate-data", "client-certificate", user),
    key: pick("client-key-data", "client-key", user),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    authorization,
  };
}

/** Exec plugins and auth providers: client-node runs them (and caches their tokens). */
function pluginAuthorization(path: string): Credentials["authorization"] {
  let kc: Promise<import("@kubernetes/client-node").KubeConfig> | undefined;
  return async () => {
    kc ??= import("@kubernetes/client-node").then(({ KubeConfig }) => { const k = new KubeConfig(); k.loadFromFile(path); return k; });
    const opts: { headers?: Record<string, string> } = { headers: {} };
    await (await kc).applyToHTTPSOptions(opts);
    return opts.headers?.Authorization ?? opts.headers?.authorization;
  };
}

/** A kubeconfig path, or "" for the defaults in client-go's order: $KUBECONFIG (its first file),
 *  ~/.kube/config, then in-cluster. */
export function loadCredentials(path: string): Credentials {
  if (path) return kubeconfigCredentials(path);
  const fromEnv = process.env.KUBECONFIG?.split(delimiter).find(Boolean);
  if (fromEnv) return kubeconfigCredentials(fromEnv);
  const home = join(homedir(), ".kube", "config");
  if (existsSync(home)) return kubeconfigCredentials(home);
  return inClusterCredentials();
}

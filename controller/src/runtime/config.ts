// Controller configuration from command-line flags and environment variables (flags win).
// Every bad value fails with an error naming the flag and its environment variable.
import { logLevels, type LogLevel } from "./log.ts";
import { RESTRICTED_KERNEL_POD_POLICY, parseKernelPodPolicy, type KernelPodPolicy } from "../kernels/policy.ts";

export const roles = ["operator", "sidecar"] as const;
export type Role = (typeof roles)[number];

export interface Config {
  role: Role;
  /** Namespace the controller watches and writes; "" means all namespaces. */
  namespace: string;
  /** Path to a kubeconfig; "" means in-cluster credentials (or the default kubeconfig outside a pod). */
  kubeconfig: string;
  metricsAddr: { host: string; port: number };
  leaderElect: boolean;
  leaseName: string;
  leaseNamespace: string;
  /** This replica's identity in the Lease (pod name by default). */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logLevel: LogLevel;
  /** Reconciles running at once per controller. */
  concurrency: number;
  /** Sidecar: the JupyterGateway this sidecar serves ("" outside a gateway pod, e.g. in tests). */
  gateway: string;
  /** Sidecar: the gateway's REST API, for idle culling ("" disables culling). */
  gatewayUrl: string;
  /** Sidecar: the gateway's auth token (EG_AUTH_TOKEN), if it has one. */
  gatewayToken: string;
  /** Sidecar: the gateway's kernels directory, where kernelspecs are synced ("" disables the sync). */
  kernelsDir: string;
  /** Sidecar: the ConfigMap holding the kernel bootstrap, mounted into kernel pods. */
  bootstrapConfigMap: string;
  /** Sidecar: what kernel pods may ask for beyond restricted (the cluster admin's, via the operator). */
  kernelPodPolicy: KernelPodPolicy;
}

interface Option {
  flag: string;
  env: string;
  /** Boolean flags may be given bare (`--leader-elect`). */
  boolean?: boolean;
}

const options = {
  role: { flag: "role", env: "EJ_ROLE" },
  namespace: { flag: "namespace", env: "EJ_NAMESPACE" },
  kubeconfig: { flag: "kubeconfig", env: "KUBECONFIG" },
  metricsAddr: { flag: "metrics-addr", env: "EJ_METRICS_ADDR" },
  leaderElect: { flag: "leader-elect", env: "EJ_LEADER_ELECT", boolean: true },
  leaseName: { flag: "lease-name", env: "EJ_LEASE_NAME" },
  leaseNamespace: { flag: "lease-namespace", env: "EJ_LEASE_NAMESPACE" },
  identity: { flag: "identity", env: "POD_NAME" },
  leaseDuration: { flag: "lease-duration", env: "EJ_LEASE_DURATION" },
  renewDeadline: { flag: "renew-deadline", env: "EJ_RENEW_DEADLINE" },
  retryPeriod: { flag: "retry-period", env: "EJ_RETRY_PERIOD" },
  logLevel: { flag: "log-level", env: "EJ_LOG_LEVEL" },
  concurrency: { flag: "concurrency", env: "EJ_CONCURRENCY" },
  gateway: { flag: "gateway", env: "EJ_GATEWAY" },
  gatewayUrl: { flag: "gateway-url", env: "EJ_GATEWAY_URL" },
  gatewayToken: { flag: "gateway-token", env: "EJ_GATEWAY_TOKEN" },
  kernelsDir: { flag: "kernels-dir", env: "EJ_KERNELS_DIR" },
  bootstrapConfigMap: { flag: "bootstrap-configmap", env: "EJ_BOOTSTRAP_CONFIGMAP" },
  kernelPodPolicy: { flag: "kernel-pod-policy", env: "EJ_KERNEL_POD_POLICY" },
} satisfies Record<string, Option>;

type Name = keyof typeof options;

export class ConfigError extends Error {}

function describe(o: Option): string {
  return `--${o.flag} (env ${o.env})`;
}

/** Splits argv into flag values; unknown flags and missing values are errors. */
function parseArgv(argv: readonly string[]): Map<Name, string> {
  const byFlag = new Map<string, Name>(Object.entries(options).map(([name, o]) => [o.flag, name as Name]));
  const out = new Map<Name, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}: flags look like --name=value`);
    const name = byFlag.get(m[1]!);
    if (!name) throw new ConfigError(`unknown flag --${m[1]}; known: ${[...byFlag.keys()].map((f) => "--" + f).join(", ")}`);
    const opt: Option = options[name];
    let value = m[2];
    if (value === undefined) {
      const next = argv[i + 1];
      if (opt.boolean && (next === undefined || next.startsWith("--") || !/^(true|false)$/.test(next))) value = "true";
      else if (next === undefined) throw new ConfigError(`flag --${opt.flag} needs a value`);
      else { value = next; i++; }
    }
    out.set(name, value);
  }
  return out;
}

/** Parses the configuration; `inClusterNamespace` is the pod's own namespace when running in a cluster. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, defaults: { hostname?: string; inClusterNamespace?: string } = {}): Config {
  const flags = parseArgv(argv);
  const raw = (name: Name): string | undefined => flags.get(name) ?? (env[options[name].env] || undefined);

  const oneOf = <T extends string>(name: Name, allowed: readonly T[], fallback: T | undefined): T => {
    const v = raw(name) ?? fallback;
    if (v === undefined) throw new ConfigError(`${describe(options[name])} is required: one of ${allowed.join(", ")}`);
    if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${describe(options[name])} must be one of ${allowed.join(", ")}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  const bool = (name: Name, fallback: boolean): boolean => {
    const v = raw(name);
    if (v === undefined) return fallback;
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
    throw new ConfigError(`${describe(options[name])} must be true or false, got ${JSON.stringify(v)}`);
  };
  const int = (name: Name, fallback: number, min: number): number => {
    const v = raw(name);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new ConfigError(`${describe(options[name])} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  /** Durations are seconds, optionally with an "s" suffix, fractions allowed ("1.5s"). */
  const seconds = (name: Name, fallbackS: number): number => {
    const v = raw(name);
    if (v === undefined) return fallbackS * 1000;
    const m = /^(\d+(?:\.\d+)?)s?$/.exec(v);
    if (!m || Number(m[1]) <= 0) throw new ConfigError(`${describe(options[name])} must be a positive number of seconds (e.g. 15 or 15s), got ${JSON.stringify(v)}`);
    return Math.round(Number(m[1]) * 1000);
  };

  const policy = (name: Name): KernelPodPolicy => {
    const v = raw(name);
    if (v === undefined) return structuredClone(RESTRICTED_KERNEL_POD_POLICY);
    try { return parseKernelPodPolicy(v); } catch (e) { throw new ConfigError(`${describe(options[name])}: ${(e as Error).message}`); }
  };

  const role = oneOf<Role>("role", roles, undefined);
  const namespace = raw("namespace") ?? "";
  if (namespace && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) throw new ConfigError(`${describe(options.namespace)} must be a valid namespace name, got ${JSON.stringify(namespace)}`);
  const leaseNamespace = raw("leaseNamespace") ?? (namespace || defaults.inClusterNamespace || "default");
  const config: Config = {
    role,
    namespace,
    kubeconfig: raw("kubeconfig") ?? "",
    metricsAddr: parseAddr(raw("metricsAddr") ?? ":8080", describe(options.metricsAddr)),
    leaderElect: bool("leaderElect", role === "operator"),
    // One leader per gateway for sidecars: each gateway's sidecars elect among themselves.
    leaseName: raw("leaseName") ?? (role === "sidecar" && raw("gateway") ? `elastic-jupyter-sidecar-${raw("gateway")}` : `elastic-jupyter-${role}`),
    leaseNamespace,
    identity: raw("identity") ?? defaults.hostname ?? `${role}-${process.pid}`,
    leaseDurationMs: seconds("leaseDuration", 15),
    renewDeadlineMs: seconds("renewDeadline", 10),
    retryPeriodMs: seconds("retryPeriod", 2),
    logLevel: oneOf<LogLevel>("logLevel", logLevels, "info"),
    concurrency: int("concurrency", 4, 1),
    gateway: raw("gateway") ?? "",
    gatewayUrl: raw("gatewayUrl") ?? "",
    gatewayToken: raw("gatewayToken") ?? "",
    kernelsDir: raw("kernelsDir") ?? "",
    bootstrapConfigMap: raw("bootstrapConfigMap") ?? "",
    kernelPodPolicy: policy("kernelPodPolicy"),
  };
  if (config.gatewayUrl && !/^https?:\/\/[^\s/]+/.test(config.gatewayUrl)) throw new ConfigError(`${describe(options.gatewayUrl)} must be an http(s) URL, got ${JSON.stringify(config.gatewayUrl)}`);
  if (config.gateway && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(config.gateway)) throw new ConfigError(`${describe(options.gateway)} must be a JupyterGateway name, got ${JSON.stringify(config.gateway)}`);
  if (!config.bootstrapConfigMap) config.bootstrapConfigMap = config.gateway ? `${config.gateway}-kernel-bootstrap` : "elastic-jupyter-kernel-bootstrap";
  // Same ordering client-go insists on: otherwise two replicas can both believe they lead.
  if (!(config.leaseDurationMs > config.renewDeadlineMs && config.renewDeadlineMs > config.retryPeriodMs)) {
    throw new ConfigError(`lease timings must satisfy --lease-duration > --renew-deadline > --retry-period, got ${config.leaseDurationMs / 1000}s, ${config.renewDeadlineMs / 1000}s, ${config.retryPeriodMs / 1000}s`);
  }
  return config;
}

/** "host:port" or ":port" (all interfaces); port 0 picks a free port (tests). */
export function parseAddr(value: string, what: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new ConfigError(`${what} must look like host:port or :port, got ${JSON.stringify(value)}`);
  const host = m[1]!.replace(/^\[(.*)\]$/, "$1");
  return { host: host || "0.0.0.0", port: Number(m[2]) };
}

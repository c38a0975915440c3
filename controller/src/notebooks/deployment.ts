// JupyterNotebook -> notebook Deployment, Service, server config ConfigMap and (by default) a
// token Secret. Pure: the reconciler applies what these return. The container runs a stock Jupyter
// server image and keeps its command: jupyter_server reads JUPYTER_PORT, JUPYTER_GATEWAY_URL and
// JUPYTER_TOKEN from the environment, and the rest (listen address, disabled auth) from a config
// file on JUPYTER_CONFIG_PATH, which any Jupyter server image honours.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { ConfigMap, Container, EnvVar, PodTemplateSpec, Secret, Service } from "kubernetes-types/core/v1.js";
import type { JupyterGateway, JupyterNotebook, PodTemplateOverrides } from "@elastic-jupyter/api";
import { KIND, LABELS } from "../api.ts";
import { mergeEnv } from "../kernels/pod.ts";
import { RESTRICTED_POD_SECURITY, gatewayPorts, gatewayUrl, restrictedContainerSecurity } from "../gateways/deployment.ts";
import { MANAGED_BY, ownedMeta, stableHash } from "../gateways/owned.ts";
import { TOKEN_KEY, gatewayTokenSecretName } from "../gateways/token.ts";
import type { FileSet } from "../gateways/files.ts";
import { directNotebookEnv, directNotebookMount, directNotebookVolume, directServerConfig, isDirectNotebook, notebookServiceAccountName } from "./direct.ts";

/**
 * docker-stacks' base-notebook built 2026-08-24 (JupyterLab 4.6.3, jupyter_server 2.x, Python 3.13),
 * listed on https://github.com/jupyter/docker-stacks/wiki/2026-08. A dated tag never moves; pin
 * a digest with spec.image or EJ_NOTEBOOK_IMAGE.
 */
export const DEFAULT_NOTEBOOK_IMAGE = "quay.io/jupyter/base-notebook:2026-08-24";
export const DEFAULT_NOTEBOOK_PORT = 8888;
export { TOKEN_KEY };

export interface NotebookRenderOptions {
  /** Notebook image when spec.image is unset. */
  notebookImage: string;
  /** Direct mode's provisioner package (mounted into direct-mode notebooks). */
  notebookFiles?: FileSet;
  /** The kernel bootstrap (a ConfigMap beside each direct-mode notebook, for its kernel pods). */
  kernelFiles?: FileSet;
}

export function notebookPort(nb: JupyterNotebook): number {
  return nb.spec.port ?? DEFAULT_NOTEBOOK_PORT;
}

/** The referenced gateway, its namespace defaulted to the notebook's. */
export function notebookGatewayRef(nb: JupyterNotebook): { name: string; namespace: string } | undefined {
  const ref = nb.spec.gateway;
  return ref ? { name: ref.name, namespace: ref.namespace ?? nb.metadata!.namespace! } : undefined;
}

export function authMode(nb: JupyterNotebook): "token" | "disable" {
  return nb.spec.auth?.mode ?? "token";
}

/** The Secret holding the token, or undefined when auth is disabled. */
export function tokenSecretName(nb: JupyterNotebook): string | undefined {
  if (authMode(nb) !== "token") return undefined;
  return nb.spec.auth?.secretName ?? `${nb.metadata!.name!}-token`;
}

/** True when the operator creates the token Secret (the user named none). */
export function operatorOwnsTokenSecret(nb: JupyterNotebook): boolean {
  return authMode(nb) === "token" && !nb.spec.auth?.secretName;
}

export function notebookSelector(nb: JupyterNotebook): Record<string, string> {
  return { [LABELS.notebook]: nb.metadata!.name!, "app.kubernetes.io/component": "notebook" };
}

function notebookLabels(nb: JupyterNotebook): Record<string, string> {
  return { ...notebookSelector(nb), "app.kubernetes.io/name": "jupyter-notebook", "app.kubernetes.io/instance": nb.metadata!.name!, ...MANAGED_BY };
}

/** The generated token Secret. Created once and never rewritten, so the token survives reconciles. */
export function desiredTokenSecret(nb: JupyterNotebook, token: string): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMeta({ ...nb, kind: KIND.notebook }, tokenSecretName(nb)!, notebookLabels(nb)),
    type: "Opaque",
    stringData: { [TOKEN_KEY]: token },
  };
}

/**
 * The Secret in the notebook's namespace holding its gateway's token, or undefined when the gateway
 * needs none: the gateway's own Secret when they share a namespace, else a copy the operator keeps
 * beside the notebook (a pod reads Secrets of its own namespace only).
 */
export function gatewayTokenSecretForNotebook(nb: JupyterNotebook, gateway: JupyterGateway): string | undefined {
  const source = gatewayTokenSecretName(gateway);
  if (!source) return undefined;
  return gateway.metadata?.namespace === nb.metadata?.namespace ? source : gatewayTokenCopyName(nb);
}

/** The name of the copy of another namespace's gateway token, beside the notebook. */
export function gatewayTokenCopyName(nb: JupyterNotebook): string {
  return `${nb.metadata!.name!}-gateway-token`;
}

/** The copy of another namespace's gateway token (`data` as read, base64). */
export function desiredGatewayTokenCopy(nb: JupyterNotebook, gateway: JupyterGateway, base64Token: string): Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMeta({ ...nb, kind: KIND.notebook }, gatewayTokenSecretForNotebook(nb, gateway)!, { ...notebookLabels(nb), "app.kubernetes.io/component": "gateway-token" }),
    type: "Opaque",
    data: { [TOKEN_KEY]: base64Token },
  };
}

/** Where the server config ConfigMap is mounted (on JUPYTER_CONFIG_PATH). */
export const NOTEBOOK_CONFIG_DIR = "/etc/elastic-jupyter/notebook";
export const SERVER_CONFIG_HASH_ANNOTATION = "kubeflow.tkestack.io/server-config-hash";

export function serverConfigMapName(nb: JupyterNotebook): string {
  return `${nb.metadata!.name!}-server-config`;
}

/** jupyter_server_config.json: listen on the pod's addresses; with auth disabled, no token. */
export function notebookServerConfig(nb: JupyterNotebook): Record<string, unknown> {
  return {
    ServerApp: { ip: "0.0.0.0" },
    // auth.mode: disable, as SEED.md's example asks: anyone who can reach the Service can use it.
    ...(authMode(nb) === "disable" ? { IdentityProvider: { token: "" } } : {}),
    ...(isDirectNotebook(nb) ? mergeServerApp(directServerConfig(nb)) : {}),
  };
}

/** Direct mode's settings, with its ServerApp keys beside the listen address. */
function mergeServerApp(direct: Record<string, unknown>): Record<string, unknown> {
  return { ...direct, ServerApp: { ip: "0.0.0.0", ...(direct.ServerApp as object) } };
}

export function desiredNotebookConfigMap(nb: JupyterNotebook): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMeta({ ...nb, kind: KIND.notebook }, serverConfigMapName(nb), notebookLabels(nb)),
    data: { "jupyter_server_config.json": JSON.stringify(notebookServerConfig(nb), null, 2) + "\n" },
  };
}

export function notebookEnv(nb: JupyterNotebook, gateway: JupyterGateway | undefined): EnvVar[] {
  const port = notebookPort(nb);
  const env: EnvVar[] = [{ name: "JUPYTER_PORT", value: String(port) }];
  const ref = notebookGatewayRef(nb);
  if (ref) {
    // The gateway's port is only known once it exists; until then the default is the best guess,
    // and the template changes (rolling the notebook) when a gateway with another port appears.
    const gwPort = gateway ? gatewayPorts(gateway).http : 8888;
    env.push({ name: "JUPYTER_GATEWAY_URL", value: gatewayUrl(ref, gwPort) });
    // A kernel launch may take as long as the gateway allows, plus the time to answer.
    const launch = gateway?.spec.launchTimeout;
    if (launch !== undefined) env.push({ name: "JUPYTER_GATEWAY_REQUEST_TIMEOUT", value: String(Math.max(60, launch + 30)) });
  }
  const gatewayToken = gateway ? gatewayTokenSecretForNotebook(nb, gateway) : undefined;
  if (gatewayToken) env.push({ name: "JUPYTER_GATEWAY_AUTH_TOKEN", valueFrom: { secretKeyRef: { name: gatewayToken, key: TOKEN_KEY } } });
  const secret = tokenSecretName(nb);
  if (secret) env.push({ name: "JUPYTER_TOKEN", valueFrom: { secretKeyRef: { name: secret, key: TOKEN_KEY } } });
  env.push({ name: "JUPYTER_CONFIG_PATH", value: NOTEBOOK_CONFIG_DIR });
  if (isDirectNotebook(nb)) env.push(...directNotebookEnv(nb));
  return env;
}

function notebookContainer(nb: JupyterNotebook, gateway: JupyterGateway | undefined, opts: NotebookRenderOptions): Container {
  return {
    name: "notebook",
    image: nb.spec.image ?? opts.notebookImage,
    env: notebookEnv(nb, gateway),
    ports: [{ name: "http", containerPort: notebookPort(nb), protocol: "TCP" }],
    // /api answers without auth: ready means the server is up, not that a user is logged in.
    readinessProbe: { httpGet: { path: "/api", port: "http" }, periodSeconds: 10, failureThreshold: 3 },
    // A hung server is restarted after two minutes (its kernels run elsewhere and survive).
    livenessProbe: { httpGet: { path: "/api", port: "http" }, initialDelaySeconds: 60, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
    // Kernels run in their own pods: the server needs little, and a limit keeps one from taking a node.
    resources: nb.spec.resources ?? { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
    securityContext: restrictedContainerSecurity(false),
    volumeMounts: [{ name: "server-config", mountPath: NOTEBOOK_CONFIG_DIR, readOnly: true }, ...(isDirectNotebook(nb) ? [directNotebookMount] : [])],
  };
}

export function desiredNotebookDeployment(nb: JupyterNotebook, gateway: JupyterGateway | undefined, opts: NotebookRenderOptions): Deployment {
  const direct = isDirectNotebook(nb);
  const files = opts.notebookFiles ?? {};
  const base: PodTemplateSpec = {
    // The config (and in direct mode the provisioner's Python files) is read at start: a change must restart the server.
    metadata: { labels: notebookLabels(nb), annotations: { [SERVER_CONFIG_HASH_ANNOTATION]: stableHash(direct ? [notebookServerConfig(nb), files] : notebookServerConfig(nb)) } },
    spec: {
      // Gateway mode: the notebook talks to the gateway over HTTP and needs no API credentials.
      // Direct mode: its provisioner creates JupyterKernels with its own, narrow ServiceAccount.
      // Named even in gateway mode: a pod template keeps the deprecated `serviceAccount` field
      // (defaulted from serviceAccountName), which would bring a direct-mode account back.
      ...(direct ? { serviceAccountName: notebookServiceAccountName(nb), automountServiceAccountToken: true } : { serviceAccountName: "default", automountServiceAccountToken: false }),
      enableServiceLinks: false,
      securityContext: RESTRICTED_POD_SECURITY,
      containers: [notebookContainer(nb, gateway, opts)],
      volumes: [{ name: "server-config", configMap: { name: serverConfigMapName(nb) } }, ...(direct ? [directNotebookVolume(nb, files)] : [])],
    },
  };
  const template = mergePodTemplate(base, nb.spec.template);
  // The selector labels always win: an override must not orphan the pods. A direct notebook's pod
  // is also in the operator's pod cache (component=notebook), which watches its server restarts.
  template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...notebookSelector(nb), ...(direct ? { component: "notebook" } : {}) } };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: ownedMeta({ ...nb, kind: KIND.notebook }, nb.metadata!.name!, notebookLabels(nb)),
    spec: {
      replicas: 1,
      // A notebook's kernels and open sessions live in one server: never run two.
      strategy: { type: "Recreate" },
      revisionHistoryLimit: 3,
      selector: { matchLabels: notebookSelector(nb) },
      template,
    },
  };
}

export function desiredNotebookService(nb: JupyterNotebook): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMeta({ ...nb, kind: KIND.notebook }, nb.metadata!.name!, notebookLabels(nb)),
    spec: {
      type: "ClusterIP",
      selector: notebookSelector(nb),
      ports: [{ name: "http", port: notebookPort(nb), targetPort: "http", protocol: "TCP" }],
    },
  };
}

export function notebookUrl(nb: JupyterNotebook): string {
  return `http://${nb.metadata!.name!}.${nb.metadata!.namespace!}:${notebookPort(nb)}`;
}

type Named = { name: string };

/** Lists of named items: an override item replaces fields of the base item with its name, or is appended. */
function mergeNamed<T extends Named>(base: T[] | undefined, over: T[] | undefined, mergeItem: (a: T, b: T) => T): T[] | undefined {
  if (!over) return base;
  const out = [...(base ?? [])];
  for (const item of over) {
    const i = out.findIndex((b) => b.name === item.name);
    if (i >= 0) out[i] = mergeItem(out[i]!, item);
    else out.push(item);
  }
  return out;
}

function mergeContainer(a: Container, b: Container): Container {
  const merged: Container = { ...a, ...b };
  if (a.env || b.env) merged.env = mergeEnv(a.env, b.env);
  if (a.volumeMounts || b.volumeMounts) {
    const byPath = new Map((a.volumeMounts ?? []).map((m) => [m.mountPath, m]));
    for (const m of b.volumeMounts ?? []) byPath.set(m.mountPath, m);
    merged.volumeMounts = [...byPath.values()];
  }
  return merged;
}

/**
 * spec.template over the generated pod: labels and annotations are added, containers and init
 * containers are merged by name (env by name, mounts by path), volumes by name, and every other
 * pod spec field replaces the generated one.
 */
export function mergePodTemplate(base: PodTemplateSpec, overrides: PodTemplateOverrides | undefined): PodTemplateSpec {
  const out = structuredClone(base);
  if (!overrides) return out;
  const o = structuredClone(overrides);
  out.metadata = {
    ...out.metadata,
    labels: { ...out.metadata?.labels, ...o.metadata?.labels },
    ...(out.metadata?.annotations || o.metadata?.annotations ? { annotations: { ...out.metadata?.annotations, ...o.metadata?.annotations } } : {}),
  };
  const { containers, initContainers, volumes, ...rest } = o.spec ?? {};
  out.spec = { ...out.spec!, ...rest };
  out.spec.containers = mergeNamed(out.spec.containers, containers, mergeContainer) ?? [];
  const init = mergeNamed(out.spec.initContainers, initContainers, mergeContainer);
  if (init) out.spec.initContainers = init;
  const vols = mergeNamed(out.spec.volumes, volumes, (_a, b) => b);
  if (vols) out.spec.volumes = vols;
  return out;
}

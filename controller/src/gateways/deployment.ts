// JupyterGateway -> the gateway Deployment and Service. Pure: the reconciler applies what these
// return. The pod runs the stock Enterprise Gateway image, configured only through the environment
// its start script reads (its command is never overridden), plus our sidecar, which syncs
// kernelspecs into a shared directory and turns JupyterKernels into pods.
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { Container, EnvVar, SecurityContext, Service } from "kubernetes-types/core/v1.js";
import type { JupyterGateway } from "@elastic-jupyter/api";
import controllerPackage from "../../package.json" with { type: "json" };
import { KIND, LABELS } from "../api.ts";
import { mergeEnv } from "../kernels/pod.ts";
import { RESTRICTED_KERNEL_POD_POLICY, RESTRICTED_POD_SECURITY, type KernelPodPolicy } from "../kernels/policy.ts";
import { GATEWAY_PACKAGE, gatewayFilesConfigMapName, kernelBootstrapConfigMapName, type FileSet } from "./files.ts";
import { MANAGED_BY, ownedMeta, stableHash } from "./owned.ts";
import { gatewayServiceAccountName } from "./rbac.ts";
import { TOKEN_KEY, gatewayTokenSecretName } from "./token.ts";

/**
 * Our gateway image at this package's version (ci/image/build-image.sh gateway: Enterprise Gateway
 * at the pinned 3.x with our files baked in), the image the e2e runs; the stock
 * elyra/enterprise-gateway 3.x works too (the gateway-files ConfigMap is mounted either way). Pin a
 * digest with spec.image or EJ_GATEWAY_IMAGE.
 */
export const DEFAULT_GATEWAY_IMAGE = `ghcr.io/elastic-jupyter/enterprise-gateway:${controllerPackage.version}`;
/** Our own image at this package's version; the chart sets EJ_SIDECAR_IMAGE to the operator's image. */
export const DEFAULT_SIDECAR_IMAGE = `ghcr.io/elastic-jupyter/controller:${controllerPackage.version}`;
export const DEFAULT_GATEWAY_PORT = 8888;
export const DEFAULT_RESPONSE_PORT = 8877;
/** A memory limit, so one gateway cannot take a node's memory; EG itself stays well below it. */
export const DEFAULT_GATEWAY_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } };

/**
 * Where the gateway finds kernelspecs: /usr/local/share/jupyter is on every Linux Jupyter's data
 * path, and mounting the synced directory over its `kernels` hides the image's built-in kernelspecs
 * (which would launch pods behind the operator's back).
 */
export const GATEWAY_KERNELS_DIR = "/usr/local/share/jupyter/kernels";
/** The same volume in the sidecar, which writes it. */
export const SIDECAR_KERNELS_DIR = "/var/lib/elastic-jupyter/kernels";
/** On PYTHONPATH: holds the elastic_jupyter package. */
export const GATEWAY_FILES_DIR = "/opt/elastic-jupyter/gateway";
export const GATEWAY_FILES_HASH_ANNOTATION = "kubeflow.tkestack.io/gateway-files-hash";

/**
 * Environment EG passes on to the kernel launcher it runs. EG starts launchers with a fresh
 * environment (the KERNEL_* variables of the request plus these), and our launcher needs the
 * interpreter's PATH, our package, the in-cluster API address (KUBECONFIG where there is none) and
 * the gateway's name (it labels the JupyterKernel with it).
 */
export const LAUNCHER_INHERITED_ENV = ["PATH", "PYTHONPATH", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG", "EJ_GATEWAY_NAME"];

export interface GatewayRenderOptions {
  /** Gateway image when spec.image is unset. */
  gatewayImage: string;
  /** Sidecar image when spec.sidecar.image is unset. */
  sidecarImage: string;
  /** The gateway files ConfigMap's data: hashed into the pod template so new files restart the gateway (Python imports them once). */
  gatewayFiles: FileSet;
  /** The cluster admin's kernel pod policy for the sidecar. Unset: restricted (the sidecar's default). */
  kernelPodPolicy?: KernelPodPolicy;
}

export function gatewayPorts(gw: JupyterGateway): { http: number; response: number; sidecarMetrics: number } {
  const http = gw.spec.port ?? DEFAULT_GATEWAY_PORT;
  const response = gw.spec.responsePort ?? DEFAULT_RESPONSE_PORT;
  // The pod shares one network namespace: the sidecar's metrics port must avoid the gateway's.
  let sidecarMetrics = 8081;
  while (sidecarMetrics === http || sidecarMetrics === response) sidecarMetrics++;
  return { http, response, sidecarMetrics };
}

/** Labels selecting the gateway's pods: never matches kernel pods (which carry app/component of their own). */
export function gatewaySelector(gw: JupyterGateway): Record<string, string> {
  return { [LABELS.gateway]: gw.metadata!.name!, "app.kubernetes.io/component": "gateway" };
}

export function gatewayLabels(gw: JupyterGateway): Record<string, string> {
  return { ...gatewaySelector(gw), "app.kubernetes.io/name": "enterprise-gateway", "app.kubernetes.io/instance": gw.metadata!.name!, ...MANAGED_BY };
}

export { RESTRICTED_POD_SECURITY };
export function restrictedContainerSecurity(readOnlyRootFilesystem: boolean): SecurityContext {
  return { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, ...(readOnlyRootFilesystem ? { readOnlyRootFilesystem: true } : {}) };
}

/** The gateway container's environment, mapped from the spec onto the names start-enterprise-gateway.sh reads. */
export function gatewayEnv(gw: JupyterGateway): EnvVar[] {
  const s = gw.spec;
  const { http, response } = gatewayPorts(gw);
  const env: EnvVar[] = [
    { name: "EG_PORT", value: String(http) },
    { name: "EG_RESPONSE_PORT", value: String(response) },
    // Kernels connect back to this address; the pod IP is right in a cluster and in local tests alike.
    { name: "EG_RESPONSE_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    // Kernels run in the gateway's namespace (no namespace per kernel, no cluster-wide RBAC).
    { name: "EG_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    { name: "EG_SHARED_NAMESPACE", value: "True" },
    // Kernelspecs come and go while the gateway runs; a cache would hide them.
    { name: "EG_KERNELSPEC_CACHE_ENABLED", value: "False" },
    { name: "EG_LOG_LEVEL", value: s.logLevel ?? "INFO" },
    // The launcher labels each JupyterKernel with it, so only this gateway's sidecar reconciles it.
    { name: "EJ_GATEWAY_NAME", value: gw.metadata!.name! },
  ];
  // The sidecar culls, per kernelspec (controller/src/culling): the gateway's own culler is off,
  // and it must list its kernels (with their activity) for the sidecar.
  env.push({ name: "EG_CULL_IDLE_TIMEOUT", value: "0" }, { name: "EG_LIST_KERNELS", value: "True" });
  // Every request needs the token (header `Authorization: token <t>`); EG reads it from here.
  const tokenSecret = gatewayTokenSecretName(gw);
  if (tokenSecret) env.push({ name: "EG_AUTH_TOKEN", valueFrom: { secretKeyRef: { name: tokenSecret, key: TOKEN_KEY } } });
  if (s.defaultKernel) env.push({ name: "EG_DEFAULT_KERNEL_NAME", value: s.defaultKernel });
  if (s.launchTimeout !== undefined) env.push({ name: "EG_KERNEL_LAUNCH_TIMEOUT", value: String(s.launchTimeout) });
  if (s.portRange) env.push({ name: "EG_PORT_RANGE", value: s.portRange });
  env.push(
    { name: "EG_INHERITED_ENVS", value: LAUNCHER_INHERITED_ENV.join(",") },
    { name: "PYTHONPATH", value: GATEWAY_FILES_DIR },
    // Our jupyter_enterprise_gateway_config.py: only the synced kernelspecs, never the native one.
    { name: "JUPYTER_CONFIG_PATH", value: `${GATEWAY_FILES_DIR}/${GATEWAY_PACKAGE}` },
    { name: "EJ_GATEWAY_KERNELS_DIR", value: GATEWAY_KERNELS_DIR },
  );
  // `kernels` is deliberately absent (no EG_ALLOWED_KERNELS): the sidecar syncs only the listed
  // kernelspecs into the kernels directory, so the list changes without restarting the gateway.
  return mergeEnv(env, s.extraEnv);
}

function gatewayContainer(gw: JupyterGateway, opts: GatewayRenderOptions): Container {
  const { http, response } = gatewayPorts(gw);
  return {
    name: "gateway",
    image: gw.spec.image ?? opts.gatewayImage,
    // No command or args: the image's start-enterprise-gateway.sh turns the environment into flags.
    env: gatewayEnv(gw),
    ports: [
      { name: "http", containerPort: http, protocol: "TCP" },
      { name: "response", containerPort: response, protocol: "TCP" },
    ],
    // EG serves its API spec without a token (everything else needs one): ready means serving.
    readinessProbe: { httpGet: { path: "/api/swagger.json", port: "http" }, periodSeconds: 10, failureThreshold: 3 },
    // A hung gateway is restarted, but only after two minutes: a restart loses its kernels.
    livenessProbe: { httpGet: { path: "/api/swagger.json", port: "http" }, initialDelaySeconds: 60, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
    resources: gw.spec.resources ?? DEFAULT_GATEWAY_RESOURCES,
    securityContext: restrictedContainerSecurity(false), // EG writes connection files under $HOME
    volumeMounts: [
      { name: "kernels", mountPath: GATEWAY_KERNELS_DIR, readOnly: true },
      { name: "gateway-files", mountPath: GATEWAY_FILES_DIR, readOnly: true },
    ],
  };
}

function sidecarContainer(gw: JupyterGateway, opts: GatewayRenderOptions): Container {
  const { http, sidecarMetrics } = gatewayPorts(gw);
  const name = gw.metadata!.name!;
  // The culler calls the gateway with the gateway's own token, however it is sourced (extraEnv may replace ours).
  const token = gatewayEnv(gw).find((e) => e.name === "EG_AUTH_TOKEN");
  return {
    name: "sidecar",
    image: gw.spec.sidecar?.image ?? opts.sidecarImage,
    args: ["--role", "sidecar", "--gateway", name, "--kernels-dir", SIDECAR_KERNELS_DIR, "--metrics-addr", `:${sidecarMetrics}`],
    env: [
      { name: "EJ_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      // The gateway's REST API, for idle culling per kernelspec: same pod, so localhost.
      { name: "EJ_GATEWAY_URL", value: `http://127.0.0.1:${http}` },
      { name: "EJ_BOOTSTRAP_CONFIGMAP", value: kernelBootstrapConfigMapName(name) },
      ...(token ? [{ ...token, name: "EJ_GATEWAY_TOKEN" }] : []),
      // Only a widened policy is passed: restricted is the sidecar's default, and gateways of a
      // cluster that keeps it are not rolled by an operator upgrade.
      ...(opts.kernelPodPolicy && stableHash(opts.kernelPodPolicy) !== stableHash(RESTRICTED_KERNEL_POD_POLICY)
        ? [{ name: "EJ_KERNEL_POD_POLICY", value: JSON.stringify(opts.kernelPodPolicy) }] : []),
    ],
    ports: [{ name: "metrics", containerPort: sidecarMetrics, protocol: "TCP" }],
    // The runtime's health server: ready once its caches have synced.
    readinessProbe: { httpGet: { path: "/readyz", port: "metrics" }, periodSeconds: 10 },
    livenessProbe: { httpGet: { path: "/healthz", port: "metrics" }, periodSeconds: 20, failureThreshold: 3 },
    resources: gw.spec.sidecar?.resources ?? { requests: { cpu: "50m", memory: "64Mi" } },
    securityContext: restrictedContainerSecurity(true),
    volumeMounts: [{ name: "kernels", mountPath: SIDECAR_KERNELS_DIR }],
  };
}

export function desiredGatewayDeployment(gw: JupyterGateway, opts: GatewayRenderOptions): Deployment {
  const name = gw.metadata!.name!;
  const s = gw.spec;
  const files = Object.keys(opts.gatewayFiles).sort();
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: ownedMeta({ ...gw, kind: KIND.gateway }, name, gatewayLabels(gw)),
    spec: {
      // One gateway: EG keeps kernel state in memory and the sidecar must be the only writer of kernel pods.
      replicas: 1,
      // Recreate, for the same reason: two sidecars must never reconcile the same kernels at once.
      strategy: { type: "Recreate" },
      revisionHistoryLimit: 3,
      selector: { matchLabels: gatewaySelector(gw) },
      template: {
        metadata: {
          labels: gatewayLabels(gw),
          annotations: { [GATEWAY_FILES_HASH_ANNOTATION]: stableHash(opts.gatewayFiles) },
        },
        spec: {
          serviceAccountName: gatewayServiceAccountName(gw),
          automountServiceAccountToken: true,
          // Service links put <SERVICE>_PORT variables in the environment, which EG could mistake for its EG_* settings.
          enableServiceLinks: false,
          securityContext: s.securityContext ?? RESTRICTED_POD_SECURITY,
          ...(s.nodeSelector ? { nodeSelector: s.nodeSelector } : {}),
          ...(s.tolerations ? { tolerations: s.tolerations } : {}),
          ...(s.affinity ? { affinity: s.affinity } : {}),
          containers: [gatewayContainer(gw, opts), sidecarContainer(gw, opts)],
          volumes: [
            { name: "kernels", emptyDir: {} },
            {
              name: "gateway-files",
              configMap: { name: gatewayFilesConfigMapName(gw), items: files.map((f) => ({ key: f, path: `${GATEWAY_PACKAGE}/${f}` })) },
            },
          ],
        },
      },
    },
  };
}

export function desiredGatewayService(gw: JupyterGateway): Service {
  const { http, response } = gatewayPorts(gw);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: ownedMeta({ ...gw, kind: KIND.gateway }, gw.metadata!.name!, gatewayLabels(gw)),
    spec: {
      type: "ClusterIP",
      selector: gatewaySelector(gw),
      ports: [
        { name: "http", port: http, targetPort: "http", protocol: "TCP" },
        { name: "response", port: response, targetPort: "response", protocol: "TCP" },
      ],
    },
  };
}

/** The URL notebooks use to reach a gateway. */
export function gatewayUrl(gw: { name: string; namespace: string }, port: number): string {
  return `http://${gw.name}.${gw.namespace}:${port}`;
}

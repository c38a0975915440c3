// The values of the two charts, zero-to-jupyterhub style: `Values` for charts/elastic-jupyter (a
// team's gateway, notebooks, kernelspecs and kernel templates, installed per namespace) and
// `OperatorChartValues` for charts/elastic-jupyter-operator (CRDs and the operator, once per
// cluster). The gateway, notebook, kernelspec and kernel-template entries reuse the CRD spec
// types, so a key means the same thing in values and in a custom resource.
import type { Affinity, EnvVar, ResourceRequirements, Toleration } from "kubernetes-types/core/v1.js";
import type { NetworkPolicyEgressRule, NetworkPolicyIngressRule, NetworkPolicyPeer } from "kubernetes-types/networking/v1.js";
import type { JupyterGatewaySpec } from "../api/gateway.ts";
import type { JupyterKernelSpecSpec } from "../api/kernelspec.ts";
import type { JupyterKernelTemplateSpec } from "../api/kerneltemplate.ts";
import type { ObjectRef } from "../api/common.ts";
import type { JupyterNotebookSpec } from "../api/notebook.ts";
import type { GatewaySidecar } from "../api/gateway.ts";

/** A container image. The reference is `registry/repository:tag@digest`; `global.imageRegistry` overrides `registry`. */
export interface ImageValues {
  /**
   * Registry host, e.g. `ghcr.io`; empty: `global.imageRegistry`, then the repository as written.
   * @pattern ^([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?)?$
   */
  registry?: string;
  /**
   * Repository (path) of the image.
   * @minLength 1
   * @pattern ^[a-z0-9]+([._/-]+[a-z0-9]+)*$
   */
  repository: string;
  /**
   * Image tag; empty: the chart's appVersion.
   * @pattern ^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$
   */
  tag?: string;
  /**
   * Image digest (`sha256:...`); when set it pins the image and wins over the tag.
   * @pattern ^(sha256:[a-f0-9]{64})?$
   */
  digest?: string;
  /** When the kubelet pulls the image. */
  pullPolicy?: "Always" | "IfNotPresent" | "Never";
}

/** Whether and how the chart installs the CRDs. */
export interface CrdsValues {
  /**
   * Install (and upgrade) the five CRDs with the chart. Turn off when the CRDs are managed elsewhere.
   * @default true
   */
  install: boolean;
}

/** Operator metrics. */
export interface MetricsValues {
  /**
   * Serve Prometheus metrics on the operator's metrics port.
   * @default true
   */
  enabled: boolean;
  /**
   * Port of the operator's metrics and health endpoints (/metrics, /healthz, /readyz).
   * @asType integer
   * @minimum 1
   * @maximum 65535
   * @default 8080
   */
  port: number;
  /** A Prometheus Operator ServiceMonitor for the metrics. */
  serviceMonitor: {
    /**
     * Create a ServiceMonitor (needs the Prometheus Operator CRDs).
     * @default false
     */
    enabled: boolean;
    /**
     * Scrape interval, e.g. `30s`; empty: Prometheus' default.
     * @pattern ^([0-9]+(ms|s|m|h))*$
     */
    interval?: string;
    /** Extra labels on the ServiceMonitor, e.g. the `release` label your Prometheus selects. */
    labels?: { [key: string]: string };
  };
  /** A Prometheus Operator PodMonitor for every gateway's sidecar (port `metrics`), in the namespaces the operator watches: the GPU, queue and culling metrics. Team NetworkPolicies must let Prometheus in (`networkPolicy.gateway.extraIngress`). */
  sidecarPodMonitor: {
    /**
     * Create the PodMonitor (needs the Prometheus Operator CRDs).
     * @default false
     */
    enabled: boolean;
    /**
     * Scrape interval, e.g. `30s`; empty: Prometheus' default.
     * @pattern ^([0-9]+(ms|s|m|h))*$
     */
    interval?: string;
    /** Extra labels on the PodMonitor, e.g. the `release` label your Prometheus selects. */
    labels?: { [key: string]: string };
  };
  /** A Grafana dashboard (GPUs requested, bound and idle, the GPU queue, culling) in a ConfigMap that Grafana's dashboard sidecar loads. */
  grafanaDashboard: {
    /**
     * Create the dashboard ConfigMap.
     * @default false
     */
    enabled: boolean;
    /** Labels Grafana's sidecar selects dashboards by. */
    labels?: { [key: string]: string };
    /** Annotations, e.g. the sidecar's folder annotation. */
    annotations?: { [key: string]: string };
  };
}

/** PodDisruptionBudget of the operator. */
export interface PdbValues {
  /**
   * Create a PodDisruptionBudget for the operator.
   * @default false
   */
  enabled: boolean;
  /**
   * Pods that must stay available: a number or a percentage such as "50%".
   * @intOrString
   * @default 1
   */
  minAvailable?: number | string;
}

/** The operator Deployment: reconciles gateways, notebooks and kernelspecs. */
export interface OperatorValues {
  /** The controller image the operator runs (and gives gateways whose JupyterGateway names no sidecar image). */
  image: ImageValues;
  /**
   * Operator replicas; more than one needs leader election.
   * @asType integer
   * @minimum 0
   * @maximum 10
   * @default 1
   */
  replicas: number;
  /**
   * Elect one active replica with a Lease.
   * @default true
   */
  leaderElection: boolean;
  /**
   * CPU and memory of the operator container.
   * @coreType core/v1.ResourceRequirements
   */
  resources?: ResourceRequirements;
  /** Node labels the operator pod must match. */
  nodeSelector?: { [label: string]: string };
  /**
   * Tolerations of the operator pod.
   * @coreType core/v1.Toleration
   */
  tolerations?: Toleration[];
  /**
   * Affinity of the operator pod.
   * @coreType core/v1.Affinity
   */
  affinity?: Affinity;
  /** Annotations of the operator pod. */
  podAnnotations?: { [key: string]: string };
  /** Extra labels of the operator pod. */
  podLabels?: { [key: string]: string };
  /**
   * Extra environment variables of the operator container.
   * @coreType core/v1.EnvVar
   */
  extraEnv?: EnvVar[];
  /** Free-form fields merged into the operator's pod spec (escape hatch). */
  extraPodSpec?: { [key: string]: unknown };
  /** Prometheus metrics. */
  metrics: MetricsValues;
  /** PodDisruptionBudget. */
  pdb: PdbValues;
  /**
   * Operator log level.
   * @default "info"
   */
  logLevel: "debug" | "info" | "warn" | "error";
  /**
   * The only namespace the operator watches (its permissions are then bound there alone); empty: all namespaces.
   * @maxLength 63
   * @pattern ^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$
   */
  watchNamespace?: string;
  /**
   * Reconciles run at once per controller (--concurrency).
   * @asType integer
   * @minimum 1
   * @maximum 64
   * @default 4
   */
  concurrency?: number;
  /** Extra command-line flags of the operator (escape hatch), e.g. `--lease-duration=30s`. */
  extraArgs?: string[];
  /** The operator's ServiceAccount. */
  serviceAccount?: {
    /** Annotations of the ServiceAccount (e.g. for workload identity). */
    annotations?: { [key: string]: string };
  };
}

/**
 * A Kubernetes object name.
 * @minLength 1
 * @maxLength 253
 * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
 */
export type ObjectName = string;

/**
 * An image pull Secret in the release namespace: its name, or `{name: ...}` as a pod spec (and
 * zero-to-jupyterhub) writes it; both mean the same.
 */
export type PullSecret = ObjectName | PullSecretReference;

/** An image pull Secret named as a pod spec names it. */
export interface PullSecretReference {
  /** Name of the Secret. */
  name: ObjectName;
}

/** The JupyterGateway the chart creates: the JupyterGateway spec, with a structured image. */
export interface GatewayValues extends Omit<JupyterGatewaySpec, "image" | "sidecar"> {
  /**
   * Create a JupyterGateway.
   * @default true
   */
  enabled: boolean;
  /** Name of the JupyterGateway (and of its Deployment and Service). */
  name: ObjectName;
  /** The Enterprise Gateway image (stock). */
  image: ImageValues;
  /** The sidecar container. Unset image: the operator's own, so upgrading the operator upgrades every gateway's sidecar; a pinned image stays (the JupyterGateway's SidecarCurrent condition says when it differs from the operator's). */
  sidecar?: GatewaySidecar;
}

/** Notebooks' defaults. */
export interface NotebookDefaultsValues {
  /** Image of every notebook in `notebooks` that sets no `image` of its own (a jupyter_server 2.x image, e.g. docker-stacks' base-notebook). */
  image: ImageValues;
}

/** A JupyterNotebook the chart creates: a name plus the JupyterNotebook spec. */
export interface NotebookValues extends Omit<JupyterNotebookSpec, "gateway"> {
  /** Name of the JupyterNotebook (and of its Deployment, Service and token Secret). */
  name: ObjectName;
  /** The JupyterGateway that runs this notebook's kernels. Unset: the chart's `gateway` (when `gateway.enabled`). */
  gateway?: ObjectRef;
}

/** A JupyterKernelSpec the chart creates: a name plus the JupyterKernelSpec spec. */
export interface KernelSpecValues extends Omit<JupyterKernelSpecSpec, "imagePullSecrets"> {
  /** Name of the JupyterKernelSpec (the kernel name clients ask for). */
  name: ObjectName;
  /** Image pull Secrets for kernel pods, added to the chart-wide `imagePullSecrets` and the template's: names or `{name: ...}`. */
  imagePullSecrets?: PullSecret[];
}

/** A JupyterKernelTemplate the chart creates: a name plus the JupyterKernelTemplate spec. */
export interface KernelTemplateValues extends JupyterKernelTemplateSpec {
  /** Name of the JupyterKernelTemplate. */
  name: ObjectName;
}

/** Values shared with parent charts. */
export interface GlobalValues {
  /**
   * Registry that replaces every image's registry, e.g. a mirror.
   * @pattern ^([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?)?$
   */
  imageRegistry?: string;
  /** Image pull Secrets (names or `{name: ...}`) for every pod, before the chart's own `imagePullSecrets`. */
  imagePullSecrets?: PullSecret[];
  /** Anything else a parent chart shares with its subcharts: `global` stays open, so a parent's globals never fail this chart. */
  [parentGlobal: string]: unknown;
}

/**
 * Where a component's pods may connect besides the flows the chart always allows, as
 * zero-to-jupyterhub's `egressAllowRules`: each widens the policy, and turning one off narrows it.
 */
export interface EgressAllowRules {
  /**
   * DNS (port 53, UDP and TCP) to any address: the cluster's resolver, node-local caches.
   * @default true
   */
  dns: boolean;
  /**
   * Any address outside the private ranges (10/8, 172.16/12, 192.168/16, 169.254/16): the internet, e.g. package indexes and model hubs.
   * @default false
   */
  nonPrivateIPs: boolean;
  /**
   * Any address in the private ranges (10/8, 172.16/12, 192.168/16): other pods and services in the cluster, on-premises data stores. The cloud metadata server (169.254.169.254) stays blocked.
   * @default false
   */
  privateIPs: boolean;
}

/** Extra rules for one component's NetworkPolicy. */
export interface NetworkPolicyComponentValues {
  /**
   * Ingress rules added to the component's policy.
   * @coreType networking/v1.NetworkPolicyIngressRule
   */
  extraIngress?: NetworkPolicyIngressRule[];
  /**
   * Egress rules added to the component's policy (e.g. kernels that download packages).
   * @coreType networking/v1.NetworkPolicyEgressRule
   */
  extraEgress?: NetworkPolicyEgressRule[];
}

/**
 * A CIDR block.
 * @pattern ^[0-9a-fA-F:.]+/[0-9]{1,3}$
 */
export type Cidr = string;

/**
 * A port number.
 * @asType integer
 * @minimum 1
 * @maximum 65535
 */
export type Port = number;

/** Where the Kubernetes API server is; NetworkPolicies cannot select it by label. */
export interface ApiServerValues {
  /**
   * CIDRs of the API server's endpoints (`kubectl get endpoints kubernetes -n default`); the default allows any address.
   * @minItems 1
   */
  cidrs: Cidr[];
  /**
   * Ports of the API server (the Service's 443 and the endpoints' port, often 6443).
   * @minItems 1
   */
  ports: Port[];
}

/**
 * NetworkPolicies for the pods the operator creates from this chart's resources. Allowed:
 * notebook -> gateway (HTTP port), gateway -> kernels (the kernel port range), kernels -> gateway
 * (response port), gateway -> API server, notebooks -> DNS, ingress to notebooks on their port,
 * helm test pods -> gateway and notebooks. Everything else to and from these pods is denied.
 */
export interface NetworkPolicyValues {
  /**
   * Create the NetworkPolicies.
   * @default true
   */
  enabled: boolean;
  /** Where the API server is (the gateway's sidecar and Enterprise Gateway talk to it). */
  apiServer: ApiServerValues;
  /** Extra rules for the gateway's policy. Notebooks in namespaces the gateway lists in `gateway.allowedNamespaces` may reach it too. */
  gateway?: NetworkPolicyComponentValues;
  /** The notebooks' policy. */
  notebook?: NotebookNetworkPolicyValues;
  /** The kernels' policy: kernels run users' code, so they reach only the gateway and DNS unless widened here. */
  kernel?: KernelNetworkPolicyValues;
}

/** The notebooks' NetworkPolicy. */
export interface NotebookNetworkPolicyValues extends NetworkPolicyComponentValues {
  /**
   * Who may connect to the notebooks' port (e.g. only the ingress controller's pods). Unset or empty: anyone (port-forward, any Ingress).
   * @coreType networking/v1.NetworkPolicyPeer
   */
  ingressFrom?: NetworkPolicyPeer[];
  /** Where notebooks may connect besides their gateway. Default: DNS only. */
  egressAllowRules?: EgressAllowRules;
}

/** The kernels' NetworkPolicy. */
export interface KernelNetworkPolicyValues extends NetworkPolicyComponentValues {
  /** Where kernels may connect besides their gateway. Default: DNS only. */
  egressAllowRules?: EgressAllowRules;
}

/** The operator's NetworkPolicy: in, its metrics and health port; out, the API server only. */
export interface OperatorNetworkPolicyValues extends NetworkPolicyComponentValues {
  /**
   * Create the NetworkPolicy.
   * @default true
   */
  enabled: boolean;
  /** Where the API server is. */
  apiServer: ApiServerValues;
}

/** `helm test` pods. */
export interface TestsValues {
  /**
   * Render the `helm test` pods (they run `controllerImage`).
   * @default true
   */
  enabled: boolean;
}

/** Images the operator uses for resources that name none (e.g. applied with kubectl). */
export interface OperatorDefaultsValues {
  /** Enterprise Gateway image for JupyterGateways without `image`. */
  gatewayImage: ImageValues;
  /** Notebook image for JupyterNotebooks without `image`. */
  notebookImage: ImageValues;
}

/**
 * What a kernel pod may ask for beyond the restricted Pod Security Standard. Every kernel pod gets a
 * restricted securityContext (non-root, no privilege escalation, all capabilities dropped,
 * RuntimeDefault seccomp) and no service-account token unless its template says otherwise, and
 * the gateways' sidecars refuse (a Failed JupyterKernel, never a pod) a template that asks for more
 * than this allows. Team admins write kernel templates; only the cluster admin widens this.
 */
export interface KernelPodPolicyValues {
  /**
   * Allow privileged containers and `allowPrivilegeEscalation: true`.
   * @default false
   */
  allowPrivileged: boolean;
  /**
   * Allow the host's network, PID and IPC namespaces and host ports.
   * @default false
   */
  allowHostNamespaces: boolean;
  /**
   * Allow hostPath volumes.
   * @default false
   */
  allowHostPath: boolean;
  /**
   * Allow containers to run as root (`runAsUser: 0` or `runAsNonRoot: false`).
   * @default false
   */
  allowRunAsRoot: boolean;
  /**
   * Allow a service-account token in kernel pods (`automountServiceAccountToken: true` or a projected token volume). Kernels run users' code; a token gives that code the service account's rights.
   * @default false
   */
  allowServiceAccountToken: boolean;
  /**
   * Linux capabilities kernel containers may add (`securityContext.capabilities.add`), e.g. `SYS_PTRACE` for debuggers. Empty: none.
   * @maxItems 64
   */
  allowedCapabilities: Capability[];
  /**
   * Schedulers other than the default one that kernel pods may name in `spec.schedulerName`, e.g. `kai-scheduler` for KAI's fractional GPUs (docs/gpus.md). Another scheduler places GPUs outside the cluster's own accounting, so kernel templates may use one only when the cluster admin lists it here. Empty: the default scheduler only.
   * @maxItems 16
   */
  allowedSchedulerNames: SchedulerName[];
}

/**
 * A Linux capability name without the CAP_ prefix.
 * @pattern ^[A-Z_]+$
 * @maxLength 64
 */
export type Capability = string;

/**
 * A scheduler's name (a pod's `spec.schedulerName`).
 * @pattern ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$
 * @maxLength 253
 */
export type SchedulerName = string;

/** Values of the elastic-jupyter-operator chart: the CRDs and the operator, installed once per cluster. */
export interface OperatorChartValues {
  /** Values shared with parent charts. */
  global?: GlobalValues;
  /** CRD installation. */
  crds: CrdsValues;
  /** The operator. */
  operator: OperatorValues;
  /** Images for resources that name none. */
  defaults: OperatorDefaultsValues;
  /** What kernel pods may ask for beyond the restricted Pod Security Standard, in every namespace. */
  kernelPodPolicy: KernelPodPolicyValues;
  /** The operator's NetworkPolicy. */
  networkPolicy: OperatorNetworkPolicyValues;
  /** Image pull Secrets (in the release namespace) for the operator pods: names or `{name: ...}`. */
  imagePullSecrets?: PullSecret[];
  /** Free-form values for your own templates or overlays; the chart never reads them. */
  custom?: { [key: string]: unknown };
}

/** Values of the elastic-jupyter chart: one team's gateway, notebooks, kernelspecs and kernel templates, in the release namespace. The operator (chart elastic-jupyter-operator) must run in the cluster. */
export interface Values {
  /**
   * Whether a parent chart installs this chart as a subchart (its `dependencies[].condition`); this chart itself ignores it.
   * @default true
   */
  enabled?: boolean;
  /** Values shared with parent charts. */
  global?: GlobalValues;
  /** The controller image the `helm test` pods run. The gateway's sidecar runs the operator's own image unless `gateway.sidecar.image` pins one. Mirror and pin it like the operator's. */
  controllerImage: ImageValues;
  /** The JupyterGateway the chart creates. */
  gateway: GatewayValues;
  /** Defaults for the notebooks. */
  notebookDefaults: NotebookDefaultsValues;
  /** JupyterNotebooks to create. */
  notebooks: NotebookValues[];
  /** JupyterKernelSpecs to create. */
  kernelSpecs: KernelSpecValues[];
  /** JupyterKernelTemplates to create. */
  kernelTemplates: KernelTemplateValues[];
  /** NetworkPolicies. */
  networkPolicy: NetworkPolicyValues;
  /** Image pull Secrets (in the release namespace), names or `{name: ...}`, for the gateway, notebook, kernel and test pods (kernel pods also get their kernelspec's own). */
  imagePullSecrets?: PullSecret[];
  /** `helm test` pods. */
  tests: TestsValues;
  /** Free-form values for your own templates or overlays; the chart never reads them. */
  custom?: { [key: string]: unknown };
}

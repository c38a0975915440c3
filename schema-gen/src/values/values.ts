// The chart's values (charts/elastic-jupyter/values.yaml), zero-to-jupyterhub style. The gateway,
// notebook, kernelspec and kernel-template entries reuse the CRD spec types, so a key means the
// same thing in values and in a custom resource.
import type { Affinity, EnvVar, ResourceRequirements, Toleration } from "kubernetes-types/core/v1.js";
import type { JupyterGatewaySpec } from "../api/gateway.ts";
import type { JupyterKernelSpecSpec } from "../api/kernelspec.ts";
import type { JupyterKernelTemplateSpec } from "../api/kerneltemplate.ts";
import type { JupyterNotebookSpec } from "../api/notebook.ts";

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
  /** A Prometheus Operator ServiceMonitor for the metrics. */
  serviceMonitor: {
    /**
     * Create a ServiceMonitor (needs the Prometheus Operator CRDs).
     * @default false
     */
    enabled: boolean;
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
  /** The operator image (also the gateway sidecar's image). */
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
  /** Namespaces the operator watches; empty: all namespaces. */
  watchNamespaces?: Namespace[];
}

/**
 * A namespace name.
 * @maxLength 63
 * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$
 */
export type Namespace = string;

/**
 * A Kubernetes object name.
 * @minLength 1
 * @maxLength 253
 * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
 */
export type ObjectName = string;

/** The JupyterGateway the chart creates: the JupyterGateway spec, with a structured image. */
export interface GatewayValues extends Omit<JupyterGatewaySpec, "image"> {
  /**
   * Create a JupyterGateway.
   * @default true
   */
  enabled: boolean;
  /** Name of the JupyterGateway (and of its Deployment and Service). */
  name: ObjectName;
  /** The Enterprise Gateway image (stock). */
  image: ImageValues;
}

/** A JupyterNotebook the chart creates: a name plus the JupyterNotebook spec. */
export interface NotebookValues extends JupyterNotebookSpec {
  /** Name of the JupyterNotebook. */
  name: ObjectName;
}

/** A JupyterKernelSpec the chart creates: a name plus the JupyterKernelSpec spec. */
export interface KernelSpecValues extends JupyterKernelSpecSpec {
  /** Name of the JupyterKernelSpec (the kernel name clients ask for). */
  name: ObjectName;
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
}

/** NetworkPolicies for the chart's pods. */
export interface NetworkPolicyValues {
  /**
   * Create NetworkPolicies that allow only the traffic the components need.
   * @default true
   */
  enabled: boolean;
}

/** Values of the elastic-jupyter chart. */
export interface Values {
  /** Values shared with parent charts. */
  global?: GlobalValues;
  /** CRD installation. */
  crds: CrdsValues;
  /** The operator. */
  operator: OperatorValues;
  /** The JupyterGateway the chart creates. */
  gateway: GatewayValues;
  /** JupyterNotebooks to create. */
  notebooks: NotebookValues[];
  /** JupyterKernelSpecs to create. */
  kernelSpecs: KernelSpecValues[];
  /** JupyterKernelTemplates to create. */
  kernelTemplates: KernelTemplateValues[];
  /** NetworkPolicies. */
  networkPolicy: NetworkPolicyValues;
  /** Names of image pull Secrets (in the release namespace) for every pod the chart creates. */
  imagePullSecrets?: ObjectName[];
  /** Free-form values for your own templates or overlays; the chart never reads them. */
  custom?: { [key: string]: unknown };
}

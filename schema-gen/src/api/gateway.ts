// JupyterGateway: a Jupyter Enterprise Gateway (stock image) plus our sidecar, serving kernelspecs.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { Affinity, PodSecurityContext, ResourceRequirements, Toleration } from "kubernetes-types/core/v1.js";
import type { CommonStatus, EnvList } from "./common.ts";
import type { GpuPolicy } from "./kernelspec.ts";

/** Enterprise Gateway log levels. */
export type GatewayLogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";

/** The sidecar container (our controller in its sidecar role) in the gateway pod. */
export interface GatewaySidecar {
  /**
   * Sidecar image. Unset: the operator's own image.
   * @maxLength 512
   * @pattern ^[^\s]+$
   */
  image?: string;
  /**
   * CPU and memory of the sidecar container.
   * @coreType core/v1.ResourceRequirements
   */
  resources?: ResourceRequirements;
}

/** Who may use the gateway's REST API (EG_AUTH_TOKEN). */
export type GatewayAuthMode = "token" | "disable";

/**
 * Gateway authentication.
 * @validations [{rule: "!has(self.secretName) || !has(self.mode) || self.mode == 'token'", message: "secretName needs mode token", fieldPath: ".secretName"}]
 */
export interface GatewayAuth {
  /**
   * `token`: every request needs the token (kept in a Secret); the gateway's sidecar and the JupyterNotebooks that use the gateway get it. `disable`: anyone who can reach the gateway can run code through it.
   * @default "token"
   */
  mode?: GatewayAuthMode;
  /**
   * Secret (key `token`) holding the token, in the gateway's namespace. Unset: the operator creates `<gateway>-gateway-token`.
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
   */
  secretName?: string;
}

/**
 * Desired state of a JupyterGateway.
 * @validations [{rule: "!has(self.defaultKernel) || !has(self.kernels) || size(self.kernels) == 0 || self.defaultKernel in self.kernels", message: "defaultKernel must be one of kernels", fieldPath: ".defaultKernel"}, {rule: "!has(self.port) || !has(self.responsePort) || self.port != self.responsePort", message: "port and responsePort must differ", fieldPath: ".responsePort"}]
 */
export interface JupyterGatewaySpec {
  /**
   * Enterprise Gateway image (stock; our files are mounted into it). Unset: the chart's default.
   * @maxLength 512
   * @pattern ^[^\s]+$
   */
  image?: string;
  /**
   * Seconds a kernel may stay idle (no messages, not busy) before it is shut down, for kernelspecs that set no `cullIdleTimeout` of their own; 0 never culls. Unset: 43200 (12 h). The gateway's sidecar culls (the gateway's own culler is off), so changing this never restarts the gateway.
   * @asType integer
   * @minimum 0
   * @maximum 31536000
   */
  cullIdleTimeout?: number;
  /**
   * Seconds between idle checks. Unset: 60.
   * @asType integer
   * @minimum 1
   * @maximum 86400
   */
  cullInterval?: number;
  /** Also cull idle kernels that still have a connected client. Unset: false. */
  cullConnected?: boolean;
  /**
   * Gateway log level.
   * @default "INFO"
   */
  logLevel?: GatewayLogLevel;
  /**
   * Names of the JupyterKernelSpecs (in this namespace) this gateway serves; also its allow-list (EG_ALLOWED_KERNELS). Empty: all of them.
   * @listType set
   * @maxItems 256
   */
  kernels?: KernelSpecName[];
  /**
   * The kernelspec used when a client asks for none (EG_DEFAULT_KERNEL_NAME); must be one of `kernels` when that is set.
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
   */
  defaultKernel?: string;
  /** Limits on the GPUs the kernels of this gateway's namespace hold, per kernel, per user and in all, and whether a kernel that does not fit waits in a fair queue or fails at once. Unset: no limits, and a kernel no node has room for fails after a few seconds. */
  gpuPolicy?: GpuPolicy;
  /**
   * Seconds a kernel may take to start before the launch fails (EG_KERNEL_LAUNCH_TIMEOUT).
   * @asType integer
   * @minimum 1
   * @maximum 3600
   */
  launchTimeout?: number;
  /**
   * Ports kernels may listen on, "lo..hi" spanning at least 1000 ports, or "0..0" for any (EG_PORT_RANGE).
   * @maxLength 12
   * @pattern ^[0-9]{1,5}\.\.[0-9]{1,5}$
   * @validations [{rule: "self == '0..0' || !self.matches('^[0-9]{1,5}[.][.][0-9]{1,5}$') || (int(self.split('..')[1]) - int(self.split('..')[0]) >= 1000 && int(self.split('..')[1]) <= 65535)", message: "portRange must be \"0..0\" or lo..hi spanning at least 1000 ports, hi <= 65535"}]
   */
  portRange?: string;
  /**
   * Port on which the gateway receives kernels' connection info (EG_RESPONSE_PORT).
   * @asType integer
   * @default 8877
   * @minimum 1
   * @maximum 65535
   */
  responsePort?: number;
  /**
   * Port of the gateway's HTTP API.
   * @asType integer
   * @default 8888
   * @minimum 1
   * @maximum 65535
   */
  port?: number;
  /**
   * CPU and memory of the gateway container.
   * @coreType core/v1.ResourceRequirements
   */
  resources?: ResourceRequirements;
  /** Node labels the gateway pod must match. */
  nodeSelector?: { [label: string]: string };
  /**
   * Tolerations of the gateway pod.
   * @coreType core/v1.Toleration
   * @listType atomic
   */
  tolerations?: Toleration[];
  /**
   * Affinity of the gateway pod.
   * @coreType core/v1.Affinity
   */
  affinity?: Affinity;
  /**
   * Pod-level security context of the gateway pod.
   * @coreType core/v1.PodSecurityContext
   */
  securityContext?: PodSecurityContext;
  /**
   * Extra environment variables for the gateway container (e.g. other EG_* settings).
   * @coreType core/v1.EnvVar
   */
  extraEnv?: EnvList;
  /** The sidecar container that syncs kernelspecs and reconciles this gateway's kernels. */
  sidecar?: GatewaySidecar;
  /**
   * Service account of the gateway pod. Unset: one the operator creates for this gateway.
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
   */
  serviceAccountName?: string;
  /** Authentication of the gateway's REST API. Unset: a generated token. */
  auth?: GatewayAuth;
  /**
   * Other namespaces whose JupyterNotebooks may use this gateway: they get a copy of its token and run kernels (and GPUs) of this namespace. `*` allows every namespace. Unset or empty: only notebooks in the gateway's own namespace.
   * @listType set
   * @maxItems 256
   */
  allowedNamespaces?: AllowedNamespace[];
}

/**
 * A namespace name, or `*` for every namespace.
 * @maxLength 63
 * @pattern ^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$
 */
export type AllowedNamespace = string;

/**
 * The name of a JupyterKernelSpec.
 * @maxLength 253
 * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
 */
export type KernelSpecName = string;

/** Observed state of a JupyterGateway. */
export interface JupyterGatewayStatus extends CommonStatus {}

/** A Jupyter Enterprise Gateway that launches kernels as JupyterKernels, with idle culling. */
export interface JupyterGateway {
  apiVersion: "kubeflow.tkestack.io/v1alpha1";
  kind: "JupyterGateway";
  metadata?: ObjectMeta;
  spec: JupyterGatewaySpec;
  status?: JupyterGatewayStatus;
}

// JupyterNotebook: a notebook server (JupyterLab) whose kernels run through a JupyterGateway.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { ResourceRequirements } from "kubernetes-types/core/v1.js";
import type { CommonStatus, ObjectRef, PodTemplateOverrides } from "./common.ts";
import type { KernelSpecName } from "./gateway.ts";

/** How users authenticate to the notebook server. */
export type NotebookAuthMode = "token" | "disable";

/**
 * Notebook authentication.
 * @validations [{rule: "!has(self.secretName) || !has(self.mode) || self.mode == 'token'", message: "secretName needs mode token", fieldPath: ".secretName"}]
 */
export interface NotebookAuth {
  /**
   * `token` asks for a token (kept in a Secret); `disable` opens the notebook to anyone who can reach it.
   * @default "token"
   */
  mode?: NotebookAuthMode;
  /**
   * Secret (key `token`) holding the token. Unset: the operator creates one.
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
   */
  secretName?: string;
}

/**
 * Direct mode: the notebook server starts its kernels itself, through the elastic-jupyter kernel
 * provisioner, as JupyterKernels in its own namespace (no gateway). See docs/direct-mode.md.
 */
export interface NotebookDirect {
  /**
   * Names of the JupyterKernelSpecs (in this namespace) the notebook offers and may launch. Empty: all of them.
   * @listType set
   * @maxItems 256
   */
  kernels?: KernelSpecName[];
  /**
   * The kernelspec JupyterLab picks when none is named; must be one of `kernels` when that is set.
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
   */
  defaultKernel?: string;
  /**
   * Seconds a kernel may stay idle before the notebook server shuts it down, unless its kernelspec sets `cullIdleTimeout`. 0: never.
   * @asType integer
   * @default 3600
   * @minimum 0
   * @maximum 31536000
   */
  cullIdleTimeout?: number;
  /**
   * Seconds between the notebook server's idle checks.
   * @asType integer
   * @default 60
   * @minimum 1
   * @maximum 86400
   */
  cullInterval?: number;
  /**
   * Seconds a kernel may take to start, GPU queueing included, before the start fails.
   * @asType integer
   * @default 300
   * @minimum 1
   * @maximum 86400
   */
  launchTimeout?: number;
}

/**
 * Desired state of a JupyterNotebook.
 * @validations [{rule: "!(has(self.gateway) && has(self.direct))", message: "a notebook uses either a gateway or direct mode, not both"}]
 */
export interface JupyterNotebookSpec {
  /** The JupyterGateway that runs this notebook's kernels. Unset (and no `direct`): kernels run inside the notebook pod. */
  gateway?: ObjectRef;
  /** Direct mode (opt-in): kernels run as JupyterKernel pods started by the notebook server itself, without a gateway. */
  direct?: NotebookDirect;
  /** Authentication of the notebook server. */
  auth?: NotebookAuth;
  /**
   * Notebook server image. Unset: the chart's default.
   * @maxLength 512
   * @pattern ^[^\s]+$
   */
  image?: string;
  /**
   * Port of the notebook server.
   * @asType integer
   * @default 8888
   * @minimum 1
   * @maximum 65535
   */
  port?: number;
  /** Pod template fields merged over the generated notebook pod. */
  template?: PodTemplateOverrides;
  /**
   * CPU and memory of the notebook container.
   * @coreType core/v1.ResourceRequirements
   */
  resources?: ResourceRequirements;
}

/** Observed state of a JupyterNotebook. */
export interface JupyterNotebookStatus extends CommonStatus {
  /** In-cluster URL of the notebook server. */
  url?: string;
}

/** A Jupyter notebook server whose kernels run remotely, through a JupyterGateway or (direct mode) started by the notebook server itself. */
export interface JupyterNotebook {
  apiVersion: "kubeflow.tkestack.io/v1alpha1";
  kind: "JupyterNotebook";
  metadata?: ObjectMeta;
  spec: JupyterNotebookSpec;
  status?: JupyterNotebookStatus;
}

// JupyterNotebook: a notebook server (JupyterLab) whose kernels run through a JupyterGateway.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { ResourceRequirements } from "kubernetes-types/core/v1.js";
import type { CommonStatus, ObjectRef, PodTemplateOverrides } from "./common.ts";

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

/** Desired state of a JupyterNotebook. */
export interface JupyterNotebookSpec {
  /** The JupyterGateway that runs this notebook's kernels. Unset: kernels run inside the notebook pod. */
  gateway?: ObjectRef;
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

/** A Jupyter notebook server whose kernels run remotely through a JupyterGateway. */
export interface JupyterNotebook {
  apiVersion: "kubeflow.tkestack.io/v1alpha1";
  kind: "JupyterNotebook";
  metadata?: ObjectMeta;
  spec: JupyterNotebookSpec;
  status?: JupyterNotebookStatus;
}

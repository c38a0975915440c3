// JupyterKernelTemplate: a reusable pod template for kernels.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { CommonStatus, PodTemplate } from "./common.ts";

/** Desired state of a JupyterKernelTemplate. */
export interface JupyterKernelTemplateSpec {
  /**
   * The pod template kernels start from. The container named `kernel` (or the first one) runs the kernel; the controller fills in its image, command, environment and GPU resources.
   */
  template: PodTemplate;
}

/** Observed state of a JupyterKernelTemplate. */
export interface JupyterKernelTemplateStatus extends CommonStatus {}

/** A reusable pod template for kernels, referenced by JupyterKernelSpecs and JupyterKernels. */
export interface JupyterKernelTemplate {
  apiVersion: "kubeflow.tkestack.io/v1alpha1";
  kind: "JupyterKernelTemplate";
  metadata?: ObjectMeta;
  spec: JupyterKernelTemplateSpec;
  status?: JupyterKernelTemplateStatus;
}

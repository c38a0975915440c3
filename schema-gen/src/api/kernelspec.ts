// JupyterKernelSpec: one Jupyter kernelspec (kernel.json plus launcher) served by gateways.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { ResourceRequirements } from "kubernetes-types/core/v1.js";
import type { CommonStatus, EnvList, ObjectRef } from "./common.ts";

/**
 * The GPUs (or any extended resource) a kernel of this kernelspec asks for.
 * @validations [{rule: "!has(self.max) || self.max >= self.count", message: "max must be greater than or equal to count", fieldPath: ".max"}]
 */
export interface KernelGpu {
  /**
   * The extended resource to request, e.g. `nvidia.com/gpu`, a MIG profile such as `nvidia.com/mig-1g.10gb`,
   * `nvidia.com/gpumem`, `volcano.sh/vgpu-number` or `aliyun.com/gpu-mem`.
   * @default "nvidia.com/gpu"
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$
   */
  resourceName?: string;
  /**
   * How much of the resource a kernel gets when the user asks for nothing (KERNEL_GPUS unset).
   * @asType integer
   * @default 1
   * @minimum 0
   * @maximum 1048576
   */
  count?: number;
  /**
   * The largest amount a user may ask for at launch through KERNEL_GPUS; at least `count`. Unset: `count`.
   * @asType integer
   * @minimum 0
   * @maximum 1048576
   */
  max?: number;
}

/** Desired state of a JupyterKernelSpec. */
export interface JupyterKernelSpecSpec {
  /**
   * The kernel's language as Jupyter shows it, e.g. `Python` (kernel.json `language`).
   * @minLength 1
   * @maxLength 63
   */
  language: string;
  /**
   * The name users see in the launcher (kernel.json `display_name`). Unset: the object's name.
   * @maxLength 253
   */
  displayName?: string;
  /**
   * The kernel container image (also written to kernel.json `metadata.process_proxy.config.image_name`).
   * @minLength 1
   * @maxLength 512
   * @pattern ^[^\s]+$
   */
  image: string;
  /**
   * Enterprise Gateway process-proxy class written to kernel.json `metadata.process_proxy.class_name`, a dotted Python path. Unset: our JupyterKernel process proxy.
   * @maxLength 253
   * @pattern ^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$
   */
  className?: string;
  /** The JupyterKernelTemplate whose pod template kernels of this kernelspec start from. */
  template?: ObjectRef;
  /**
   * The kernel.json `argv`: the launcher the gateway runs. May contain `{kernel_id}`, `{port_range}`, `{response_address}` and `{public_key}`. Unset: our launcher.
   * @minItems 1
   * @listType atomic
   */
  command?: string[];
  /**
   * What the kernel container runs. Unset: our bootstrap script.
   * @minItems 1
   * @listType atomic
   */
  kernelCommand?: string[];
  /**
   * Environment variables of the kernel container.
   * @coreType core/v1.EnvVar
   */
  env?: EnvList;
  /**
   * CPU and memory requests and limits of the kernel container; GPUs go in `gpu`.
   * @coreType core/v1.ResourceRequirements
   */
  resources?: ResourceRequirements;
  /** GPUs (or another extended resource) for each kernel. Unset: no GPUs. */
  gpu?: KernelGpu;
  /**
   * Seconds a kernel of this kernelspec may stay idle (no messages, not busy) before the gateway's sidecar shuts it down; 0 never culls. Unset: the gateway's `cullIdleTimeout`. Set it short for GPU kernelspecs so idle kernels give their GPUs back.
   * @asType integer
   * @minimum 0
   * @maximum 31536000
   */
  cullIdleTimeout?: number;
}

/** Observed state of a JupyterKernelSpec. */
export interface JupyterKernelSpecStatus extends CommonStatus {
  /** The ConfigMap holding the rendered kernel.json and launcher files. */
  configMapName?: string;
}

/** A Jupyter kernelspec, rendered into a ConfigMap that gateways serve to notebooks without restarting. */
export interface JupyterKernelSpec {
  apiVersion: "kubeflow.tkestack.io/v1alpha1";
  kind: "JupyterKernelSpec";
  metadata?: ObjectMeta;
  spec: JupyterKernelSpecSpec;
  status?: JupyterKernelSpecStatus;
}

// JupyterKernelSpec: one Jupyter kernelspec (kernel.json plus launcher) served by gateways.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { Affinity, LocalObjectReference, ResourceRequirements, Toleration } from "kubernetes-types/core/v1.js";
import type { CommonStatus, EnvList, ObjectRef } from "./common.ts";

/**
 * The GPUs (or any extended resource) a kernel of this kernelspec asks for.
 * @validations [{rule: "!has(self.max) || !has(self.count) || self.max >= self.count", message: "max must be greater than or equal to count", fieldPath: ".max"}]
 */
export interface KernelGpu {
  /**
   * The extended resource to request, e.g. `nvidia.com/gpu`, a MIG profile such as `nvidia.com/mig-1g.10gb`,
   * `nvidia.com/gpumem`, `volcano.sh/vgpu-number` or `aliyun.com/gpu-mem`. Unset: the GPU resource in `resources.limits`, else `nvidia.com/gpu`.
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$
   */
  resourceName?: string;
  /**
   * How much of the resource a kernel gets when the user asks for nothing (KERNEL_GPUS unset). Unset: the amount in `resources.limits`, else 1.
   * @asType integer
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

/**
 * GPU amounts by resource, keyed as ResourceQuota keys them: `nvidia.com/gpu`, a MIG profile such as `nvidia.com/mig-1g.10gb`, or a DRA device class's `<class>.deviceclass.resource.k8s.io/devices`.
 * @maxProperties 32
 * @validations [{rule: "self.all(k, k.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$') && self[k] >= 0.0)", message: "keys must be resource names such as nvidia.com/gpu, values at least 0"}]
 */
export type GpuAmounts = { [resource: string]: number };

/** What a kernel does when a GPU limit or the cluster is full. */
export type GpuWhenFull = "Queue" | "Fail";

/**
 * Limits on the GPUs live kernels hold, and what a kernel does when one is reached. Counted over kernels that have a pod (pending or running); a kernel's user is its `spec.username` (KERNEL_USERNAME).
 */
export interface GpuPolicy {
  /** The most one kernel may ask for. */
  maxPerKernel?: GpuAmounts;
  /** The most one user's live kernels may hold together. */
  maxPerUser?: GpuAmounts;
  /** The most all live kernels in scope may hold together (a JupyterGateway: its namespace; a JupyterKernelSpec: its kernels). */
  maxPerNamespace?: GpuAmounts;
  /**
   * `Queue`: a kernel that does not fit waits, admitted in order and fairly across users, for up to `queueTimeout`; the cluster being full (no node with a free GPU) queues it too. `Fail`: it fails at once with the limit it hit. Unset: `Queue`.
   */
  whenFull?: GpuWhenFull;
  /**
   * Seconds a queued kernel waits before its launch fails. Kept below the gateway's `launchTimeout` (by 5 s), so the user gets this reason rather than a timeout. Unset: the gateway's launchTimeout less 5 s.
   * @asType integer
   * @minimum 1
   * @maximum 86400
   */
  queueTimeout?: number;
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
   * Enterprise Gateway process-proxy class (kernel.json `metadata.process_proxy.class_name`). The gateway runs only ours, so the one accepted value besides it is the original operator's, which means the same. Unset: ours.
   * @maxLength 253
   * @validations [{rule: "self in ['elastic_jupyter.process_proxy.JupyterKernelProcessProxy', 'enterprise_gateway.services.processproxies.kubeflow.KubeflowProcessProxy']", message: "className must be elastic_jupyter.process_proxy.JupyterKernelProcessProxy or the original operator's enterprise_gateway.services.processproxies.kubeflow.KubeflowProcessProxy: the gateway runs no other process proxy"}]
   */
  className?: string;
  /** The JupyterKernelTemplate whose pod template kernels of this kernelspec start from. */
  template?: ObjectRef;
  /**
   * The launcher the gateway runs (kernel.json `argv`). The gateway process runs only our launcher, so this may only name it: the original operator's `kubeflow-launcher ...` or `python -m elastic_jupyter.launch_kernel ...`; either way the gateway runs our launcher with this kernelspec's settings. What runs in the kernel pod is `kernelCommand`. Unset: our launcher.
   * @minItems 1
   * @maxItems 64
   * @listType atomic
   * @validations [{rule: "self[0] == 'kubeflow-launcher' || (size(self) >= 3 && self[0] in ['python', 'python3'] && self[1] == '-m' && self[2] == 'elastic_jupyter.launch_kernel')", message: "command may only name the kernel launcher (kubeflow-launcher ... or python -m elastic_jupyter.launch_kernel ...): the gateway process runs nothing else; set what the kernel pod runs in kernelCommand"}]
   */
  command?: string[];
  /**
   * What the kernel container runs. Unset: our bootstrap script.
   * @minItems 1
   * @listType atomic
   */
  kernelCommand?: string[];
  /**
   * Images a notebook user may ask for instead of `image` when starting a kernel (KERNEL_IMAGE), as patterns where `*` matches any characters, e.g. `registry.example.com/team-a/*`. Unset or empty: users cannot choose the image.
   * @listType set
   * @maxItems 64
   */
  allowedImages?: ImagePattern[];
  /**
   * Environment variables of the kernel container.
   * @coreType core/v1.EnvVar
   */
  env?: EnvList;
  /**
   * Requests and limits of the kernel container. A GPU-count resource in `limits` (e.g. `nvidia.com/gpu: 1`, a MIG profile) means the same as `gpu` with that resource and count.
   * @coreType core/v1.ResourceRequirements
   */
  resources?: ResourceRequirements;
  /** GPUs (or another extended resource) for each kernel: the GPU node toleration is added, and users may ask for up to `max` at launch. Unset: those in `resources.limits`, else none. */
  gpu?: KernelGpu;
  /** Limits on the GPUs this kernelspec's kernels hold (on top of the gateway's `gpuPolicy`, which also applies); its `whenFull` and `queueTimeout` win over the gateway's. */
  gpuPolicy?: GpuPolicy;
  /** Node labels kernel pods must match (added to the template's), e.g. a GPU model. */
  nodeSelector?: { [label: string]: string };
  /**
   * Tolerations of kernel pods (added to the template's, and to the GPU toleration).
   * @coreType core/v1.Toleration
   * @listType atomic
   */
  tolerations?: Toleration[];
  /**
   * Affinity of kernel pods (replaces the template's).
   * @coreType core/v1.Affinity
   */
  affinity?: Affinity;
  /**
   * Image pull Secrets (in the kernel's namespace) for kernel pods, added to the template's.
   * @coreType core/v1.LocalObjectReference
   * @listType atomic
   */
  imagePullSecrets?: LocalObjectReference[];
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

/**
 * An image reference pattern; `*` matches any characters.
 * @minLength 1
 * @maxLength 512
 * @pattern ^[^\s]+$
 */
export type ImagePattern = string;

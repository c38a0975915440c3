// JupyterKernel: one running kernel, created by the gateway's process proxy; the controller turns it into a pod.
import type { ObjectMeta } from "kubernetes-types/meta/v1.js";
import type { CommonStatus, EnvList, ObjectRef, PodTemplate } from "./common.ts";

/**
 * Desired state of a JupyterKernel: what the gateway asked to launch.
 * @validations [{rule: "has(self.template) || has(self.kernelSpec) || has(self.kernelTemplate)", message: "at least one of spec.template, spec.kernelSpec or spec.kernelTemplate is required"}, {rule: "has(self.kernelId) || has(self.template)", message: "spec.kernelId is required unless spec.template's kernel container sets KERNEL_ID"}]
 */
export interface JupyterKernelLaunch {
  /**
   * The kernel's id as the gateway knows it (a UUID); immutable. Unset (the original operator's shape): the `KERNEL_ID` env of the template's kernel container.
   * @maxLength 36
   * @validations [{rule: "self == oldSelf", message: "kernelId is immutable"}]
   * @pattern ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$
   */
  kernelId?: string;
  /** The JupyterKernelSpec this kernel was launched from. */
  kernelSpec?: ObjectRef;
  /** The JupyterKernelTemplate whose pod template the kernel pod starts from (overrides the kernelspec's). */
  kernelTemplate?: ObjectRef;
  /** An inline pod template (as in the original operator); used over any referenced template. */
  template?: PodTemplate;
  /**
   * Kernel image; overrides the kernelspec's.
   * @maxLength 512
   * @pattern ^[^\s]+$
   */
  image?: string;
  /**
   * The kernel's language (KERNEL_LANGUAGE), e.g. `python`.
   * @maxLength 63
   */
  language?: string;
  /**
   * How the kernel is reached. `Gateway` (when unset): it sends its connection info to `responseAddress`. `Direct`: it listens on fixed ports (52700-52704) of its pod IP with the key held by the Secret `<name>-connection-<first 8 characters of this JupyterKernel's uid>` (key `key`, owned by this JupyterKernel); see docs/direct-mode.md.
   */
  connectionMode?: KernelConnectionMode;
  /**
   * Where the kernel sends its connection info: the gateway's response address, "host:port".
   * @maxLength 261
   * @pattern ^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):[0-9]{1,5}$
   */
  responseAddress?: string;
  /**
   * The gateway's RSA public key (PEM or base64) the kernel encrypts its connection info with.
   * @maxLength 8192
   */
  publicKey?: string;
  /**
   * Ports the kernel may listen on, "lo..hi" (e.g. "40000..41000"); "0..0" means any.
   * @maxLength 12
   * @pattern ^[0-9]{1,5}\.\.[0-9]{1,5}$
   * @validations [{rule: "!self.matches('^[0-9]{1,5}[.][.][0-9]{1,5}$') || (int(self.split('..')[0]) <= int(self.split('..')[1]) && int(self.split('..')[1]) <= 65535)", message: "portRange must be lo..hi with lo <= hi <= 65535"}]
   */
  portRange?: string;
  /**
   * The user the kernel runs for (KERNEL_USERNAME).
   * @maxLength 253
   */
  username?: string;
  /**
   * GPUs asked for at launch (KERNEL_GPUS); limited by the kernelspec's `gpu.max`. Unset: the kernelspec's `gpu.count`.
   * @asType integer
   * @minimum 0
   * @maximum 1048576
   */
  gpus?: number;
  /**
   * Environment for the kernel container: the KERNEL_* variables the gateway forwards from the client.
   * @coreType core/v1.EnvVar
   */
  env?: EnvList;
}

/** How a kernel is reached: through a gateway's callback, or directly by the notebook server. */
export type KernelConnectionMode = "Gateway" | "Direct";

/** Lifecycle phase of a kernel, as Enterprise Gateway's process proxy polls it. */
export type KernelPhase = "Pending" | "Running" | "Succeeded" | "Failed";

/** Observed state of a JupyterKernel. */
export interface JupyterKernelStatus extends CommonStatus {
  /** Pending until the pod runs, Running, then Succeeded or Failed when the pod is gone for good. */
  phase?: KernelPhase;
  /**
   * Why the kernel is in this phase, a CamelCase word (e.g. Unschedulable, GPULimitExceeded, PodFailed, PodDeleted).
   * @maxLength 1024
   * @pattern ^[A-Z][A-Za-z0-9]*$
   */
  reason?: string;
  /**
   * A human-readable explanation of the phase.
   * @maxLength 32768
   */
  message?: string;
  /** Name of the kernel's pod. */
  podName?: string;
  /** UID of the kernel's current pod; tells a recreated pod from the one before. */
  podUID?: string;
  /** The node the kernel's pod runs on. */
  nodeName?: string;
  /** IP address of the kernel's pod. */
  podIP?: string;
  /**
   * GPUs the pod holds, all kinds together: whole GPUs, MIG slices, shared GPUs, DRA GPU devices,
   * and KAI fractions of one (so it may be fractional); `gpuUsage` has them by kind.
   * @minimum 0
   */
  gpus?: number;
  /**
   * The pod's GPUs by kind, keyed as ResourceQuota keys them: an extended resource
   * (`nvidia.com/gpu`, `nvidia.com/mig-1g.10gb`, `nvidia.com/gpu.shared`...) or DRA devices of a
   * device class (`gpu.nvidia.com.deviceclass.resource.k8s.io/devices`). A KAI `gpu-fraction`
   * counts as that part of one `nvidia.com/gpu`. See docs/gpus.md.
   */
  gpuUsage?: { [resource: string]: number };
  /**
   * While the kernel waits for GPUs (reason `Queued`): its place in its namespace's GPU queue, 1 first.
   * @asType integer
   * @minimum 1
   */
  queuePosition?: number;
  /**
   * When the kernel's pod started.
   * @format date-time
   */
  startTime?: string;
  /**
   * How many times the kernel's pod was recreated.
   * @asType integer
   * @minimum 0
   */
  restarts?: number;
  /**
   * When the controller will recreate a lost pod (it backs off between recreations).
   * @format date-time
   */
  restartAt?: string;
}

/** A Jupyter kernel running as its own pod: created by the gateway, reconciled into a pod by the controller. */
export interface JupyterKernel {
  apiVersion: "kubeflow.tkestack.io/v1alpha1";
  kind: "JupyterKernel";
  metadata?: ObjectMeta;
  spec: JupyterKernelLaunch;
  status?: JupyterKernelStatus;
}

// What the kernel reconciler should do, decided from what it observed. Pure and level-triggered:
// the same observation always gives the same plan, whichever event woke the reconciler.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterKernelSpec, JupyterKernelStatus, JupyterKernelTemplate, JupyterNotebook } from "@elastic-jupyter/api";
import { DIRECT_REFUSED, directKernelProblem, unlabelledDirectKernelProblem } from "./direct.ts";
import { desiredKernelPod, type KernelPodOptions } from "./pod.ts";
import { failedStatus, isTerminal, pendingStatus, statusFromPod, wasReady } from "./status.ts";

/** A pod lost before its kernel was ever ready is recreated at most this many times. */
export const MAX_POD_RESTARTS = 5;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 60_000;

export interface KernelObservation {
  kernel: JupyterKernel;
  /** The pod named after the kernel, if the cache has one. */
  pod: Pod | undefined;
  /** Resolved references; `undefined` with the ref set means "not found". */
  kernelSpec: JupyterKernelSpec | undefined;
  kernelTemplate: JupyterKernelTemplate | undefined;
  now: Date;
  /** For a direct kernel (see direct.ts): the JupyterNotebook its label names, if it exists. */
  direct?: { notebook: JupyterNotebook | undefined };
}

export interface KernelPlan {
  createPod?: Pod;
  deletePod?: { name: string; uid: string };
  /** The status to write; omitted when it would not change. */
  status?: JupyterKernelStatus;
  requeueAfterMs?: number;
}

export function restartBackoffMs(restarts: number): number {
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.max(restarts - 1, 0), BACKOFF_MAX_MS);
}

function controlledBy(pod: Pod, kernel: JupyterKernel): boolean {
  return pod.metadata?.ownerReferences?.some((o) => o.controller && o.uid === kernel.metadata?.uid) === true;
}

export function planKernel(o: KernelObservation, opts: KernelPodOptions): KernelPlan {
  const { kernel, pod } = o;
  const now = o.now.toISOString();
  if (kernel.metadata?.deletionTimestamp) return {}; // garbage collection removes the pod
  // Terminal is final: the gateway has been told the kernel is gone, so it is never revived.
  if (isTerminal(kernel.status?.phase)) return {};
  if (o.direct) {
    // Checked before anything else: a notebook user holds the credentials that created it.
    const problem = directKernelProblem(kernel, o.direct.notebook);
    if (problem) return { status: failedStatus(kernel, DIRECT_REFUSED, problem, now) };
  } else {
    // Normally refused by the API server (files/policies/direct-kernels.yaml); this is the fallback.
    const problem = unlabelledDirectKernelProblem(kernel);
    if (problem) return { status: failedStatus(kernel, DIRECT_REFUSED, problem, now) };
  }

  const specRef = kernel.spec.kernelSpec;
  if (specRef && !o.kernelSpec) {
    return { status: failedStatus(kernel, "KernelSpecNotFound", `JupyterKernelSpec ${specRef.namespace ?? kernel.metadata?.namespace}/${specRef.name} does not exist`, now) };
  }
  const templateRef = kernel.spec.kernelTemplate ?? o.kernelSpec?.spec?.template;
  if (!kernel.spec.template && templateRef && !o.kernelTemplate) {
    return { status: failedStatus(kernel, "TemplateNotFound", `JupyterKernelTemplate ${templateRef.namespace ?? kernel.metadata?.namespace}/${templateRef.name} does not exist`, now) };
  }

  if (pod) {
    if (!controlledBy(pod, kernel)) {
      return {
        status: pendingStatus(kernel, "PodNameConflict", `a pod named ${pod.metadata?.name} exists and is not owned by this kernel`, now),
        requeueAfterMs: 10_000,
      };
    }
    const ready = wasReady(kernel);
    if (pod.metadata?.deletionTimestamp) {
      if (ready) return { status: failedStatus(kernel, "PodDeleted", "the kernel pod was deleted after the kernel started", now) };
      return { status: pendingStatus(kernel, "PodTerminating", "the kernel pod is being deleted and will be recreated", now) };
    }
    if (pod.status?.phase === "Failed" && pod.status.reason === "Evicted" && !ready) {
      // Evicted before the kernel ever started: nobody lost work, so try again elsewhere.
      return { deletePod: { name: pod.metadata!.name!, uid: pod.metadata!.uid! }, status: pendingStatus(kernel, "PodEvicted", pod.status.message ?? "the kernel pod was evicted", now) };
    }
    return { status: statusFromPod(kernel, pod, now, opts.claimTemplate) };
  }

  // No pod.
  const lostUid = kernel.status?.podUID;
  if (lostUid) {
    if (wasReady(kernel)) return { status: failedStatus(kernel, "PodDeleted", "the kernel pod disappeared after the kernel started", now) };
    const restarts = (kernel.status?.restarts ?? 0) + 1;
    if (restarts > MAX_POD_RESTARTS) {
      return { status: failedStatus(kernel, "RestartLimitExceeded", `the kernel pod was lost ${restarts - 1} times before it became ready`, now) };
    }
    const delay = restartBackoffMs(restarts);
    const restartAt = new Date(o.now.getTime() + delay).toISOString();
    return {
      status: pendingStatus(kernel, "PodLost", `the kernel pod was lost before it became ready; recreating (attempt ${restarts}) in ${delay / 1000} s`, now, { restarts, restartAt, podUID: undefined }),
      requeueAfterMs: delay,
    };
  }
  const restartAt = kernel.status?.restartAt ? Date.parse(kernel.status.restartAt) : 0;
  if (restartAt > o.now.getTime()) return { requeueAfterMs: restartAt - o.now.getTime() };

  const desired = desiredKernelPod(kernel, o.kernelSpec, o.kernelTemplate, opts);
  if ("error" in desired) return { status: failedStatus(kernel, desired.error.reason, desired.error.message, now) };
  return {
    createPod: desired.pod,
    status: pendingStatus(kernel, "PodCreating", "creating the kernel pod", now, { podName: desired.pod.metadata!.name!, gpus: desired.gpus, gpuUsage: desired.gpuUsage }),
  };
}

/** How often a kernel whose pod a ResourceQuota refused tries again (the quota may clear). */
export const QUOTA_RETRY_MS = 5_000;

/**
 * The API server refused the kernel pod: what the kernel's status says and whether to try again.
 * Every refusal is status at once, so the gateway can tell the notebook user: an exceeded
 * ResourceQuota is Pending (it clears when other pods end; the gateway's launch timeout bounds the
 * wait), anything else (an invalid pod, Pod Security, a LimitRange) is Failed with the API
 * server's words. Undefined: not a refusal (a lost connection, 5xx, throttling): retried quietly.
 */
export function planRefusedPod(kernel: JupyterKernel, refusal: { statusCode: number; message: string }, now: Date): KernelPlan | undefined {
  const { statusCode, message } = refusal;
  if (statusCode < 400 || statusCode >= 500 || statusCode === 404 || statusCode === 409 || statusCode === 429) return undefined;
  const at = now.toISOString();
  if (statusCode === 403 && /exceeded quota/.test(message)) {
    return { status: pendingStatus(kernel, "QuotaExceeded", message, at), requeueAfterMs: QUOTA_RETRY_MS };
  }
  const reason = statusCode === 403 ? (/PodSecurity/.test(message) ? "PodSecurityRefused" : "PodForbidden") : "PodInvalid";
  return { status: failedStatus(kernel, reason, `the API server refused the kernel pod: ${message}`, at) };
}

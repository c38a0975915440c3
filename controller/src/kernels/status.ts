// JupyterKernel status from its pod, and the decision of what to do next. Pure functions: the
// reconciler feeds them what the cache holds and applies what they return.
import type { Pod } from "kubernetes-types/core/v1.js";
import type { Condition } from "@elastic-jupyter/api";
import { setCondition, type ConditionStatus, type NewCondition } from "../runtime/apply.ts";
import type { JupyterKernel, JupyterKernelStatus } from "@elastic-jupyter/api";
import { podGpuUsage, totalGpus, type ClaimTemplateLookup } from "./gpus.ts";

export type KernelPhase = "Pending" | "Running" | "Succeeded" | "Failed";

export function isTerminal(phase: string | undefined): boolean {
  return phase === "Succeeded" || phase === "Failed";
}

/** True once the kernel's pod has been Ready: from then on a lost pod ends the kernel. */
export function wasReady(kernel: JupyterKernel): boolean {
  return kernel.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true
    || kernel.status?.phase === "Running";
}

/** The kernel's two conditions, set through the runtime's setCondition (which keeps
 *  lastTransitionTime while a condition's status does not change). */
function kernelConditions(kernel: JupyterKernel, scheduled: NewCondition, ready: NewCondition, now: string): Condition[] {
  const gen = kernel.metadata?.generation;
  const at = new Date(now);
  return setCondition(setCondition(kernel.status?.conditions, scheduled, gen, at), ready, gen, at);
}

/** Status for a kernel that failed before or without a pod (bad GPU request, missing kernelspec...). */
export function failedStatus(kernel: JupyterKernel, reason: string, message: string, now: string): JupyterKernelStatus {
  const gen = kernel.metadata?.generation;
  return {
    ...kernel.status,
    observedGeneration: gen,
    phase: "Failed", reason, message,
    conditions: kernelConditions(kernel, { type: "Scheduled", status: "False", reason, message }, { type: "Ready", status: "False", reason, message }, now),
  };
}

/** Status while no pod exists yet (first creation, or a recreation waiting out its backoff). */
export function pendingStatus(kernel: JupyterKernel, reason: string, message: string, now: string, extra: Partial<JupyterKernelStatus> = {}): JupyterKernelStatus {
  const gen = kernel.metadata?.generation;
  return {
    ...kernel.status,
    ...extra,
    observedGeneration: gen,
    phase: "Pending", reason, message,
    conditions: kernelConditions(kernel, { type: "Scheduled", status: "False", reason, message }, { type: "Ready", status: "False", reason, message }, now),
  };
}

/** The kernel's status as its pod shows it (`claimTemplate` resolves its DRA claims for the GPU count). */
export function statusFromPod(kernel: JupyterKernel, pod: Pod, now: string, claimTemplate?: ClaimTemplateLookup): JupyterKernelStatus {
  const gpuUsage = podGpuUsage(pod, claimTemplate);
  const gen = kernel.metadata?.generation;
  const podStatus = pod.status ?? {};
  const scheduled = podStatus.conditions?.find((c) => c.type === "PodScheduled");
  const ready = podStatus.conditions?.find((c) => c.type === "Ready");
  const base: JupyterKernelStatus = {
    ...kernel.status,
    observedGeneration: gen,
    podName: pod.metadata?.name,
    podUID: pod.metadata?.uid,
    gpus: totalGpus(gpuUsage),
    gpuUsage,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(podStatus.podIP ? { podIP: podStatus.podIP } : {}),
    ...(podStatus.startTime ? { startTime: podStatus.startTime } : {}),
  };
  let phase: KernelPhase, reason: string, message: string;
  let isScheduled: ConditionStatus = pod.spec?.nodeName ? "True" : "Unknown";
  let schedReason = "Scheduled", schedMessage = pod.spec?.nodeName ? `assigned to ${pod.spec.nodeName}` : "waiting for the scheduler";
  switch (podStatus.phase) {
    case "Succeeded":
      phase = "Succeeded"; reason = "KernelExited"; message = "the kernel process exited";
      break;
    case "Failed":
      phase = "Failed"; reason = podStatus.reason ?? "PodFailed";
      message = podStatus.message ?? terminatedMessage(pod) ?? "the kernel pod failed";
      break;
    case "Running":
      if (ready?.status === "True") { phase = "Running"; reason = "KernelRunning"; message = "the kernel pod is running and ready"; }
      else { phase = "Pending"; reason = "ContainersNotReady"; message = ready?.message ?? "the kernel container is not ready yet"; }
      break;
    default:
      phase = "Pending";
      if (scheduled?.status === "False") {
        isScheduled = "False";
        schedReason = scheduled.reason ?? "Unschedulable";
        schedMessage = scheduled.message ?? "the scheduler cannot place the kernel pod";
        reason = schedReason; message = schedMessage;
      } else {
        reason = pod.spec?.nodeName ? "ContainerCreating" : "Scheduling";
        message = waitingMessage(pod) ?? (pod.spec?.nodeName ? "starting the kernel container" : "waiting for the scheduler");
      }
  }
  return {
    ...base, phase, reason, message,
    conditions: kernelConditions(kernel,
      { type: "Scheduled", status: isScheduled, reason: schedReason, message: schedMessage },
      { type: "Ready", status: phase === "Running" ? "True" : "False", reason, message }, now),
  };
}

function terminatedMessage(pod: Pod): string | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const t = cs.state?.terminated;
    if (t) return `container ${cs.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ""}${t.message ? `: ${t.message}` : ""}`;
  }
  return undefined;
}

function waitingMessage(pod: Pod): string | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (w?.reason) return `container ${cs.name}: ${w.reason}${w.message ? `: ${w.message}` : ""}`;
  }
  return undefined;
}

/** Equal statuses (key order aside): lets the reconciler skip writes that change nothing. */
export function sameStatus(a: JupyterKernelStatus | undefined, b: JupyterKernelStatus): boolean {
  return canonical(a ?? {}) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => (val && typeof val === "object" && !Array.isArray(val)
    ? Object.fromEntries(Object.entries(val).filter(([, x]) => x !== undefined).sort(([x], [y]) => (x < y ? -1 : 1)))
    : val));
}

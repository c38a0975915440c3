// Orphaned kernels: JupyterKernels of this sidecar's gateway whose kernel the gateway does not know.
// Pure: the culler feeds it what the gateway listed and what the cache holds, and carries it out.
//
// A kernel can lose its gateway: the gateway restarted (Enterprise Gateway keeps its kernels in
// memory), the JupyterKernel was created by hand, or a launch crashed after creating it. Nobody
// will ever shut such a kernel down, and its pod keeps its GPUs. But a kernel the gateway is still
// launching is missing from its list too: EG (jupyter_client's AsyncMultiKernelManager) adds a
// kernel to the list only once its launch has finished, and a launch lasts up to the launch
// timeout (waiting for a GPU, pulling an image). So the rule is: a kernel is an orphan once it is
// older than the grace period and the sidecar has seen it missing for the whole grace period, and
// the grace period is never shorter than the longest launch (launchTimeout, which also caps a
// client's KERNEL_LAUNCH_TIMEOUT in our process proxy) plus a margin for clock skew and EG's poll
// interval. A launch that outlives its timeout is ended by EG itself, which deletes the kernel.
import type { JupyterGateway, JupyterKernel } from "@elastic-jupyter/api";
import { isTerminal } from "../kernels/status.ts";
import { kernelIdOf } from "../kernels/pod.ts";

/** Unset spec.orphanGracePeriod. */
export const DEFAULT_ORPHAN_GRACE_S = 300;
/** Enterprise Gateway's launch timeout when EG_KERNEL_LAUNCH_TIMEOUT is unset. */
export const EG_DEFAULT_LAUNCH_TIMEOUT_S = 30;
/** Added to the launch timeout: EG's 0.5 s poll, the kill after a timeout, clocks that disagree. */
export const LAUNCH_MARGIN_S = 30;

/** The longest launch the gateway allows (seconds): EG_KERNEL_LAUNCH_TIMEOUT as the operator sets
 *  it from spec.launchTimeout, unless spec.extraEnv replaces it (one not given as a plain number
 *  cannot be read here, so it counts as launchTimeout's maximum, 3600). */
export function gatewayLaunchTimeoutS(gw: JupyterGateway): number {
  const extra = gw.spec.extraEnv?.find((e) => e.name === "EG_KERNEL_LAUNCH_TIMEOUT");
  if (extra) {
    const v = Number(extra.value);
    return extra.valueFrom || !(v > 0) ? MAX_LAUNCH_TIMEOUT_S : v;
  }
  return gw.spec.launchTimeout ?? EG_DEFAULT_LAUNCH_TIMEOUT_S;
}
const MAX_LAUNCH_TIMEOUT_S = 3600;

/** The grace period this gateway's kernels get, in seconds; 0: orphans are never ended. */
export function orphanGraceS(gw: JupyterGateway): number {
  const asked = gw.spec.orphanGracePeriod ?? DEFAULT_ORPHAN_GRACE_S;
  if (asked <= 0) return 0;
  return Math.max(asked, gatewayLaunchTimeoutS(gw) + LAUNCH_MARGIN_S);
}

export interface OrphanObservation {
  /** This sidecar's gateway; see servedBy. */
  servedBy: (k: JupyterKernel) => boolean;
  /** JupyterKernels in the gateway's namespace. */
  kernels: readonly JupyterKernel[];
  /** Kernel ids the gateway listed; undefined when the list failed (then nothing is decided). */
  known: ReadonlySet<string> | undefined;
  /** JupyterKernel uid -> when the sidecar first saw its kernel missing (ms since the epoch). */
  absentSince: ReadonlyMap<string, number>;
  graceS: number;
  now: Date;
}

export interface Orphan {
  kernel: JupyterKernel;
  kernelId: string;
  /** Seconds the sidecar has seen it missing. */
  absentS: number;
  message: string;
}

export interface OrphanPlan {
  /** The next pass's absentSince: kernels missing now, keeping when each was first seen missing. */
  absentSince: Map<string, number>;
  orphans: Orphan[];
}

export function planOrphans(o: OrphanObservation): OrphanPlan {
  // No list, no decision: keep what was seen, add nothing (a failed pass is not evidence of absence).
  if (!o.known) return { absentSince: new Map(o.absentSince), orphans: [] };
  const now = o.now.getTime();
  const absentSince = new Map<string, number>();
  const orphans: Orphan[] = [];
  if (o.graceS <= 0) return { absentSince, orphans };
  for (const k of o.kernels) {
    const uid = k.metadata?.uid;
    const kernelId = kernelIdOf(k);
    // Ending or ended already, another gateway's, or without an id (the controller fails those).
    if (!uid || !kernelId || k.metadata?.deletionTimestamp || isTerminal(k.status?.phase) || !o.servedBy(k)) continue;
    if (o.known.has(kernelId)) continue;
    const since = o.absentSince.get(uid) ?? now;
    absentSince.set(uid, since);
    const created = Date.parse(k.metadata?.creationTimestamp ?? "");
    // An unreadable creation time counts as new: the first-seen rule alone then decides.
    const ageS = Number.isNaN(created) ? 0 : (now - created) / 1000;
    const absentS = (now - since) / 1000;
    if (absentS < o.graceS || ageS < o.graceS) continue;
    orphans.push({
      kernel: k, kernelId, absentS: Math.round(absentS),
      message: `the gateway has not known kernel ${kernelId} for ${Math.round(absentS)} s (orphanGracePeriod ${o.graceS} s): ended to free its resources and GPUs`,
    });
  }
  return { absentSince, orphans };
}

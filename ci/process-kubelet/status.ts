// The pod status the process kubelet reports, computed from what its processes are doing (pure).
// Phase follows the kubelet's rules: init containers pending -> Pending; a container never started
// -> Pending; any running -> Running; all stopped -> Succeeded/Failed unless the restart policy
// will start them again (then Running).
import type { ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from "kubernetes-types/core/v1.js";

export interface ContainerView {
  name: string;
  image: string;
  init: boolean;
  restartCount: number;
  state: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  started: boolean;
  containerID?: string;
}

export interface PodView {
  podIP?: string;
  hostIP: string;
  startTime: string;
  /** Set once the pod's sandbox (IP, volumes) exists. */
  sandboxReady: boolean;
  initDone: boolean;
  containers: ContainerView[];
  /** A pod-level failure (ImageNotMapped, VolumeNotSupported, ...): phase Failed. */
  failure?: { reason: string; message: string };
  /** A pod-level reason while not failed (e.g. FailedMount while Pending). */
  pending?: { reason: string; message: string };
  /** Being deleted or shut down: nothing restarts any more, so stopped containers are final. */
  stopping?: boolean;
}

export function podPhase(pod: Pod, view: PodView): NonNullable<PodStatus["phase"]> {
  if (view.failure) return "Failed";
  if (!view.initDone) return "Pending";
  const policy = view.stopping ? "Never" : (pod.spec?.restartPolicy ?? "Always");
  let waiting = 0, running = 0, stopped = 0, failed = 0, succeeded = 0;
  for (const c of view.containers.filter((x) => !x.init)) {
    if (c.state.running) running++;
    else if (c.state.terminated) { stopped++; if (c.state.terminated.exitCode === 0) succeeded++; else failed++; }
    else if (c.lastState?.terminated) { stopped++; if (c.lastState.terminated.exitCode === 0) succeeded++; else failed++; }
    else waiting++;
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped === 0) return "Pending";
  if (policy === "Always") return "Running";
  if (policy === "OnFailure" && failed > 0) return "Running";
  return failed > 0 ? "Failed" : "Succeeded";
}

function condition(type: string, ok: boolean, previous: PodCondition[] | undefined, now: string, reason?: string, message?: string): PodCondition {
  const status = ok ? "True" : "False";
  const prev = previous?.find((c) => c.type === type);
  const c: PodCondition = { type, status, lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

export function podStatus(pod: Pod, view: PodView, now: string): PodStatus {
  const prev = pod.status?.conditions;
  const phase = podPhase(pod, view);
  const mains = view.containers.filter((c) => !c.init);
  const inits = view.containers.filter((c) => c.init);
  const notReady = mains.filter((c) => !c.ready).map((c) => c.name);
  const containersReady = notReady.length === 0 && phase === "Running";
  const gates = (pod.spec?.readinessGates ?? []).filter((g) => prev?.find((c) => c.type === g.conditionType)?.status !== "True").map((g) => g.conditionType);
  const ready = containersReady && gates.length === 0;
  const notReadyMsg = notReady.length ? `containers with unready status: [${notReady.join(" ")}]` : undefined;
  const pendingInit = inits.filter((c) => c.state.terminated?.exitCode !== 0).map((c) => c.name);

  const conditions: PodCondition[] = [
    condition("PodReadyToStartContainers", view.sandboxReady, prev, now),
    condition("Initialized", view.initDone, prev, now, "ContainersNotInitialized", `containers with incomplete status: [${pendingInit.join(" ")}]`),
    condition("Ready", ready, prev, now, notReady.length ? "ContainersNotReady" : gates.length ? "ReadinessGatesNotReady" : "PodCompleted", notReadyMsg ?? (gates.length ? `the status of pod readiness gates is not "True", but False or absent: [${gates.join(" ")}]` : undefined)),
    condition("ContainersReady", containersReady, prev, now, notReady.length ? "ContainersNotReady" : "PodCompleted", notReadyMsg),
    condition("PodScheduled", true, prev, now),
  ];
  // Keep conditions other components own (readiness gates, DisruptionTarget, ...).
  for (const c of prev ?? []) if (!conditions.some((x) => x.type === c.type)) conditions.push(c);

  const toStatus = (c: ContainerView): ContainerStatus => {
    const s: ContainerStatus = {
      name: c.name, image: c.image, imageID: "", ready: c.ready, started: c.started,
      restartCount: c.restartCount, state: c.state, lastState: c.lastState ?? {},
    };
    if (c.containerID) s.containerID = c.containerID;
    return s;
  };
  const status: PodStatus = {
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    startTime: view.startTime,
    containerStatuses: mains.map(toStatus),
  };
  if (inits.length) status.initContainerStatuses = inits.map(toStatus);
  if (view.podIP) { status.podIP = view.podIP; status.podIPs = [{ ip: view.podIP }]; }
  const note = view.failure ?? view.pending;
  if (note) { status.reason = note.reason; status.message = note.message; }
  return status;
}

// Kubernetes Events about our objects (what `kubectl describe` and `kubectl events` show). Best
// effort, as client-go's recorder: an event that cannot be written is logged, never retried, and
// never fails the reconcile that made it.
import type { Event } from "kubernetes-types/core/v1.js";
import type { KubeClient, KubeObject } from "./client.ts";
import type { Logger } from "./log.ts";

export const EVENT_SOURCE = "elastic-jupyter";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(regarding: KubeObject, type: EventType, reason: string, message: string): void;
}

/** A core/v1 Event about an object, as `kubectl describe` lists them. */
export function eventAbout(regarding: KubeObject, type: EventType, reason: string, message: string, now = new Date()): Event & KubeObject {
  const m = regarding.metadata ?? {};
  const at = now.toISOString();
  return {
    apiVersion: "v1", kind: "Event",
    metadata: { generateName: `${m.name}.`, namespace: m.namespace! },
    involvedObject: { apiVersion: regarding.apiVersion!, kind: regarding.kind!, name: m.name!, namespace: m.namespace!, uid: m.uid! },
    type, reason, message: message.slice(0, 1024),
    source: { component: EVENT_SOURCE }, reportingComponent: EVENT_SOURCE, reportingInstance: EVENT_SOURCE,
    firstTimestamp: at, lastTimestamp: at, count: 1,
  };
}

export function eventRecorder(client: KubeClient, log: Logger): EventRecorder {
  return {
    record(regarding, type, reason, message) {
      client.create(eventAbout(regarding, type, reason, message)).catch((e: unknown) =>
        log.warn("could not write an event", { reason, object: `${regarding.metadata?.namespace}/${regarding.metadata?.name}`, err: (e as Error).message }));
    },
  };
}

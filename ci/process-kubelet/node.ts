// The Node object of the process kubelet and its heartbeats: a Lease in kube-node-lease renewed
// every few seconds and the Ready condition refreshed, so the node lifecycle controller keeps the
// node Ready. The node is not annotated for kwok, so kwok leaves it alone.
import type { Node, NodeCondition } from "kubernetes-types/core/v1.js";
import type { KubeClient } from "../../controller/src/runtime/client.ts";
import { isNotFound } from "../../controller/src/runtime/client.ts";

export const processKubeletLabel = "elastic-jupyter.dev/process-kubelet";
export const processKubeletTaint = { key: processKubeletLabel, value: "true", effect: "NoSchedule" as const };

export interface NodeOptions {
  name: string;
  labels: Record<string, string>;
  capacity: Record<string, string>;
  taint: boolean;
  kubeletVersion: string;
}

const nodeGvk = { apiVersion: "v1", kind: "Node" };

function conditions(ready: boolean, now: string, previous: NodeCondition[] | undefined, message: string): NodeCondition[] {
  const make = (type: string, status: "True" | "False", reason: string, msg: string): NodeCondition => {
    const prev = previous?.find((c) => c.type === type);
    return { type, status, reason, message: msg, lastHeartbeatTime: now, lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
  };
  return [
    make("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    make("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    make("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    make("Ready", ready ? "True" : "False", ready ? "KubeletReady" : "KubeletNotReady", message),
  ];
}

/** The Node as the process kubelet registers it (status included: nodes may be created with it). */
export function desiredNode(o: NodeOptions, now: string): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: o.name,
      labels: {
        "kubernetes.io/hostname": o.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
        [processKubeletLabel]: "true", ...o.labels,
      },
      annotations: { "node.alpha.kubernetes.io/ttl": "0" },
    },
    spec: o.taint ? { taints: [processKubeletTaint] } : {},
    status: {
      capacity: o.capacity,
      allocatable: o.capacity,
      conditions: conditions(true, now, undefined, "process kubelet is posting ready status"),
      addresses: [{ type: "InternalIP", address: "127.0.0.1" }, { type: "Hostname", address: o.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: "", systemUUID: "", bootID: "", kernelVersion: "", osImage: "process-kubelet (local processes)",
        containerRuntimeVersion: "process://0.1", kubeletVersion: o.kubeletVersion, kubeProxyVersion: "", operatingSystem: "linux", architecture: "amd64",
      },
    },
  };
}

/** Microsecond RFC 3339 time, the MicroTime format Leases use. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class NodeHeartbeat {
  private readonly client: KubeClient;
  private readonly o: NodeOptions;
  private readonly periodMs: number;
  private timer: NodeJS.Timeout | undefined;
  private uid = "";
  private readonly onError: (what: string, err: unknown) => void;

  constructor(client: KubeClient, o: NodeOptions, periodMs: number, onError: (what: string, err: unknown) => void) {
    this.client = client;
    this.o = o;
    this.periodMs = periodMs;
    this.onError = onError;
  }

  /** Creates the node, or brings an existing one (an earlier run) to our labels, taint and capacity. */
  async register(): Promise<void> {
    const now = new Date().toISOString();
    const want = desiredNode(this.o, now);
    let node: Node;
    const existing = await this.client.get<Node>(nodeGvk, undefined, this.o.name);
    if (!existing) {
      node = await this.client.create(want);
    } else {
      if (existing.metadata?.annotations?.["kwok.x-k8s.io/node"]) throw new Error(`node ${this.o.name} exists and is a kwok node; pick another --node-name`);
      node = await this.client.request<Node>("PATCH", `/api/v1/nodes/${encodeURIComponent(this.o.name)}`, {
        contentType: "application/merge-patch+json",
        body: { metadata: { labels: want.metadata!.labels }, spec: { taints: this.o.taint ? [processKubeletTaint] : null, unschedulable: null } },
      });
    }
    this.uid = node.metadata?.uid ?? "";
    await this.postStatus(true, "process kubelet is posting ready status");
    await this.renewLease();
  }

  start(): void {
    this.timer = setInterval(() => {
      this.renewLease().catch((e) => this.onError("renew lease", e));
      this.postStatus(true, "process kubelet is posting ready status").catch((e) => this.onError("post node status", e));
    }, this.periodMs);
  }

  /** Stops the heartbeats and reports the node NotReady (the kubelet is gone). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.postStatus(false, "process kubelet stopped").catch((e) => this.onError("post node status", e));
  }

  async postStatus(ready: boolean, message: string): Promise<void> {
    const now = new Date().toISOString();
    const current = await this.client.get<Node>(nodeGvk, undefined, this.o.name);
    await this.client.request("PATCH", `/api/v1/nodes/${encodeURIComponent(this.o.name)}/status`, {
      contentType: "application/merge-patch+json",
      body: { status: { capacity: this.o.capacity, allocatable: this.o.capacity, conditions: conditions(ready, now, current?.status?.conditions, message) } },
    });
  }

  async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(this.o.name)}`;
    const spec = { holderIdentity: this.o.name, leaseDurationSeconds: 40, renewTime: microTime(new Date()) };
    try {
      await this.client.request("PATCH", path, { contentType: "application/merge-patch+json", body: { spec } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.client.create({
        apiVersion: "coordination.k8s.io/v1", kind: "Lease",
        metadata: { name: this.o.name, namespace: "kube-node-lease", ownerReferences: [{ apiVersion: "v1", kind: "Node", name: this.o.name, uid: this.uid }] },
        spec,
      } as never);
    }
  }
}

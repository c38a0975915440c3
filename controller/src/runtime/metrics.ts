// Prometheus metrics, in a registry per manager (so two managers in one process, as in tests,
// do not collide). Names follow controller-runtime's, under our own prefix.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface QueueLike { readonly length: number; readonly inFlight: number; readonly delayedCount: number }

export class Metrics {
  readonly registry = new Registry();
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly reconcileDuration: Histogram<"controller">;
  readonly watchRestarts: Counter<"kind" | "reason">;
  readonly leader: Gauge;
  /** Set by the kernel controller: kernels per status.phase. */
  readonly kernelsByPhase: Gauge<"phase">;
  /** Set by the kernel controller: GPUs asked for by live kernel pods / held by pods on nodes, by
   *  namespace, kernelspec and resource (the GPU kind, keyed as ResourceQuota keys it). */
  readonly gpusRequested: Gauge<"namespace" | "kernelspec" | "resource">;
  readonly gpusBound: Gauge<"namespace" | "kernelspec" | "resource">;
  /** Set by the culler: kernels it ended, by kernelspec and reason (idle, orphaned). */
  readonly kernelsCulled: Counter<"kernelspec" | "reason">;
  /** Culling passes that could not list the gateway's kernels, by reason (the Culling condition's). */
  readonly cullingFailures: Counter<"reason">;
  /** GPUs held by kernels the gateway reports idle, as of the last culling pass. */
  readonly idleGpus: Gauge<"namespace" | "kernelspec">;
  /** GPU-seconds held by idle kernels, integrated between culling passes. */
  readonly idleGpuSeconds: Counter<"namespace" | "kernelspec">;
  /** Requests this process sent to the API server (client-go's rest_client_requests_total). */
  readonly apiRequests: Counter<"verb" | "resource" | "code">;
  /** Set by the kernel controller: how long kernels waited for their GPUs, and how many wait now. */
  readonly gpuQueueWait: Histogram<"queued">;
  readonly gpuQueueLength: Gauge;
  private readonly queues = new Map<string, QueueLike>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const queues = this.queues;
    this.reconcileTotal = new Counter({ name: "elastic_jupyter_reconcile_total", help: "Reconciles by controller and result (success, requeue_after, error).", labelNames: ["controller", "result"], registers });
    this.reconcileErrors = new Counter({ name: "elastic_jupyter_reconcile_errors_total", help: "Reconciles that failed, by controller.", labelNames: ["controller"], registers });
    this.reconcileDuration = new Histogram({
      name: "elastic_jupyter_reconcile_duration_seconds", help: "Time per reconcile, by controller.", labelNames: ["controller"], registers,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    new Gauge({
      name: "elastic_jupyter_workqueue_depth", help: "Keys waiting in a controller's queue (not delayed, not in flight).", labelNames: ["controller"], registers,
      collect() { for (const [name, q] of queues) this.set({ controller: name }, q.length); },
    });
    new Gauge({
      name: "elastic_jupyter_workqueue_in_flight", help: "Keys being reconciled now, by controller.", labelNames: ["controller"], registers,
      collect() { for (const [name, q] of queues) this.set({ controller: name }, q.inFlight); },
    });
    new Gauge({
      name: "elastic_jupyter_workqueue_delayed", help: "Keys waiting for a backoff or requeue-after delay, by controller.", labelNames: ["controller"], registers,
      collect() { for (const [name, q] of queues) this.set({ controller: name }, q.delayedCount); },
    });
    this.watchRestarts = new Counter({ name: "elastic_jupyter_watch_restarts_total", help: "Watches re-established after a failure, by kind and reason (error, stall, gone).", labelNames: ["kind", "reason"], registers });
    this.leader = new Gauge({ name: "elastic_jupyter_leader", help: "1 while this replica holds the leader lease (or runs without leader election).", registers });
    this.kernelsByPhase = new Gauge({ name: "elastic_jupyter_kernels", help: "JupyterKernels by status.phase.", labelNames: ["phase"], registers });
    const gpuLabels = ["namespace", "kernelspec", "resource"] as const;
    this.gpusRequested = new Gauge({ name: "elastic_jupyter_gpus_requested", help: "GPUs requested by live kernel pods, by namespace, kernelspec and resource (nvidia.com/gpu, a MIG profile, <class>.deviceclass.resource.k8s.io/devices...; KAI fractions count as parts of nvidia.com/gpu).", labelNames: gpuLabels, registers });
    this.gpusBound = new Gauge({ name: "elastic_jupyter_gpus_bound", help: "GPUs held by kernel pods bound to a node, by namespace, kernelspec and resource.", labelNames: gpuLabels, registers });
    this.kernelsCulled = new Counter({ name: "elastic_jupyter_kernels_culled_total", help: "Kernels the sidecar ended, by kernelspec and reason: idle (shut down through the gateway after the kernelspec's cullIdleTimeout) or orphaned (unknown to the gateway for its orphanGracePeriod).", labelNames: ["kernelspec", "reason"], registers });
    this.cullingFailures = new Counter({ name: "elastic_jupyter_culling_failures_total", help: "Culling passes that could not list the gateway's kernels, by reason (GatewayUnreachable, GatewayUnauthorized, GatewayError, GatewayBadResponse).", labelNames: ["reason"], registers });
    this.idleGpus = new Gauge({ name: "elastic_jupyter_gpus_idle", help: "GPUs held by kernels the gateway reports idle (execution_state idle), by namespace and kernelspec, as of the last culling pass.", labelNames: ["namespace", "kernelspec"], registers });
    this.idleGpuSeconds = new Counter({ name: "elastic_jupyter_idle_gpu_seconds_total", help: "GPU-seconds held by kernels the gateway reports idle, by namespace and kernelspec (each pass adds the previous pass's idle GPUs times the time between them).", labelNames: ["namespace", "kernelspec"], registers });
    this.apiRequests = new Counter({ name: "elastic_jupyter_api_requests_total", help: "Requests to the API server by verb, resource (with subresource) and HTTP code (0: no answer).", labelNames: ["verb", "resource", "code"], registers });
    this.gpuQueueWait = new Histogram({
      name: "elastic_jupyter_gpu_queue_wait_seconds", help: "Seconds from a GPU kernel's creation to its admission under a gpuPolicy; queued=true if it waited in the queue.", labelNames: ["queued"], registers,
      buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
    });
    this.gpuQueueLength = new Gauge({ name: "elastic_jupyter_gpu_queue_length", help: "Kernels waiting in the GPU queue.", registers });
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Reports a controller's queue in the workqueue gauges (read at scrape time). */
  trackQueue(controller: string, queue: QueueLike): void { this.queues.set(controller, queue); }
}

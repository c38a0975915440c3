// The process kubelet: a TEST kubelet for one node that runs that node's pods as local processes,
// so the end-to-end tests can run the real Enterprise Gateway, our sidecar controller, real
// ipykernels and a real Jupyter server as pods of a real (local) control plane.
//
//   npx node ci/process-kubelet/main.ts --kubeconfig K --node-name N --image-map M [flags]
//   (--help lists the flags; SIGTERM/SIGINT stop every pod process and exit)
//
// What is real: the Node object, its Lease and Ready heartbeats (the node lifecycle controller
// treats it like any node); the scheduler placing pods on it (only pods tolerating the taint
// elastic-jupyter.dev/process-kubelet=true:NoSchedule); the pod's command, args, env (downward
// API, ConfigMap/Secret refs, envFrom, $(VAR) expansion) exactly as Kubernetes resolves them;
// ConfigMap, Secret, downwardAPI, projected and emptyDir volumes written like the kubelet's
// atomic writer (live updates via the ..data symlink swap) and bind-mounted at their mountPaths
// in a private mount namespace per container; service-account tokens issued by the TokenRequest
// API, bound to the pod, refreshed at 80 % of their lifetime, so in-cluster config works
// unchanged; probes (httpGet, tcpSocket, exec) against the pod IP; restart policies with backoff;
// graceful deletion (SIGTERM, SIGKILL after the grace period, then delete with grace 0).
//
// What is simulated: there are no images and no container runtime. An "image map" (--image-map)
// says which local program stands for an image (a Python image -> a venv on PATH; the Enterprise
// Gateway image -> a defaultCommand in place of its entrypoint); unmapped images fail the pod
// with reason ImageNotMapped. Processes run as root on this machine's filesystem (no chroot, no
// runAsUser, no resource limits; HOME is a directory per container under --state-dir) and share
// its network namespace; each pod gets its own loopback
// address 127.0.0.N as pod IP, and a preloaded library (pod-loopback.c; --pod-loopback) rewrites
// bind/connect so 0.0.0.0 and 127.0.0.1 mean that IP, as in a pod's own network namespace
// (static binaries such as Go programs bypass it and must bind their POD_IP themselves); /etc/hosts
// maps the pod's hostname to it. There is no cluster DNS, no Service
// routing and no service env vars beyond KUBERNETES_SERVICE_HOST/PORT (which point at the real
// API server on 127.0.0.1). `kubectl logs`/`exec` do not work: each container's output goes to a
// file under --state-dir, whose directory is in the pod annotation
// process-kubelet.elastic-jupyter.dev/log-dir. PID and network namespaces, preStop hooks,
// ephemeral containers, grpc probes, persistent volumes are not provided.
import { createLogger } from "../../controller/src/runtime/log.ts";
import { KubeClient } from "../../controller/src/runtime/client.ts";
import { parseFlags } from "./flags.ts";
import { loadImageMap } from "./image-map.ts";
import { defaultRegistryDir, ProcessKubelet } from "./kubelet.ts";

async function main(): Promise<void> {
  let flags;
  let imageMap;
  try {
    flags = parseFlags(process.argv.slice(2));
    imageMap = loadImageMap(flags.imageMap);
  } catch (err) {
    process.stderr.write(`process-kubelet: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(flags.logLevel, { node: flags.nodeName });
  const kubelet = new ProcessKubelet(KubeClient.fromConfig(flags.kubeconfig), {
    nodeName: flags.nodeName, labels: flags.labels, capacity: flags.capacity, taint: flags.taint,
    imageMap, imageMapSource: `--image-map ${flags.imageMap}`, stateDir: flags.stateDir,
    heartbeatMs: flags.heartbeatSeconds * 1000, shutdownGraceSeconds: flags.shutdownGraceSeconds,
    backoff: { baseMs: flags.backoffBaseSeconds * 1000, maxMs: flags.backoffMaxSeconds * 1000 },
    kubeletVersion: "v1.35.4-process-kubelet", podLoopback: flags.podLoopback,
    registryDir: defaultRegistryDir,
  }, log);

  let stopping: Promise<void> | undefined;
  const stop = (signal: string): void => {
    if (stopping) return;
    log.info("stopping", { signal });
    stopping = kubelet.stop().then(() => process.exit(0), (err) => { log.error("stop failed", { err }); process.exit(1); });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    await kubelet.start();
  } catch (err) {
    log.error("start failed", { err });
    await kubelet.stop().catch(() => {});
    process.exit(1);
  }
}

await main();

// Test support for the operator's integration tests: runs the operator as a real process
// (`node controller/dist/main.js --role operator`) scoped to one namespace, and reads conditions.
import { KubeConfig } from "@kubernetes/client-node";
import { getJson, kubectl, kubectlOk, tempFile, testCluster, waitFor } from "../../../ci/test/cluster.ts";
import { startController, type ControllerProcess } from "../testing/controller-process.ts";
import { installCrds } from "../testing/crds.ts";

export async function startOperator(namespace: string, opts: { kubeconfig?: string; leaderElect?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<ControllerProcess> {
  await installCrds();
  const proc = startController([
    "--role", "operator", "--kubeconfig", opts.kubeconfig ?? testCluster.kubeconfig, "--namespace", namespace,
    `--leader-elect=${opts.leaderElect ?? false}`, "--metrics-addr", "127.0.0.1:0", "--log-level", "debug",
  ], opts.env ?? {});
  await waitFor("the operator to start its controllers", async () => {
    if (proc.child.exitCode !== null) throw new Error(`operator exited with ${proc.child.exitCode}; log: ${proc.logFile}`);
    return proc.lines.some((l) => l.msg === "running");
  }, 30_000);
  return proc;
}

export interface Cond { type: string; status: string; reason: string; message: string; observedGeneration?: number }

export async function readyOf(resource: string, namespace: string, name: string): Promise<Cond | undefined> {
  const r = await kubectl(["get", resource, name, "-n", namespace, "-o", "json"]);
  if (r.code !== 0) return undefined;
  const obj = JSON.parse(r.stdout);
  return (obj.status?.conditions ?? []).find((c: Cond) => c.type === "Ready");
}

/** Waits until Ready has this status (and reason, if given) for the object's current generation. */
export async function waitForReady(resource: string, namespace: string, name: string, status: "True" | "False", reason?: string, timeoutMs = 30_000): Promise<Cond> {
  return waitFor(`${resource} ${namespace}/${name} Ready=${status}${reason ? ` (${reason})` : ""}`, async () => {
    const obj = await getJson(["get", resource, name, "-n", namespace]);
    const c = (obj.status?.conditions ?? []).find((x: Cond) => x.type === "Ready") as Cond | undefined;
    if (!c || c.status !== status || (reason && c.reason !== reason)) return undefined;
    if (c.observedGeneration !== obj.metadata.generation) return undefined;
    return c;
  }, timeoutMs);
}

/** UIDs of the pods with these labels. */
export async function podUids(namespace: string, selector: string): Promise<string[]> {
  const pods = await getJson<{ items: Array<{ metadata: { uid: string } }> }>(["get", "pods", "-n", namespace, "-l", selector]);
  return pods.items.map((p) => p.metadata.uid).sort();
}

/** A kubeconfig file for a ServiceAccount (a real token from the TokenRequest API). */
export async function serviceAccountKubeconfig(namespace: string, serviceAccount: string): Promise<string> {
  const token = (await kubectlOk(["create", "token", serviceAccount, "-n", namespace, "--duration=30m"])).trim();
  const admin = new KubeConfig();
  admin.loadFromFile(testCluster.kubeconfig);
  const cluster = admin.getCurrentCluster()!;
  return tempFile(`${serviceAccount}.kubeconfig`, JSON.stringify({
    apiVersion: "v1", kind: "Config", "current-context": "sa",
    clusters: [{ name: "c", cluster: { server: cluster.server, "certificate-authority": cluster.caFile } }],
    users: [{ name: serviceAccount, user: { token } }],
    contexts: [{ name: "sa", context: { cluster: "c", user: serviceAccount, namespace } }],
  }));
}

/** The sidecar role as a real process, with the gateway's own ServiceAccount (so its Role is what it gets). */
export async function startSidecar(namespace: string, gateway: string, kernelsDir: string, serviceAccount = gateway): Promise<ControllerProcess> {
  const kubeconfig = await serviceAccountKubeconfig(namespace, serviceAccount);
  const proc = startController(["--role", "sidecar", "--kubeconfig", kubeconfig, "--namespace", namespace, "--gateway", gateway, "--kernels-dir", kernelsDir, "--metrics-addr", "127.0.0.1:0"]);
  await waitFor("the sidecar to start", async () => {
    if (proc.child.exitCode !== null) throw new Error(`sidecar exited with ${proc.child.exitCode}; log: ${proc.logFile}`);
    return proc.lines.some((l) => l.msg === "running");
  }, 30_000);
  return proc;
}

// The process kubelet against the real local control plane: pods scheduled onto its node run as
// real processes on their own loopback IP, with real volumes, env, tokens, probes and lifecycle.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freshNamespace, getJson, kubectl, kubectlOk, testCluster, waitFor } from "../test/cluster.ts";
import { startProcessKubelet, type ProcessKubeletHandle, type ProcessKubeletOptions } from "./harness.ts";
import { defaultRegistryDir } from "./kubelet.ts";
import { logDirAnnotation } from "./pod-worker.ts";

const nodeName = `process-node-${Math.random().toString(36).slice(2, 7)}`;

function which(cmd: string): string {
  for (const d of (process.env.PATH ?? "").split(":")) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  throw new Error(`${cmd} not on PATH`);
}

/** Pids whose argv is exactly argv (read from /proc, so it also sees processes we did not start). */
function pidsWithArgv(argv: string[]): number[] {
  const want = argv.join("\0") + "\0";
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try { if (readFileSync(`/proc/${e}/cmdline`, "utf8") === want) out.push(Number(e)); } catch { /* exited */ }
  }
  return out;
}

/** Mount entries, in any process's mount namespace, whose source or target mentions `text`. */
function mountsMentioning(text: string): string[] {
  const found = new Set<string>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try { for (const l of readFileSync(`/proc/${e}/mountinfo`, "utf8").split("\n")) if (l.includes(text)) found.add(l); } catch { /* exited */ }
  }
  return [...found];
}

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text() };
}

const onProcessNode = {
  nodeSelector: { "kubernetes.io/hostname": nodeName },
  tolerations: [{ key: "elastic-jupyter.dev/process-kubelet", operator: "Exists", effect: "NoSchedule" }],
};

describe("process kubelet", function () {
  this.timeout(90_000);
  let ns: string;
  let kubelet: ProcessKubeletHandle;
  let kubeletOptions: ProcessKubeletOptions;
  let stateDir: string;
  const secretsDirExisted = existsSync("/var/run/secrets");

  const apply = (obj: unknown): Promise<string> => kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify(obj));
  const pod = (name: string): Promise<any> => getJson(["get", "pod", "-n", ns, name]);
  const waitPod = (name: string, what: string, pred: (p: any) => boolean, ms = 30_000): Promise<any> =>
    waitFor(`pod ${name} ${what}`, async () => { const p = await pod(name); return pred(p) ? p : undefined; }, ms);
  const logOf = (p: any, container: string, restart = 0): string =>
    readFileSync(join(p.metadata.annotations[logDirAnnotation], container, `${restart}.log`), "utf8");

  before(async () => {
    ns = await freshNamespace("pk");
    stateDir = mkdtempSync(join(tmpdir(), "process-kubelet-test-"));
    const python = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim();
    kubeletOptions = {
      kubeconfig: testCluster.kubeconfig, nodeName, stateDir,
      imageMap: [
        { match: "*python", env: { PATH: `${dirname(python)}:$(PATH)` }, defaultCommand: ["python3"] },
        { match: "busybox", defaultCommand: ["sh"] },
        // HOME without a kubeconfig: kubectl must fall back to in-cluster config.
        { match: "*/kubectl", env: { PATH: `${dirname(which("kubectl"))}:$(PATH)`, HOME: "/nonexistent" } },
      ],
      args: ["--gpus", "2", "--heartbeat-interval", "2", "--backoff-base", "0.5", "--backoff-max", "2", "--shutdown-grace", "5", "--log-level", "debug"],
    };
    kubelet = await startProcessKubelet(kubeletOptions);
  });

  after(async () => {
    await kubelet?.stop();
    await kubectl(["delete", "node", nodeName, "--wait=false"]);
    if (ns) await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("registers a Ready node with its label, taint and capacity, and keeps renewing its Lease", async () => {
    const node = await getJson(["get", "node", nodeName]);
    expect(node.metadata.labels["elastic-jupyter.dev/process-kubelet"]).to.equal("true");
    expect(node.metadata.annotations?.["kwok.x-k8s.io/node"]).to.equal(undefined);
    expect(node.spec.taints).to.deep.include({ key: "elastic-jupyter.dev/process-kubelet", value: "true", effect: "NoSchedule" });
    expect(node.status.capacity).to.include({ cpu: "8", memory: "32Gi", pods: "110", "nvidia.com/gpu": "2" });
    expect(node.status.allocatable["nvidia.com/gpu"]).to.equal("2");
    const first = (await getJson(["get", "lease", "-n", "kube-node-lease", nodeName])).spec.renewTime;
    const renewed = await waitFor("lease renewal", async () => {
      const t = (await getJson(["get", "lease", "-n", "kube-node-lease", nodeName])).spec.renewTime;
      return t !== first ? t : undefined;
    }, 10_000);
    expect(Date.parse(renewed)).to.be.greaterThan(Date.parse(first));
  });

  // The web server pod: these three run in order and share its IP.
  let ip: string;
  let uid: string;

    it("runs with ConfigMap, Secret and emptyDir volumes, downward-API env, its own pod IP and httpGet readiness", async () => {
      await apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web" }, data: { "index.html": "hello v1\n", greeting: "hi" } });
      await apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "web" }, stringData: { password: "s3cret" } });
      await apply({
        apiVersion: "v1", kind: "Pod", metadata: { name: "web", labels: { app: "web" } },
        spec: {
          ...onProcessNode,
          initContainers: [{
            name: "init", image: "busybox",
            command: ["sh", "-c", `env | sort > /data/env.txt && echo "$(POD_IP)" '$$(NOT_EXPANDED)' > /data/args.txt`],
            env: [
              { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
              { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
              { name: "POD_UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
              { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
              { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
              { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
              { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
              { name: "FROM_CM", valueFrom: { configMapKeyRef: { name: "web", key: "greeting" } } },
              { name: "FROM_SECRET", valueFrom: { secretKeyRef: { name: "web", key: "password" } } },
              { name: "COMPOSED", value: "$(POD_NAME).$(POD_NAMESPACE)" },
            ],
            envFrom: [{ configMapRef: { name: "web" }, prefix: "CM_" }],
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          }],
          containers: [{
            name: "server", image: "docker.io/library/python:3.12-slim",
            command: ["python3", "-m", "http.server", "--bind", "$(POD_IP)", "8080", "--directory", "/srv/process-kubelet-test"],
            env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }],
            ports: [{ name: "http", containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/www/index.html", port: "http" }, periodSeconds: 1 },
            volumeMounts: [
              { name: "www", mountPath: "/srv/process-kubelet-test/www" },
              { name: "data", mountPath: "/srv/process-kubelet-test/data" },
              // Nested in the emptyDir: its mount point must be made inside that volume.
              { name: "secret", mountPath: "/srv/process-kubelet-test/data/secret" },
            ],
          }],
          volumes: [
            { name: "www", configMap: { name: "web" } },
            { name: "secret", secret: { secretName: "web" } },
            { name: "data", emptyDir: {} },
          ],
        },
      });
      const p = await waitPod("web", "Ready", (x) => x.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
      ip = p.status.podIP;
      uid = p.metadata.uid;
      expect(p.spec.nodeName).to.equal(nodeName);
      expect(p.status.phase).to.equal("Running");
      expect(ip).to.match(/^127\.0\.\d+\.\d+$/);
      expect(Number(ip.split(".")[3])).to.be.at.least(10);
      expect(p.status.podIPs).to.deep.equal([{ ip }]);
      expect(p.status.hostIP).to.equal("127.0.0.1");
      const types = Object.fromEntries(p.status.conditions.map((c: any) => [c.type, c.status]));
      expect(types).to.include({ PodScheduled: "True", Initialized: "True", ContainersReady: "True", Ready: "True" });
      expect(p.status.initContainerStatuses[0].state.terminated).to.include({ exitCode: 0, reason: "Completed" });
      const server = p.status.containerStatuses[0];
      expect(server).to.include({ name: "server", ready: true, restartCount: 0 });
      expect(server.state.running.startedAt).to.be.a("string");

      expect(await httpGet(`http://${ip}:8080/www/index.html`)).to.deep.equal({ status: 200, body: "hello v1\n" });
      expect((await httpGet(`http://${ip}:8080/data/secret/password`)).body).to.equal("s3cret");
      expect((await httpGet(`http://${ip}:8080/data/args.txt`)).body).to.equal(`${ip} $(NOT_EXPANDED)\n`);
      const env = Object.fromEntries((await httpGet(`http://${ip}:8080/data/env.txt`)).body.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
      expect(env).to.include({
        POD_IP: ip, POD_NAME: "web", POD_NAMESPACE: ns, POD_UID: uid, NODE: nodeName, SA: "default", APP: "web",
        HOST_IP: "127.0.0.1", FROM_CM: "hi", FROM_SECRET: "s3cret", COMPOSED: `web.${ns}`, CM_greeting: "hi",
        KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: new URL(JSON.parse(await kubectlOk(["config", "view", "--minify", "-o", "json"])).clusters[0].cluster.server).port,
        HOSTNAME: "web",
      });
      expect(env.HOME).to.match(/\/home\/init$/); // a home per container, not the machine's
    });

    it("shows a ConfigMap update in the mounted file", async () => {
      await kubectlOk(["patch", "configmap", "-n", ns, "web", "--type", "merge", "-p", JSON.stringify({ data: { "index.html": "hello v2\n" } })]);
      const body = await waitFor("updated file served", async () => {
        const r = await httpGet(`http://${ip}:8080/www/index.html`);
        return r.body === "hello v2\n" ? r.body : undefined;
      }, 15_000);
      expect(body).to.equal("hello v2\n");
    });

    it("stops the process and deletes the pod object when the pod is deleted", async () => {
      const t0 = Date.now();
      await kubectlOk(["delete", "pod", "-n", ns, "web", "--wait=false"]);
      await waitFor("pod object gone", async () => (await kubectl(["get", "pod", "-n", ns, "web"])).code !== 0, 15_000);
      expect(Date.now() - t0).to.be.below(10_000); // http.server exits on SIGTERM: no grace-period wait
      let refused = false;
      try { await httpGet(`http://${ip}:8080/www/index.html`); } catch { refused = true; }
      expect(refused, "server still answering after deletion").to.equal(true);
    });

  it("gives pods in-cluster API access as their own service account (python client and kubectl without kubeconfig)", async () => {
    await apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "reader" } });
    await apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "pod-reader" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }] });
    await apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "reader" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" }, subjects: [{ kind: "ServiceAccount", name: "reader", namespace: ns }] });
    const script = [
      "import json, os, ssl, urllib.request, urllib.error",
      "sa = '/var/run/secrets/kubernetes.io/serviceaccount'",
      "token = open(sa + '/token').read()",
      "ctx = ssl.create_default_context(cafile=sa + '/ca.crt')",
      "base = 'https://%s:%s' % (os.environ['KUBERNETES_SERVICE_HOST'], os.environ['KUBERNETES_SERVICE_PORT'])",
      "ns = open(sa + '/namespace').read()",
      "def call(path, body=None):",
      "    req = urllib.request.Request(base + path, data=body and json.dumps(body).encode(), method='POST' if body else 'GET', headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})",
      "    try:",
      "        with urllib.request.urlopen(req, context=ctx) as r: return r.status, json.load(r)",
      "    except urllib.error.HTTPError as e: return e.code, None",
      "print('user', call('/apis/authentication.k8s.io/v1/selfsubjectreviews', {'apiVersion': 'authentication.k8s.io/v1', 'kind': 'SelfSubjectReview'})[1]['status']['userInfo']['username'])",
      "print('pods', call('/api/v1/namespaces/%s/pods' % ns)[0])",
      "print('secrets', call('/api/v1/namespaces/%s/secrets' % ns)[0])",
    ].join("\n");
    await apply({
      apiVersion: "v1", kind: "Pod", metadata: { name: "in-cluster" },
      spec: {
        ...onProcessNode, restartPolicy: "Never", serviceAccountName: "reader",
        containers: [
          { name: "python", image: "python:3.12", command: ["python3", "-c", script] },
          { name: "kubectl", image: "registry.k8s.io/kubectl:v1.35.4", command: ["kubectl", "get", "pod", "in-cluster", "-o", "name"] },
        ],
      },
    });
    const p = await waitPod("in-cluster", "Succeeded", (x) => ["Succeeded", "Failed"].includes(x.status?.phase));
    const py = logOf(p, "python");
    expect(p.status.phase, `python said: ${py}\nkubectl said: ${logOf(p, "kubectl")}`).to.equal("Succeeded");
    expect(py).to.contain(`user system:serviceaccount:${ns}:reader`);
    expect(py).to.contain("pods 200");
    expect(py).to.contain("secrets 403");
    expect(logOf(p, "kubectl").trim()).to.equal("pod/in-cluster");
  });

  it("honours the grace period: a process ignoring SIGTERM is killed after it, with the children that left its group", async () => {
    const [a, b] = [90_000 + Math.floor(Math.random() * 9000), 100_000 + Math.floor(Math.random() * 9000)];
    await apply({
      apiVersion: "v1", kind: "Pod", metadata: { name: "stubborn" },
      spec: {
        ...onProcessNode, terminationGracePeriodSeconds: 3,
        containers: [{ name: "c", image: "busybox", command: ["sh", "-c", `trap '' TERM; setsid sleep ${a} & sleep ${b} & wait`] }],
      },
    });
    await waitPod("stubborn", "Running", (x) => x.status?.phase === "Running");
    await waitFor("both sleeps running", async () => pidsWithArgv(["sleep", String(a)]).length === 1 && pidsWithArgv(["sleep", String(b)]).length === 1, 10_000);
    const t0 = Date.now();
    await kubectlOk(["delete", "pod", "-n", ns, "stubborn", "--wait=false"]);
    await waitFor("pod object gone", async () => (await kubectl(["get", "pod", "-n", ns, "stubborn"])).code !== 0, 20_000);
    const took = Date.now() - t0;
    expect(took).to.be.within(2500, 12_000);
    expect(pidsWithArgv(["sleep", String(a)]), "escaped child (setsid) survived").to.deep.equal([]);
    expect(pidsWithArgv(["sleep", String(b)])).to.deep.equal([]);
  });

  it("reports a crashing container: Never -> Failed with its exit code; OnFailure restarts to success; Always backs off", async () => {
    const crash = (name: string, restartPolicy: string, cmd: string, volumes = false): Promise<string> => apply({
      apiVersion: "v1", kind: "Pod", metadata: { name },
      spec: {
        ...onProcessNode, restartPolicy,
        containers: [{ name: "c", image: "busybox", command: ["sh", "-c", cmd], ...(volumes ? { volumeMounts: [{ name: "state", mountPath: "/state" }] } : {}) }],
        ...(volumes ? { volumes: [{ name: "state", emptyDir: {} }] } : {}),
      },
    });
    await crash("never", "Never", "echo boom; exit 3");
    await crash("onfailure", "OnFailure", "if [ -f /state/again ]; then exit 0; fi; touch /state/again; exit 4", true);
    await crash("always", "Always", "exit 1");

    const never = await waitPod("never", "Failed", (x) => x.status?.phase === "Failed");
    expect(never.status.containerStatuses[0].state.terminated).to.include({ exitCode: 3, reason: "Error" });
    expect(logOf(never, "c")).to.equal("boom\n");

    const onFailure = await waitPod("onfailure", "Succeeded", (x) => x.status?.phase === "Succeeded");
    const s = onFailure.status.containerStatuses[0];
    expect(s.restartCount).to.equal(1);
    expect(s.lastState.terminated.exitCode).to.equal(4);
    expect(s.state.terminated).to.include({ exitCode: 0, reason: "Completed" });

    const seen = new Set<string>();
    const always = await waitPod("always", "restarted twice", (x) => {
      const c = x.status?.containerStatuses?.[0];
      if (c?.state?.waiting?.reason) seen.add(c.state.waiting.reason);
      return c?.restartCount >= 2;
    }, 20_000);
    expect(always.status.phase).to.equal("Running");
    expect(always.status.containerStatuses[0].lastState.terminated.exitCode).to.equal(1);
    expect([...seen]).to.include("CrashLoopBackOff");
  });

  it("probes tcpSocket readiness and exec liveness (a failing liveness probe restarts the container)", async () => {
    await apply({
      apiVersion: "v1", kind: "Pod", metadata: { name: "probed" },
      spec: {
        ...onProcessNode,
        containers: [
          {
            name: "tcp", image: "python:3",
            command: ["sh", "-c", "sleep 2; exec python3 -m http.server --bind $(POD_IP) 8081"],
            env: [{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }],
            readinessProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1 },
          },
          {
            name: "live", image: "busybox", command: ["sh", "-c", "sleep 3600"],
            livenessProbe: { exec: { command: ["test", "-f", "/state/alive"] }, periodSeconds: 1, failureThreshold: 2 },
            volumeMounts: [{ name: "state", mountPath: "/state" }],
          },
        ],
        volumes: [{ name: "state", emptyDir: {} }],
      },
    });
    const notReadyAtFirst = await waitPod("probed", "running", (x) => x.status?.containerStatuses?.find((c: any) => c.name === "tcp")?.state?.running);
    expect(notReadyAtFirst.status.containerStatuses.find((c: any) => c.name === "tcp").ready).to.equal(false);
    await waitPod("probed", "tcp ready", (x) => x.status?.containerStatuses?.find((c: any) => c.name === "tcp")?.ready === true);
    const restarted = await waitPod("probed", "live restarted", (x) => x.status?.containerStatuses?.find((c: any) => c.name === "live")?.restartCount >= 1, 20_000);
    const live = restarted.status.containerStatuses.find((c: any) => c.name === "live");
    expect(live.lastState.terminated.message).to.match(/^Liveness probe failed/);
  });

  it("gives each pod its own loopback: servers on 0.0.0.0 do not collide, a sidecar reaches its pod's server on 127.0.0.1", async () => {
    const port = 20_000 + Math.floor(Math.random() * 9000);
    // Each server answers with its pod's name, so a cross-wired connection shows.
    const server = [
      "import http.server, os",
      "class Name(http.server.BaseHTTPRequestHandler):",
      "    def do_GET(self):",
      "        self.send_response(200); self.end_headers(); self.wfile.write(os.environ['POD_NAME'].encode())",
      `http.server.ThreadingHTTPServer(('0.0.0.0', ${port}), Name).serve_forever()`,
    ].join("\n");
    const sidecar = [
      "import time, urllib.request",
      "while True:",
      "    try:",
      `        print('sidecar got', urllib.request.urlopen('http://127.0.0.1:${port}/', timeout=2).read().decode(), flush=True); break`,
      "    except OSError: time.sleep(0.2)",
      "time.sleep(3600)",
    ].join("\n");
    const podName = [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }];
    for (const name of ["loop-a", "loop-b"]) {
      await apply({
        apiVersion: "v1", kind: "Pod", metadata: { name },
        spec: {
          ...onProcessNode,
          containers: [
            { name: "server", image: "python:3", command: ["python3", "-c", server], env: podName, readinessProbe: { httpGet: { path: "/", port }, periodSeconds: 1 } },
            { name: "sidecar", image: "python:3", command: ["python3", "-c", sidecar] },
          ],
        },
      });
    }
    const ips: string[] = [];
    for (const name of ["loop-a", "loop-b"]) {
      const p = await waitPod(name, "Ready", (x) => x.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
      ips.push(p.status.podIP);
      expect(await httpGet(`http://${p.status.podIP}:${port}/`)).to.deep.equal({ status: 200, body: name });
      await waitFor(`${name} sidecar reached its server`, async () => logOf(p, "sidecar").includes("sidecar got"), 10_000);
      expect(logOf(p, "sidecar")).to.equal(`sidecar got ${name}\n`);
      expect(p.status.containerStatuses.find((c: any) => c.name === "server").restartCount).to.equal(0);
    }
    expect(ips[0]).to.not.equal(ips[1]);
    let onHostLoopback = true;
    try { await httpGet(`http://127.0.0.1:${port}/`); } catch { onHostLoopback = false; }
    expect(onHostLoopback, "a pod's 0.0.0.0 listener leaked onto the machine's 127.0.0.1").to.equal(false);
  });

  it("fails a pod whose image is not in the image map, with reason ImageNotMapped", async () => {
    await apply({ apiVersion: "v1", kind: "Pod", metadata: { name: "unmapped" }, spec: { ...onProcessNode, containers: [{ name: "c", image: "quay.io/nobody/unknown:1.0" }] } });
    const p = await waitPod("unmapped", "Failed", (x) => x.status?.phase === "Failed");
    expect(p.status.reason).to.equal("ImageNotMapped");
    expect(p.status.message).to.contain("quay.io/nobody/unknown");
  });

  it("never schedules pods without the toleration on the process node", async () => {
    for (let i = 0; i < 6; i++) await apply({ apiVersion: "v1", kind: "Pod", metadata: { name: `plain-${i}` }, spec: { containers: [{ name: "c", image: "busybox" }] } });
    // Tolerating the GPU nodes' taint leaves ours as the only taint that can reject it.
    await apply({ apiVersion: "v1", kind: "Pod", metadata: { name: "wants-process-node" }, spec: { nodeSelector: { "kubernetes.io/hostname": nodeName }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }], containers: [{ name: "c", image: "busybox" }] } });
    const nodes = await waitFor("plain pods scheduled", async () => {
      const list = await getJson(["get", "pods", "-n", ns]);
      const plain = list.items.filter((p: any) => p.metadata.name.startsWith("plain-"));
      return plain.every((p: any) => p.spec.nodeName) ? plain.map((p: any) => p.spec.nodeName as string) : undefined;
    });
    expect(nodes).to.have.length(6);
    expect(nodes).to.not.include(nodeName);
    const stuck = await waitPod("wants-process-node", "unschedulable", (x) => x.status?.conditions?.some((c: any) => c.type === "PodScheduled" && c.reason === "Unschedulable"));
    expect(stuck.spec.nodeName).to.equal(undefined);
    // The scheduler counts nodes by reason without naming taints: the pod tolerates only the GPU
    // nodes' taint, so the nodes it rejects for a taint are exactly the process-kubelet nodes (ours,
    // and another suite's that is still up: the e2e environment lives until the run's last hook).
    const processNodes = (await getJson(["get", "nodes"])).items
      .filter((n: any) => (n.spec.taints ?? []).some((t: any) => t.key === "elastic-jupyter.dev/process-kubelet")).map((n: any) => n.metadata.name as string);
    expect(processNodes).to.include(nodeName);
    expect(stuck.status.conditions.find((c: any) => c.type === "PodScheduled").message).to.match(new RegExp(`\\b${processNodes.length} node\\(s\\) had untolerated taint`));
  });

  it("after a crash, a restarted kubelet replaces the orphaned processes and keeps the pod IP", async () => {
    const port = 30_000 + Math.floor(Math.random() * 9000);
    await apply({
      apiVersion: "v1", kind: "Pod", metadata: { name: "survivor" },
      spec: { ...onProcessNode, containers: [{ name: "c", image: "python:3", command: ["python3", "-m", "http.server", String(port)], readinessProbe: { tcpSocket: { port }, periodSeconds: 1 } }] },
    });
    const before = await waitPod("survivor", "Ready", (x) => x.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
    const argv = ["python3", "-m", "http.server", String(port)];
    const [oldPid] = pidsWithArgv(argv);
    expect(oldPid).to.be.a("number");
    const crashedKubelet = kubelet.pid;
    await kubelet.crash();
    expect(pidsWithArgv(argv), "a crashed kubelet leaves its pods running").to.deep.equal([oldPid]);
    kubelet = await startProcessKubelet({ ...kubeletOptions, imageMap: join(stateDir, "image-map.json") });
    // Its mount-target claims are cleaned up, except where another live kubelet on this machine
    // (a parallel suite) shares the target and will inherit the cleanup.
    const claims = readdirSync(join(defaultRegistryDir, "mount-targets"));
    const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const stale = claims.filter((f) => f.endsWith(`.${crashedKubelet}`));
    const unshared = stale.filter((f) => !claims.some((g) => g !== f && g.startsWith(f.split(".")[0]!) && alive(Number(g.split(".")[1]))));
    expect(unshared, "the crashed kubelet's mount-target claims were cleaned up").to.deep.equal([]);
    const after = await waitPod("survivor", "restarted and Ready", (x) => x.status?.containerStatuses?.[0]?.restartCount === 1 && x.status.containerStatuses[0].ready);
    expect(after.status.podIP).to.equal(before.status.podIP);
    expect(after.status.containerStatuses[0].lastState.terminated).to.include({ exitCode: 137 });
    const now = pidsWithArgv(argv);
    expect(now).to.have.length(1);
    expect(now[0]).to.not.equal(oldPid);
    expect((await httpGet(`http://${after.status.podIP}:${port}/`)).status).to.equal(200);
  });

  it("on shutdown stops every pod process and leaves no process, mount or cgroup behind", async () => {
    const a = 110_000 + Math.floor(Math.random() * 9000);
    await apply({
      apiVersion: "v1", kind: "Pod", metadata: { name: "long" },
      spec: { ...onProcessNode, containers: [{ name: "c", image: "busybox", command: ["sh", "-c", `setsid sleep ${a} & exec sleep ${a + 1}`] }] },
    });
    await waitPod("long", "Running", (x) => x.status?.phase === "Running");
    await waitFor("sleeps running", async () => pidsWithArgv(["sleep", String(a)]).length === 1 && pidsWithArgv(["sleep", String(a + 1)]).length === 1, 10_000);
    expect(mountsMentioning(stateDir).length, "pod volumes are bind-mounted in the pod's namespace").to.be.greaterThan(0);

    expect(await kubelet.stop()).to.equal(0);
    expect(pidsWithArgv(["sleep", String(a)])).to.deep.equal([]);
    expect(pidsWithArgv(["sleep", String(a + 1)])).to.deep.equal([]);
    expect(mountsMentioning(stateDir)).to.deep.equal([]);
    expect(existsSync(`/sys/fs/cgroup/pids/process-kubelet/${nodeName}`)).to.equal(false);
    expect(existsSync("/srv/process-kubelet-test")).to.equal(false);
    // Claims on pod IPs and mount targets are gone; a mount target another kubelet on this
    // machine still claims (parallel suites) must stay, everything else we created must not.
    const registry = defaultRegistryDir;
    const ours = (dir: string): string[] => readdirSync(join(registry, dir)).filter((f) => readFileSync(join(registry, dir, f), "utf8").startsWith(`${kubelet.pid} `) || f.endsWith(`.${kubelet.pid}`));
    expect(ours("ips")).to.deep.equal([]);
    expect(ours("mount-targets")).to.deep.equal([]);
    const othersClaim = readdirSync(join(registry, "mount-targets")).length > 0;
    if (!secretsDirExisted && !othersClaim) expect(existsSync("/var/run/secrets")).to.equal(false);
    const p = await pod("long");
    expect(p.status.phase).to.equal("Failed");
    expect(p.status.reason).to.equal("Terminated");
    const node = await getJson(["get", "node", nodeName]);
    expect(node.status.conditions.find((c: any) => c.type === "Ready").status).to.equal("False");
  });
});

// Direct mode end to end (docs/direct-mode.md): JupyterLab's own server (jupyter_server 2,
// jupyter_client 8, a stock notebook image's stand-in) starts kernels through our provisioner,
// which creates JupyterKernels itself; the operator makes the pods; the process kubelet runs real
// ipykernels on their pod IPs; no gateway is involved. Shares the e2e environment (environment.ts)
// with e2e.test.ts, whose gateway-mode notebook the latency table measures beside this one.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { HttpError, JupyterServer, type KernelChannels } from "../../e2e/jupyter-client.ts";
import { latencyTable, measureExecuteRoundTrips, measureKernelStarts } from "../../e2e/latency.ts";
import { NAMES, until, type E2EEnvironment } from "../../e2e/setup.ts";
import { testCluster } from "../cluster.ts";
import { E2E_CULL_INTERVAL, E2E_GPU_CULL_IDLE_TIMEOUT, e2eEnvironment } from "./environment.ts";

describe("direct mode: JupyterLab's server -> provisioner -> JupyterKernel -> kernel pod (no gateway)", function () {
  this.timeout(120_000);
  let env: E2EEnvironment;
  let nb: JupyterServer;

  const list = async (kind: string, selector: string): Promise<any[]> =>
    (JSON.parse(await env.kubectl(["get", kind, "-n", env.namespace, "-l", selector, "-o", "json"])).items as any[])
      .filter((o) => !o.metadata.deletionTimestamp);
  const kernelObject = async (id: string): Promise<any> => (await list("jupyterkernels", `kernel_id=${id}`))[0];
  const kernelPod = async (id: string): Promise<any> => (await list("pods", `kernel_id=${id}`))[0];
  const gone = (id: string, ms = 30_000): Promise<boolean> => until(`kernel ${id}'s JupyterKernel, pod and Secret to go away`, async () => {
    const [k, p, s] = await Promise.all([list("jupyterkernels", `kernel_id=${id}`), list("pods", `kernel_id=${id}`), list("secrets", `kernel_id=${id}`)]);
    return k.length === 0 && p.length === 0 && s.length === 0;
  }, ms);

  before(async function () {
    this.timeout(240_000);
    env = await e2eEnvironment();
    if (!env.direct) throw new Error("the e2e environment has no direct-mode notebook");
    nb = new JupyterServer(env.direct.url, env.direct.token);
  });

  it("offers the JupyterKernelSpecs the notebook lists, each launched by the provisioner with message interrupts", async () => {
    const specs = await nb.request<{ default: string; kernelspecs: Record<string, any> }>("GET", "/api/kernelspecs");
    expect(specs.default).to.equal(NAMES.cpuKernelspec);
    expect(specs.kernelspecs).to.have.all.keys(NAMES.cpuKernelspec, NAMES.gpuKernelspec);
    const gpu = specs.kernelspecs[NAMES.gpuKernelspec].spec;
    expect(gpu.display_name).to.equal("Python with 1 GPU (JupyterKernel pod)");
    expect(gpu.interrupt_mode).to.equal("message");
    expect(gpu.metadata.kernel_provisioner).to.deep.equal({ provisioner_name: "elastic-jupyter-direct", config: { jupyter_kernel_spec: NAMES.gpuKernelspec, image: gpu.metadata.kernel_provisioner.config.image } });
    expect(gpu.metadata.cull_idle_timeout).to.equal(E2E_GPU_CULL_IDLE_TIMEOUT);
    // The notebook pod runs a stock image's server: the package came from the operator's ConfigMap.
    const pod = JSON.parse(await env.kubectl(["get", "pod", "-n", env.namespace, env.direct!.podName, "-o", "json"]));
    expect(pod.spec.serviceAccountName).to.equal(`${NAMES.directNotebook}-notebook`);
    expect(pod.spec.volumes.find((v: any) => v.name === "notebook-files").configMap.name).to.equal(`${NAMES.directNotebook}-notebook-files`);
  });

  describe("a kernel's life", () => {
    let id = "";
    let ch: KernelChannels | undefined;
    after(async () => {
      ch?.close();
      if (id) await nb.shutdown(id).catch(() => {});
    });

    it("starts: a Direct JupyterKernel owned by the notebook pod, its key only in a Secret it owns, and cells run in its pod", async () => {
      id = (await nb.startKernel(NAMES.cpuKernelspec)).id;
      const jk = await kernelObject(id);
      expect(jk.spec).to.include({ kernelId: id, connectionMode: "Direct", username: NAMES.directNotebook });
      expect(jk.spec.kernelSpec).to.deep.equal({ name: NAMES.cpuKernelspec });
      expect(jk.metadata.labels["kubeflow.tkestack.io/notebook"]).to.equal(NAMES.directNotebook);
      expect(jk.metadata.ownerReferences).to.deep.equal([{ apiVersion: "v1", kind: "Pod", name: env.direct!.podName, uid: jk.metadata.ownerReferences[0].uid }]);
      expect(jk.status.phase).to.equal("Running");
      const pod = await kernelPod(id);
      expect(pod.metadata.ownerReferences[0]).to.include({ kind: "JupyterKernel", uid: jk.metadata.uid });
      expect(pod.spec.nodeName).to.equal(env.options.nodeName);
      expect(pod.status.podIP).to.equal(jk.status.podIP);
      // The key: in the Secret (owned by the kernel), referenced by the pod, nowhere in the CR.
      const secret = JSON.parse(await env.kubectl(["get", "secret", "-n", env.namespace, `${jk.metadata.name}-connection-${jk.metadata.uid.slice(0, 8)}`, "-o", "json"]));
      expect(secret.metadata.ownerReferences[0]).to.include({ kind: "JupyterKernel", uid: jk.metadata.uid });
      const key = Buffer.from(secret.data.key, "base64").toString("utf8");
      expect(key).to.have.length.above(16);
      expect(JSON.stringify(jk)).not.to.contain(key);
      const keyEnv = pod.spec.containers[0].env.find((e: any) => e.name === "KERNEL_CONNECTION_KEY");
      expect(keyEnv.valueFrom.secretKeyRef).to.deep.equal({ name: `${jk.metadata.name}-connection-${jk.metadata.uid.slice(0, 8)}`, key: "key" });

      ch = await nb.connect(id);
      const r = await ch.execute("import os, socket\nprint(os.environ['KERNEL_ID'], socket.gethostname())\n6 * 7");
      expect(r.status).to.equal("ok");
      expect(r.text).to.equal(`${id} ${pod.metadata.name}\n42`);
      expect((await ch.execute("x = sum(range(10))\nprint(x)")).text).to.equal("45\n");
    });

    it("interrupts a long-running cell by message, and the kernel keeps its state", async () => {
      const running = ch!.execute("import time\ntime.sleep(120)", 30_000);
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = Date.now();
      await nb.interrupt(id);
      const r = await running;
      expect(r.status).to.equal("error");
      expect(r.ename).to.equal("KeyboardInterrupt");
      expect(Date.now() - t0).to.be.below(15_000);
      expect((await ch!.execute("print(x)")).text).to.equal("45\n");
    });

    it("restarts: a new pod, same kernel id, state gone", async () => {
      const before = await kernelPod(id);
      ch!.close();
      ch = undefined;
      expect((await nb.restart(id)).id).to.equal(id);
      const after = await until("the restarted kernel's new pod", async () => {
        const p = await kernelPod(id);
        return p && p.metadata.uid !== before.metadata.uid && p.status.phase === "Running" ? p : undefined;
      }, 60_000);
      expect(after.metadata.name).to.equal(before.metadata.name);
      ch = await nb.connect(id);
      const r = await ch.execute("print(x)");
      expect(r.ename).to.equal("NameError");
      expect((await ch.execute("print('back')")).text).to.equal("back\n");
    });

    it("shuts down: the kernel leaves the server, its JupyterKernel, pod and Secret are deleted", async () => {
      ch?.close();
      ch = undefined;
      await nb.shutdown(id);
      expect((await nb.kernels()).map((k) => k.id)).not.to.include(id);
      await gone(id);
      id = "";
    });
  });

  describe("GPU kernels (the process node has 1 nvidia.com/gpu)", () => {
    let holder = "";
    after(async () => { if (holder) await nb.shutdown(holder).catch(() => {}); });

    it("a GPU kernel gets the GPU and runs a cell; a second one fails within seconds with the scheduler's reason", async () => {
      holder = (await nb.startKernel(NAMES.gpuKernelspec)).id;
      const jk = await kernelObject(holder);
      expect(jk.status.gpus).to.equal(1);
      const pod = await kernelPod(holder);
      expect(pod.spec.containers[0].resources.limits["nvidia.com/gpu"]).to.equal("1");
      const ch = await nb.connect(holder);
      expect((await ch.execute("print('holding the GPU')")).text).to.equal("holding the GPU\n");
      ch.close();
      const t0 = Date.now();
      const second = await nb.startKernel(NAMES.gpuKernelspec).then(() => undefined, (e: unknown) => e);
      expect(second, "a second GPU kernel must not start").to.be.instanceOf(HttpError);
      expect((second as HttpError).status).to.equal(503);
      const body = JSON.parse((second as HttpError).body);
      console.log(`      second GPU kernel refused after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${body.message.slice(0, 300)}`);
      expect(body.message).to.match(/Unschedulable: .*Insufficient nvidia\.com\/gpu/);
      expect(Date.now() - t0).to.be.below(25_000);
    });

    it("a gpuPolicy limit (Fail) of the namespace's gateway governs direct kernels too: GPUQuotaExceeded is the error the user sees, no pod", async () => {
      // Direct mode must not be a way around a namespace's limits: the gateway's policy applies.
      const setPolicy = (gpuPolicy: object | null) => env.kubectl(["patch", "jupytergateway", NAMES.gateway, "-n", env.namespace, "--type=merge", "-p", JSON.stringify({ spec: { gpuPolicy } })]);
      try {
        await setPolicy({ maxPerUser: { "nvidia.com/gpu": 1 }, whenFull: "Fail" });
        const err = await until("the gateway's per-user limit to refuse", async () => {
          const e = await nb.startKernel(NAMES.gpuKernelspec).then(() => undefined, (x: unknown) => x);
          return e instanceof HttpError && /GPUQuotaExceeded/.test(e.body) ? e : undefined;
        }, 30_000);
        expect(err.status).to.equal(503);
        expect(JSON.parse(err.body).message).to.contain(`GPUQuotaExceeded: user ${NAMES.directNotebook} holds 1 of the 1 nvidia.com/gpu JupyterGateway ${NAMES.gateway} allows per user`);
      } finally {
        await setPolicy(null);
      }
    });

    it("a gpuPolicy queue (Queue): a second GPU kernel waits, Queued 1st, while its start request stays open; it starts when the GPU frees and runs a cell", async function () {
      this.timeout(120_000);
      const setPolicy = (gpuPolicy: object | null) => env.kubectl(["patch", "jupyterkernelspec", NAMES.gpuKernelspec, "-n", env.namespace, "--type=merge", "-p", JSON.stringify({ spec: { gpuPolicy } })]);
      try {
        await setPolicy({ maxPerNamespace: { "nvidia.com/gpu": 1 }, whenFull: "Queue", queueTimeout: 50 });
        // The holder from above, active again (the idle culler may have taken it meanwhile: then a new one).
        if (holder && (await nb.kernels()).some((k) => k.id === holder)) {
          const ch = await nb.connect(holder);
          await ch.execute("1");
          ch.close();
        } else {
          holder = (await nb.startKernel(NAMES.gpuKernelspec)).id;
        }
        const t0 = Date.now();
        const second = nb.startKernel(NAMES.gpuKernelspec).then((k) => ({ k, at: Date.now() }), (e: unknown) => ({ e, at: Date.now() }));
        const queued = await until("the second GPU kernel to wait in the queue, 1st", async () => {
          const ks = await list("jupyterkernels", `kubeflow.tkestack.io/notebook=${NAMES.directNotebook}`);
          return ks.find((k) => k.spec.kernelId !== holder && k.status?.reason === "Queued" && k.status?.queuePosition === 1);
        }, 30_000);
        expect(queued.status.phase).to.equal("Pending");
        expect(queued.status.message).to.match(/1st of 1 in namespace .*'s GPU queue/);
        expect(await kernelPod(queued.spec.kernelId)).to.equal(undefined); // queued kernels get no pod
        await new Promise((r) => setTimeout(r, 2000));
        expect(await Promise.race([second.then(() => "answered"), Promise.resolve("pending")]), "the start request waits while queued").to.equal("pending");
        const freed = Date.now();
        await nb.shutdown(holder);
        holder = "";
        const r = await second;
        if (!("k" in r)) throw r.e;
        holder = r.k.id;
        expect(holder).to.equal(queued.spec.kernelId);
        console.log(`      queued ${((freed - t0) / 1000).toFixed(1)} s; started ${((r.at - freed) / 1000).toFixed(1)} s after the GPU was freed`);
        const ch = await nb.connect(holder);
        expect((await ch.execute("print('admitted')")).text).to.equal("admitted\n");
        ch.close();
        expect((await kernelObject(holder)).status.gpus).to.equal(1);
      } finally {
        await setPolicy(null);
      }
    });

    it(`idle culling per kernelspec: the notebook server culls the GPU kernel after ${E2E_GPU_CULL_IDLE_TIMEOUT} s idle, with its JupyterKernel, pod and Secret`, async function () {
      this.timeout(120_000);
      const t0 = Date.now();
      await until("the notebook server to cull the idle GPU kernel", async () => !(await nb.kernels()).some((k) => k.id === holder), (E2E_GPU_CULL_IDLE_TIMEOUT + E2E_CULL_INTERVAL) * 1000 + 45_000);
      await gone(holder);
      console.log(`      culled and cleaned up ${((Date.now() - t0) / 1000).toFixed(1)} s after the test started waiting`);
      holder = "";
    });
  });

  describe("tenant rules: the notebook's ServiceAccount (which its users hold) gets no more than the kernelspec allows", () => {
    let kubectlAs: (args: string[], input?: string) => string;
    let notebookPodUid = "";
    before(async () => {
      // A token of the notebook's ServiceAccount bound to its pod, as the kubelet mounts it there.
      notebookPodUid = JSON.parse(await env.kubectl(["get", "pod", "-n", env.namespace, env.direct!.podName, "-o", "json"])).metadata.uid;
      const token = execFileSync("kubectl", ["--kubeconfig", testCluster.kubeconfig, "create", "token", "-n", env.namespace, `${NAMES.directNotebook}-notebook`,
        "--bound-object-kind", "Pod", "--bound-object-name", env.direct!.podName, "--bound-object-uid", notebookPodUid], { encoding: "utf8" }).trim();
      const server = JSON.parse(execFileSync("kubectl", ["--kubeconfig", testCluster.kubeconfig, "config", "view", "--minify", "--raw", "-o", "json"], { encoding: "utf8" })).clusters[0].cluster.server;
      kubectlAs = (args, input) => execFileSync("kubectl", ["--server", server, "--token", token, "--insecure-skip-tls-verify", ...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
    });
    /** `kubectl auth can-i` as the notebook's ServiceAccount (exit status 0: yes, 1: no). */
    const can = (verb: string, what: string, ns: string): boolean => {
      try { kubectlAs(["auth", "can-i", verb, what, "-n", ns]); return true; } catch (e) {
        if ((e as { status?: number }).status === 1) return false;
        throw e;
      }
    };

    it("RBAC: kernels and their Secrets in its namespace; no pods, no reading Secrets, nothing elsewhere", () => {
      for (const [verb, what] of [["create", "jupyterkernels.kubeflow.tkestack.io"], ["delete", "jupyterkernels.kubeflow.tkestack.io"], ["watch", "jupyterkernels.kubeflow.tkestack.io"], ["create", "secrets"], ["list", "jupyterkernelspecs.kubeflow.tkestack.io"]] as const) {
        expect(can(verb, what, env.namespace), `${verb} ${what}`).to.equal(true);
      }
      for (const [verb, what, ns] of [["create", "pods", env.namespace], ["get", "secrets", env.namespace], ["list", "secrets", env.namespace], ["delete", "secrets", env.namespace], ["create", "jupyterkernels.kubeflow.tkestack.io", "default"], ["patch", "jupyterkernels.kubeflow.tkestack.io", env.namespace], ["patch", "jupyterkernels.kubeflow.tkestack.io/status", env.namespace], ["create", "jupyterkernelspecs.kubeflow.tkestack.io", env.namespace], ["create", "jupyterkerneltemplates.kubeflow.tkestack.io", env.namespace]] as const) {
        expect(can(verb, what, ns), `${verb} ${what} in ${ns}`).to.equal(false);
      }
    });

    const ownedByPod = () => [{ apiVersion: "v1", kind: "Pod", name: env.direct!.podName, uid: notebookPodUid }];
    const deniedAs = (obj: object): string => {
      try { kubectlAs(["create", "-n", env.namespace, "-f", "-"], JSON.stringify(obj)); } catch (e) { return String((e as { stderr?: string }).stderr); }
      throw new Error(`the API server admitted ${JSON.stringify(obj)}`);
    };

    it("admission (ValidatingAdmissionPolicy): only Direct kernels of its own notebook, owned by its pod, without a pod template", () => {
      const id = "00000000-0000-4000-8000-00000000d1eb";
      const base = {
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel",
        metadata: { name: `kernel-${id}`, labels: { kernel_id: id, "kubeflow.tkestack.io/notebook": NAMES.directNotebook }, ownerReferences: ownedByPod() },
        spec: { kernelId: id, connectionMode: "Direct", kernelSpec: { name: NAMES.cpuKernelspec }, username: NAMES.directNotebook },
      };
      // Posing as another notebook of the namespace (its GPU share), or as a gateway's kernel (which a gateway's sidecar would serve):
      expect(deniedAs({ ...base, metadata: { ...base.metadata, labels: { kernel_id: id, "kubeflow.tkestack.io/notebook": NAMES.notebook } } }))
        .to.contain(`the ServiceAccount of notebook ${NAMES.directNotebook} may create only JupyterKernels labelled kubeflow.tkestack.io/notebook=${NAMES.directNotebook}`);
      // (Without a notebook label, both policies refuse it; the API server names one of them.)
      expect(deniedAs({ ...base, metadata: { ...base.metadata, labels: { kernel_id: id, "kubeflow.tkestack.io/gateway": NAMES.gateway } } }))
        .to.match(/may create only JupyterKernels labelled kubeflow.tkestack.io\/notebook=|a direct kernel needs the label kubeflow.tkestack.io\/notebook/);
      expect(deniedAs({ ...base, spec: { ...base.spec, connectionMode: "Gateway", responseAddress: "10.0.0.1:8877" } })).to.contain("spec.connectionMode Direct");
      expect(deniedAs({ ...base, spec: { ...base.spec, template: { spec: { containers: [{ name: "kernel", image: "evil.example/miner:1" }] } } } })).to.contain("spec.template and spec.kernelTemplate are not allowed");
      expect(deniedAs({ ...base, metadata: { ...base.metadata, ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "other", uid: "00000000-0000-0000-0000-000000000000" }] } })).to.contain("owned by the notebook pod that creates them");
    });

    it("admission, for anyone: a Direct kernel without its notebook's label is refused (nobody would serve it)", async () => {
      const id = "00000000-0000-4000-8000-00000000d1ef";
      const unlabelled = {
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel",
        metadata: { name: `kernel-${id}`, namespace: env.namespace, labels: { kernel_id: id } },
        spec: { kernelId: id, connectionMode: "Direct", kernelSpec: { name: NAMES.cpuKernelspec }, username: NAMES.directNotebook },
      };
      // As the cluster admin: the rule is the API's, not the notebook ServiceAccount's.
      const err = await env.kubectl(["create", "-f", "-"], JSON.stringify(unlabelled)).then(() => "", (e: Error) => e.message);
      expect(err).to.contain("spec.connectionMode Direct: a direct kernel needs the label kubeflow.tkestack.io/notebook naming the JupyterNotebook that starts it");
      expect(await kernelObject(id)).to.equal(undefined);
    });

    /** The operator's refusal of a kernel: Failed with DirectKernelNotAllowed, and no pod. */
    const refused = async (id: string): Promise<any> => {
      const jk = await until("the operator to refuse the kernel", async () => {
        const k = await kernelObject(id);
        return k?.status?.phase === "Failed" ? k : undefined;
      }, 30_000);
      expect(jk.status.reason).to.equal("DirectKernelNotAllowed");
      expect(await kernelPod(id)).to.equal(undefined);
      return jk;
    };

    it("a JupyterKernel it creates asking for more than direct mode allows fails with the reasons, and gets no pod", async () => {
      const id = "00000000-0000-4000-8000-00000000d1ec";
      const name = `kernel-${id}`;
      kubectlAs(["create", "-n", env.namespace, "-f", "-"], JSON.stringify({
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel",
        metadata: { name, labels: { kernel_id: id, "kubeflow.tkestack.io/notebook": NAMES.directNotebook }, ownerReferences: ownedByPod() },
        spec: {
          kernelId: id, connectionMode: "Direct", kernelSpec: { name: NAMES.cpuKernelspec }, username: "someone-else",
          env: [{ name: "LD_PRELOAD", value: "/x.so" }, { name: "KERNEL_TOKEN", valueFrom: { secretKeyRef: { name: `${NAMES.directNotebook}-token`, key: "token" } } }],
        },
      }));
      try {
        const jk = await refused(id);
        for (const part of ["spec.username must be the notebook's name", "spec.env LD_PRELOAD is not allowed", "spec.env KERNEL_TOKEN must be a plain value"]) expect(jk.status.message).to.contain(part);
      } finally {
        await env.kubectl(["delete", "jupyterkernel", "-n", env.namespace, name, "--ignore-not-found"]);
      }
    });

    it("a kernelspec the notebook does not offer is refused, and gets no pod", async () => {
      const id = "00000000-0000-4000-8000-00000000d1ed";
      const name = `kernel-${id}`;
      await env.kubectl(["apply", "--server-side", "-f", "-"], JSON.stringify({
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name: "not-offered", namespace: env.namespace },
        spec: { language: "python", image: "quay.io/jupyter/pytorch-notebook:2026-08-24" },
      }));
      kubectlAs(["create", "-n", env.namespace, "-f", "-"], JSON.stringify({
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel",
        metadata: { name, labels: { kernel_id: id, "kubeflow.tkestack.io/notebook": NAMES.directNotebook }, ownerReferences: ownedByPod() },
        spec: { kernelId: id, connectionMode: "Direct", kernelSpec: { name: "not-offered" }, username: NAMES.directNotebook },
      }));
      try {
        const jk = await refused(id);
        expect(jk.status.message).to.contain(`kernelspec not-offered is not one notebook ${NAMES.directNotebook} offers`);
      } finally {
        await env.kubectl(["delete", "jupyterkernel", "-n", env.namespace, name, "--ignore-not-found"]);
        await env.kubectl(["delete", "jupyterkernelspec", "-n", env.namespace, "not-offered", "--ignore-not-found"]);
      }
    });
  });

  describe("orphans: the notebook pod owns its kernels", () => {
    it("a notebook server that dies inside its pod (the container restarts) leaves no kernel behind: the operator deletes the kernels it started", async function () {
      this.timeout(240_000);
      const id = (await nb.startKernel(NAMES.cpuKernelspec)).id;
      const used = await nb.connect(id);
      expect((await used.execute("x = 1; print(x)")).text).to.equal("1\n");
      used.close();
      // Timestamps are whole seconds and the operator allows 2 s of clock skew: a kernel started
      // within that of the crash is left alone (below, the restarted server's is not touched).
      await new Promise((r) => setTimeout(r, 3500));
      const podName = env.direct!.podName;
      const restarts = async (): Promise<number> => (JSON.parse(await env.kubectl(["get", "pod", "-n", env.namespace, podName, "-o", "json"])).status.containerStatuses as any[])
        .find((c) => c.name === "notebook")?.restartCount ?? 0;
      const before = await restarts();
      // SIGKILL, as the OOM killer would: the server gets no chance to shut its kernels down. The
      // process kubelet runs the container's processes here; they carry the pod's name in EJ_NOTEBOOK_POD_NAME.
      const serverPids = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
        try { return readFileSync(`/proc/${p}/environ`, "utf8").split("\0").includes(`EJ_NOTEBOOK_POD_NAME=${podName}`); } catch { return false; }
      });
      expect(serverPids, "the notebook server's processes").to.not.be.empty;
      for (const p of serverPids) { try { process.kill(Number(p), "SIGKILL"); } catch { /* already gone */ } }
      const t0 = Date.now();
      await gone(id, 90_000);
      console.log(`      the kernel of the killed server was gone ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill`);
      const events = JSON.parse(await env.kubectl(["get", "events", "-n", env.namespace, "--field-selector", `involvedObject.name=kernel-${id}`, "-o", "json"])).items as any[];
      expect(events.map((e) => e.reason)).to.include("NotebookServerRestarted");
      await until("the kubelet to restart the notebook container", async () => (await restarts()) > before, 60_000);
      await until("the restarted notebook server to offer the kernelspecs", async () => {
        const specs = await nb.request<{ kernelspecs: Record<string, unknown> }>("GET", "/api/kernelspecs", undefined, 5_000).catch(() => undefined);
        return specs && NAMES.cpuKernelspec in specs.kernelspecs;
      }, 120_000);
      // The restarted server's own kernels are left alone.
      const again = (await nb.startKernel(NAMES.cpuKernelspec)).id;
      const ch = await nb.connect(again);
      expect((await ch.execute("print('after the server restart')")).text).to.equal("after the server restart\n");
      ch.close();
      await new Promise((r) => setTimeout(r, 3000));
      expect(await kernelObject(again), "the new server's kernel survives").to.not.equal(undefined);
      await nb.shutdown(again);
      await gone(again);
    });

    it("a notebook pod that is gone takes its kernels with it (they are owned by it), and its replacement starts kernels again", async function () {
      this.timeout(240_000);
      const id = (await nb.startKernel(NAMES.cpuKernelspec)).id;
      const old = env.direct!.podName;
      // Forced: the API object goes at once. The kernels' owner reference to it lets the garbage
      // collector end them even when the server cannot (a lost node); here the server, stopped by
      // the kubelet, may delete them first. Either way nothing is left.
      await env.kubectl(["delete", "pod", "-n", env.namespace, old, "--grace-period=0", "--force", "--wait=false"]);
      const t0 = Date.now();
      await gone(id, 90_000);
      console.log(`      the orphaned kernel's JupyterKernel, pod and Secret were gone ${((Date.now() - t0) / 1000).toFixed(1)} s after its notebook pod`);
      const pod = await until("the Deployment's new notebook pod", async () =>
        (await list("pods", `app.kubernetes.io/component=notebook,app.kubernetes.io/instance=${NAMES.directNotebook}`))
          .find((p) => p.metadata.name !== old && p.status?.phase === "Running" && p.status?.podIP), 120_000);
      // Later suites (the browser test) share the environment: point them at the new pod.
      env.direct!.podName = pod.metadata.name;
      env.direct!.url = `http://${pod.status.podIP}:8888`;
      nb = new JupyterServer(env.direct!.url, env.direct!.token);
      await until("the new notebook server to offer the kernelspecs", async () => {
        const specs = await nb.request<{ kernelspecs: Record<string, unknown> }>("GET", "/api/kernelspecs", undefined, 5_000).catch(() => undefined);
        return specs && NAMES.cpuKernelspec in specs.kernelspecs;
      }, 90_000);
      const again = (await nb.startKernel(NAMES.cpuKernelspec)).id;
      expect((await kernelObject(again)).metadata.ownerReferences[0]).to.include({ kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid });
      const ch = await nb.connect(again);
      expect((await ch.execute("print('after the restart')")).text).to.equal("after the restart\n");
      ch.close();
      await nb.shutdown(again);
      await gone(again);
    });
  });

  // Last, so the other tests' kernels are gone: both modes measured in this one run.
  describe("latency: gateway mode vs direct mode, one run", () => {
    it("kernel start request -> ready over 20 launches, and execute `1+1` -> reply, in each mode", async function () {
      this.timeout(900_000);
      const gateway = new JupyterServer(env.notebookUrl, env.token);
      const rows = [];
      for (const [mode, server] of [["gateway (JupyterLab -> Enterprise Gateway -> kernel pod)", gateway], ["direct (JupyterLab -> kernel pod)", nb]] as const) {
        const start = await measureKernelStarts(server, NAMES.cpuKernelspec, 20);
        const execute = await measureExecuteRoundTrips(server, NAMES.cpuKernelspec, 20);
        rows.push({ mode, start, execute });
        for (const kid of start.kernelIds) await gone(kid);
      }
      console.log(`\n${latencyTable(rows).split("\n").map((l) => `      ${l}`).join("\n")}\n`);
      for (const r of rows) {
        expect(r.start.readyMs).to.have.length(20);
        expect(r.start.p95).to.be.below(30_000);
        expect(r.execute.p95).to.be.below(5_000);
      }
    });
  });
});

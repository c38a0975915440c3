// The local control plane is real: the controller-manager makes pods, the scheduler places them on
// kwok's fake nodes (honouring GPU extended resources and taints), garbage collection follows owner
// references, and authentication and RBAC refuse what they should.
import { expect } from "chai";
import { freshNamespace, getJson, kubectl, kubectlOk, run, testCluster, waitFor } from "./cluster.ts";

function pod(name: string, gpus: number | null, tolerate: boolean): string {
  return JSON.stringify({
    apiVersion: "v1", kind: "Pod", metadata: { name },
    spec: {
      containers: [{
        name: "main", image: "registry.example/cuda:12",
        ...(gpus === null ? {} : { resources: { limits: { "nvidia.com/gpu": String(gpus) } } }),
      }],
      ...(tolerate ? { tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] } : {}),
    },
  });
}

describe("local control plane", function () {
  let ns: string;
  before(async () => { ns = await freshNamespace("cluster"); });

  it("lists the fake CPU and GPU nodes with their capacity", async () => {
    const nodes = await getJson<{ items: any[] }>(["get", "nodes", "-l", "type=kwok"]);
    const byName = new Map(nodes.items.map((n) => [n.metadata.name as string, n]));
    expect([...byName.keys()]).to.include.members(["cpu-node-0", "cpu-node-1", "gpu-node-0", "gpu-node-1"]);
    expect(byName.get("gpu-node-0").status.capacity["nvidia.com/gpu"]).to.equal("4");
    expect(byName.get("gpu-node-0").spec.taints).to.deep.include({ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" });
    expect(byName.get("cpu-node-0").status.capacity).to.not.have.property("nvidia.com/gpu");
    for (const n of nodes.items) {
      const ready = n.status.conditions.find((c: any) => c.type === "Ready");
      expect(ready?.status, `${n.metadata.name} Ready`).to.equal("True");
    }
    const version = JSON.parse(await kubectlOk(["get", "--raw", "/version"]));
    expect(version.gitVersion).to.match(/^v1\.\d+\.\d+$/);
  });

  it("runs a Deployment: the controller-manager creates pods, the scheduler places them, they run", async () => {
    await kubectlOk(["-n", ns, "create", "deployment", "web", "--image=registry.example/web:1", "--replicas=3"]);
    const pods = await waitFor("3 running pods", async () => {
      const list = await getJson<{ items: any[] }>(["-n", ns, "get", "pods", "-l", "app=web"]);
      const running = list.items.filter((p) => p.status.phase === "Running" && p.spec.nodeName && p.status.podIP);
      return running.length === 3 ? running : undefined;
    });
    for (const p of pods) expect(p.spec.nodeName).to.match(/^cpu-node-/); // untolerated GPU taint keeps them off GPU nodes
  });

  it("places a pod asking for 2 GPUs (with the toleration) on a GPU node", async () => {
    await kubectlOk(["-n", ns, "apply", "-f", "-"], pod("two-gpus", 2, true));
    const p = await waitFor("the GPU pod to be scheduled", async () => {
      const got = await getJson(["-n", ns, "get", "pod", "two-gpus"]);
      return got.spec.nodeName ? got : undefined;
    });
    expect(p.spec.nodeName).to.match(/^gpu-node-/);
  });

  it("keeps a pod asking for more GPUs than any node has Pending as Unschedulable", async () => {
    await kubectlOk(["-n", ns, "apply", "-f", "-"], pod("too-many-gpus", 99, true));
    const cond = await waitFor("PodScheduled=False", async () => {
      const got = await getJson(["-n", ns, "get", "pod", "too-many-gpus"]);
      return got.status.conditions?.find((c: any) => c.type === "PodScheduled" && c.status === "False");
    });
    expect(cond.reason).to.equal("Unschedulable");
    expect(cond.message).to.contain("Insufficient nvidia.com/gpu");
    const got = await getJson(["-n", ns, "get", "pod", "too-many-gpus"]);
    expect(got.status.phase).to.equal("Pending");
  });

  it("garbage-collects dependents when their owner is deleted", async () => {
    await kubectlOk(["-n", ns, "create", "deployment", "doomed", "--image=registry.example/web:1", "--replicas=2"]);
    await waitFor("doomed pods", async () => {
      const list = await getJson<{ items: any[] }>(["-n", ns, "get", "pods", "-l", "app=doomed"]);
      return list.items.length === 2;
    });
    await kubectlOk(["-n", ns, "delete", "deployment", "doomed", "--wait=false"]);
    await waitFor("ReplicaSet and pods to be collected", async () => {
      const rs = await getJson<{ items: any[] }>(["-n", ns, "get", "replicasets", "-l", "app=doomed"]);
      const pods = await getJson<{ items: any[] }>(["-n", ns, "get", "pods", "-l", "app=doomed"]);
      return rs.items.length === 0 && pods.items.length === 0;
    });
  });

  it("refuses a bad token (401) and an unprivileged user (403)", async () => {
    const server = (await kubectlOk(["config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"])).trim();
    const bad = await run("kubectl", ["--server", server, "--insecure-skip-tls-verify", "--token", "not-a-real-token", "get", "pods", "-A"]);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.match(/Unauthorized|401/);
    const nobody = await run("kubectl", ["--kubeconfig", testCluster.nobodyKubeconfig, "get", "pods", "-n", ns]);
    expect(nobody.code).to.not.equal(0);
    expect(nobody.stderr).to.match(/forbidden/i);
    expect(nobody.stderr).to.contain('User "nobody"');
    const can = await kubectl(["auth", "can-i", "list", "pods", "--as", "nobody", "-n", ns]);
    expect(can.stdout.trim()).to.equal("no");
  });
});

// The team chart's NetworkPolicies allow exactly the documented flows: notebook -> gateway (HTTP
// port), gateway -> kernels (the kernel port range), kernels -> gateway (response port), gateway ->
// API server, notebooks and kernels -> DNS, anyone -> notebooks, test pods -> gateway and notebooks;
// egressAllowRules, ingressFrom and the gateway's allowedNamespaces narrow or widen them.
// `helm template` only; the API server accepting them is render.test.ts's job.
import { expect } from "chai";
import { HELMS, TEAM_CHART, objects, template } from "./helm.ts";

async function policies(extra: string[] = []): Promise<Record<string, any>> {
  const objs = objects(await template(HELMS.helm3, TEAM_CHART, "team-a", [], extra)).filter((o) => o.kind === "NetworkPolicy");
  return Object.fromEntries(objs.map((p) => [p.metadata.labels["app.kubernetes.io/component"], p.spec]));
}

// The labels the controller always puts on each kind of pod (schema-gen/src/labels.ts generates
// the chart's helpers from its label functions; labels.unit.test.ts checks them on rendered pods).
const gatewayPods = { "kubeflow.tkestack.io/gateway": "enterprise-gateway", "app.kubernetes.io/component": "gateway" };
const kernelPods = { app: "enterprise-gateway", component: "kernel", "app.kubernetes.io/managed-by": "elastic-jupyter" };
const notebookPods = { "app.kubernetes.io/component": "notebook" };

describe("team chart NetworkPolicies", function () {
  this.timeout(30_000);

  it("one per component, each denying both directions except its rules", async () => {
    const p = await policies();
    expect(Object.keys(p).sort()).to.deep.equal(["gateway", "kernel", "notebook", "test"]);
    for (const spec of Object.values(p)) expect(spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(p.test.ingress, "nothing reaches test pods").to.equal(undefined);
  });

  it("gateway: in from notebooks and test pods on 8888 and from kernels on 8877; out to kernels on 40000-41000 and the API server", async () => {
    const g = (await policies()).gateway;
    expect(g.podSelector.matchLabels).to.deep.equal(gatewayPods);
    expect(g.ingress[0].from.map((f: any) => f.podSelector.matchLabels["app.kubernetes.io/component"])).to.deep.equal(["notebook", "test"]);
    expect(g.ingress[0].ports).to.deep.equal([{ protocol: "TCP", port: 8888 }]);
    expect(g.ingress[1]).to.deep.equal({ from: [{ podSelector: { matchLabels: kernelPods } }], ports: [{ protocol: "TCP", port: 8877 }] });
    expect(g.egress[0]).to.deep.equal({ to: [{ podSelector: { matchLabels: kernelPods } }], ports: [{ protocol: "TCP", port: 40000, endPort: 41000 }] });
    expect(g.egress[1].ports.map((x: any) => x.port)).to.deep.equal([443, 6443]);
    expect(g.egress).to.have.length(2);
  });

  const dns = { ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] };

  it("kernels: in from the gateway on the port range only; out to the gateway's response port and DNS only", async () => {
    const k = (await policies()).kernel;
    expect(k.podSelector.matchLabels).to.deep.equal(kernelPods);
    expect(k.ingress).to.deep.equal([{ from: [{ podSelector: { matchLabels: gatewayPods } }], ports: [{ protocol: "TCP", port: 40000, endPort: 41000 }] }]);
    expect(k.egress).to.deep.equal([{ to: [{ podSelector: { matchLabels: gatewayPods } }], ports: [{ protocol: "TCP", port: 8877 }] }, dns]);
  });

  it("egressAllowRules widen and narrow kernels' and notebooks' egress (the internet without the metadata server; private ranges; no DNS)", async () => {
    const p = await policies(["--set", "networkPolicy.kernel.egressAllowRules.nonPrivateIPs=true", "--set", "networkPolicy.kernel.egressAllowRules.privateIPs=true",
      "--set", "networkPolicy.notebook.egressAllowRules.dns=false", "--set", "networkPolicy.kernel.egressAllowRules.dns=false"]);
    expect(p.kernel.egress.slice(1)).to.deep.equal([
      { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"] } }] },
      { to: [{ ipBlock: { cidr: "10.0.0.0/8" } }, { ipBlock: { cidr: "172.16.0.0/12" } }, { ipBlock: { cidr: "192.168.0.0/16" } }] },
    ]);
    expect(p.notebook.egress, "only the gateway").to.have.length(1);
  });

  it("narrows who reaches notebooks, and admits notebooks of the namespaces the gateway serves", async () => {
    const p = await policies(["--set", "networkPolicy.notebook.ingressFrom[0].podSelector.matchLabels.app=ingress-nginx", "--set", "gateway.allowedNamespaces={team-b,team-c}"]);
    expect(p.notebook.ingress).to.deep.equal([{ ports: [{ protocol: "TCP", port: 8888 }], from: [{ podSelector: { matchLabels: { app: "ingress-nginx" } } }] }]);
    expect(p.gateway.ingress[0].from[2]).to.deep.equal({
      namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: ["team-b", "team-c"] }] },
      podSelector: { matchLabels: notebookPods },
    });
    const all = await policies(["--set", "gateway.allowedNamespaces={*}"]);
    expect(all.gateway.ingress[0].from[2]).to.deep.equal({ namespaceSelector: {}, podSelector: { matchLabels: notebookPods } });
    expect((await policies()).gateway.ingress[0].from, "its own namespace only by default").to.have.length(2);
  });

  it("notebooks: in on their port; out to the gateway's port and DNS", async () => {
    const n = (await policies()).notebook;
    expect(n.podSelector.matchLabels).to.deep.equal(notebookPods);
    expect(n.ingress).to.deep.equal([{ ports: [{ protocol: "TCP", port: 8888 }] }]);
    expect(n.egress[0]).to.deep.equal({ to: [{ podSelector: { matchLabels: gatewayPods } }], ports: [{ protocol: "TCP", port: 8888 }] });
    expect(n.egress[1].ports.map((x: any) => `${x.protocol}/${x.port}`)).to.deep.equal(["UDP/53", "TCP/53"]);
  });

  it("follows the values: other ports, port range 0..0 (any port), extra rules, and none when disabled", async () => {
    const p = await policies(["--set", "gateway.port=9000", "--set", "gateway.responsePort=9001", "--set", "gateway.portRange=0..0",
      "--set", "networkPolicy.kernel.extraEgress[0].ports[0].port=443"]);
    expect(p.gateway.ingress[0].ports).to.deep.equal([{ protocol: "TCP", port: 9000 }]);
    expect(p.kernel.ingress[0].ports, "any TCP port").to.deep.equal([{ protocol: "TCP" }]);
    expect(p.kernel.egress).to.deep.equal([{ to: [{ podSelector: { matchLabels: gatewayPods } }], ports: [{ protocol: "TCP", port: 9001 }] }, dns, { ports: [{ port: 443 }] }]);
    expect(await policies(["--set", "networkPolicy.enabled=false"])).to.deep.equal({});
  });
});

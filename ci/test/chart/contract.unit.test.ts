// The operator chart and the controller agree: the flags and environment the chart gives the
// operator container are accepted by the controller's own parsers, and the files the chart ships
// in ConfigMaps, laid out as the pod mounts them, are what the operator reads. No cluster needed
// (`helm template` only).
import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { parse } from "yaml";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGatewayFiles, readKernelFiles } from "../../../controller/src/gateways/files.ts";
import { OPERATOR_RULES, leaderElectionRules, policyRules } from "../../../controller/src/gateways/rbac.ts";
import { OPERATOR_ENV } from "../../../controller/src/operator.ts";
import { parseConfig } from "../../../controller/src/runtime/config.ts";
import { repoRoot, run } from "../cluster.ts";
import { HELMS, KUBE_VERSION, OPERATOR_CHART, TEAM_CHART, objects, template } from "./helm.ts";

async function rendered(extra: string[] = []): Promise<any[]> {
  return objects(await template(HELMS.helm3, OPERATOR_CHART, "ej-system", [], extra));
}

describe("operator chart <-> controller contract", function () {
  this.timeout(60_000);

  it("the operator container's args parse with the controller's flag parser", async () => {
    const objs = await rendered(["--set", "operator.watchNamespace=team-a", "--set", "operator.replicas=2"]);
    const dep = objs.find((o) => o.kind === "Deployment");
    const c = dep.spec.template.spec.containers[0];
    const config = parseConfig(c.args, { POD_NAME: "operator-0" });
    expect(config).to.include({ role: "operator", namespace: "team-a", leaderElect: true, leaseNamespace: "ej-system", logLevel: "info", concurrency: 4 });
    expect(config.metricsAddr.port).to.equal(8080);
    expect(c.ports[0].containerPort).to.equal(config.metricsAddr.port);
    expect(config.leaseName).to.equal("t-elastic-jupyter-operator");
  });

  it("grants OPERATOR_RULES (its ClusterRole) and leader election on the Lease the operator's args name (its Role)", async () => {
    const objs = await rendered();
    expect(objs.find((o) => o.kind === "ClusterRole").rules).to.deep.equal(policyRules(OPERATOR_RULES));
    const config = parseConfig(objs.find((o) => o.kind === "Deployment").spec.template.spec.containers[0].args, { POD_NAME: "operator-0" });
    const role = objs.find((o) => o.kind === "Role" && o.metadata.name.endsWith("-leader-election"));
    expect(role.metadata.namespace).to.equal(config.leaseNamespace);
    expect(role.rules).to.deep.equal(policyRules(leaderElectionRules(config.leaseName)));
  });

  it("sets every operator setting the controller reads from the environment", async () => {
    const dep = (await rendered()).find((o) => o.kind === "Deployment");
    const names = dep.spec.template.spec.containers[0].env.map((e: { name: string }) => e.name);
    expect(names).to.include.members([...Object.values(OPERATOR_ENV), "POD_NAME"]);
  });

  it("the gateway and kernel files, mounted as the pod mounts them, are what the operator reads", async () => {
    const objs = await rendered();
    const dep = objs.find((o) => o.kind === "Deployment");
    const c = dep.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    const root = mkdtempSync(join(tmpdir(), "ej-mount-"));
    for (const m of c.volumeMounts) {
      const vol = dep.spec.template.spec.volumes.find((v: any) => v.name === m.name);
      if (!vol.configMap) continue;
      const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === vol.configMap.name);
      const dir = join(root, m.mountPath);
      mkdirSync(dir, { recursive: true });
      for (const [k, v] of Object.entries(cm.data as Record<string, string>)) writeFileSync(join(dir, k), v);
    }
    const gateway = readGatewayFiles(join(root, env[OPERATOR_ENV.gatewayFilesDir]));
    expect(Object.keys(gateway)).to.include.members(["__init__.py", "process_proxy.py", "launch_kernel.py"]);
    const kernel = readKernelFiles(join(root, env[OPERATOR_ENV.kernelFilesDir]));
    expect(Object.keys(kernel)).to.include("bootstrap.py");
  });

  it("renders the generated CRDs unchanged, plus helm.sh/resource-policy: keep, and none with crds.install=false", async () => {
    const crds = (await rendered()).filter((o) => o.kind === "CustomResourceDefinition");
    const dir = join(repoRoot, "charts/elastic-jupyter/files/crds");
    const files = readdirSync(dir).sort();
    expect(crds.map((c) => `${c.metadata.name}.yaml`).sort()).to.deep.equal(files);
    for (const crd of crds) {
      const generated = parse(readFileSync(join(dir, `${crd.metadata.name}.yaml`), "utf8"));
      expect(crd.metadata.annotations).to.deep.equal({ "helm.sh/resource-policy": "keep" });
      delete crd.metadata.annotations;
      expect(crd, crd.metadata.name).to.deep.equal(generated);
    }
    expect((await rendered(["--set", "crds.install=false"])).filter((o) => o.kind === "CustomResourceDefinition")).to.have.length(0);
  });

  it("both charts' appVersion is the controller's version (the default image tag)", () => {
    const controller = JSON.parse(readFileSync(join(repoRoot, "controller/package.json"), "utf8")).version;
    for (const chart of [OPERATOR_CHART, TEAM_CHART]) {
      expect(parse(readFileSync(join(chart, "Chart.yaml"), "utf8")).appVersion, chart).to.equal(controller);
    }
  });

  it("the ServiceMonitor renders only where its CRD is served, and says so otherwise", async () => {
    const on = ["--set", "operator.metrics.serviceMonitor.enabled=true"];
    const objs = await rendered([...on, "--api-versions", "monitoring.coreos.com/v1/ServiceMonitor"]);
    const sm = objs.find((o) => o.kind === "ServiceMonitor");
    expect(sm.spec.endpoints[0]).to.include({ port: "metrics", path: "/metrics" });
    const r = await run(HELMS.helm3, ["template", "t", OPERATOR_CHART, "--kube-version", KUBE_VERSION, ...on]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include("needs the Prometheus Operator's ServiceMonitor CRD");
  });

  it("a digest pins the images the operator hands on, and global.imageRegistry rewrites them", async () => {
    const digest = `sha256:${"c".repeat(64)}`;
    const dep = (await rendered(["--set", "global.imageRegistry=mirror.example.com", "--set", `operator.image.digest=${digest}`])).find((o) => o.kind === "Deployment");
    const c = dep.spec.template.spec.containers[0];
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    expect(c.image).to.equal(`mirror.example.com/elastic-jupyter/controller:0.1.0@${digest}`);
    expect(env[OPERATOR_ENV.sidecarImage]).to.equal(c.image);
    expect(env[OPERATOR_ENV.gatewayImage]).to.equal("mirror.example.com/elastic-jupyter/enterprise-gateway:0.1.0");
  });
});

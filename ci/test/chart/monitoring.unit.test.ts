// The operator chart's monitoring: the Grafana dashboard asks only for metrics the controller
// serves, and the sidecar PodMonitor selects exactly the gateway pods the operator labels.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HELMS, OPERATOR_CHART, objects, template } from "./helm.ts";
import { repoRoot } from "../cluster.ts";
import { Metrics } from "../../../controller/src/runtime/metrics.ts";
import { gatewaySelector } from "../../../controller/src/gateways/deployment.ts";

const DASHBOARD = join(repoRoot, "charts/elastic-jupyter-operator/files/grafana/elastic-jupyter.json");

describe("operator chart monitoring", function () {
  this.timeout(30_000);

  it("every metric the Grafana dashboard queries is one the controller registers", () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8"));
    const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr));
    const used = new Set(exprs.flatMap((e) => e.match(/elastic_jupyter_[a-z_]+/g) ?? []).map((m) => m.replace(/_(bucket|sum|count)$/, "")));
    const served = new Set(new Metrics({ defaultMetrics: false }).registry.getMetricsAsArray().map((m) => m.name));
    expect(used.size).to.be.greaterThan(5);
    expect([...used].filter((m) => !served.has(m)), "metrics the dashboard asks for that nobody serves").to.deep.equal([]);
  });

  it("the dashboard ConfigMap carries the JSON and Grafana's sidecar label; the PodMonitor selects gateway pods' metrics port", async () => {
    const objs = objects(await template(HELMS.helm3, OPERATOR_CHART, "ej-system", [], [
      "--set", "operator.metrics.grafanaDashboard.enabled=true", "--set", "operator.metrics.sidecarPodMonitor.enabled=true",
      "--api-versions", "monitoring.coreos.com/v1/PodMonitor",
    ]));
    const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name.endsWith("-dashboard"));
    expect(cm.metadata.labels.grafana_dashboard).to.equal("1");
    expect(JSON.parse(cm.data["elastic-jupyter.json"])).to.deep.equal(JSON.parse(readFileSync(DASHBOARD, "utf8")));
    const pm = objs.find((o) => o.kind === "PodMonitor");
    const gw = gatewaySelector({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterGateway", metadata: { name: "gw", namespace: "team-a" }, spec: {} });
    for (const [k, v] of Object.entries(pm.spec.selector.matchLabels)) expect(gw[k], k).to.equal(v);
    for (const e of pm.spec.selector.matchExpressions) expect(gw).to.have.property(e.key);
    expect(pm.spec.namespaceSelector).to.deep.equal({ any: true });
    expect(pm.spec.podMetricsEndpoints[0]).to.include({ port: "metrics", honorLabels: true });
  });

  it("a PodMonitor without the Prometheus Operator's CRD is a clear error, not a broken install", async () => {
    const r = await template(HELMS.helm3, OPERATOR_CHART, "ej-system", [], ["--set", "operator.metrics.sidecarPodMonitor.enabled=true"]).then(() => "", (e: Error) => e.message);
    expect(r).to.include("operator.metrics.sidecarPodMonitor.enabled needs the Prometheus Operator's PodMonitor CRD");
  });
});

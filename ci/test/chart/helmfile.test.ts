// examples/helmfile: a platform team composes the operator chart and one team chart per namespace
// with helmfile, every chart pinned by version, from a chart repository. Here the repository is
// the charts as `helm package` makes them, served over HTTP on loopback; helmfile (pinned, built by
// ci/build-tools.sh) drives the pinned Helm 3. The operator then runs as the installed release
// deploys it, and both teams' gateways reach Ready.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseDocument } from "yaml";
import { getJson, kubectl, repoRoot, run, testCluster } from "../cluster.ts";
import { waitForReady } from "../../../controller/test/gateways/operator-harness.ts";
import { installCrds } from "../../../controller/test/testing/crds.ts";
import { HELMS, OPERATOR_CHART, TEAM_CHART } from "./helm.ts";
import { runChartOperator, type ChartOperator } from "./chart-operator.ts";

const HELMFILE = join(repoRoot, "examples/helmfile/helmfile.yaml.gotmpl");
const TEAMS = ["team-a", "team-b"];
const OPERATOR_NS = "elastic-jupyter-system";

function helmfileBin(): string {
  const versions = Object.fromEntries(readFileSync(join(repoRoot, "ci/versions.env"), "utf8").split("\n").map((l) => /^(\w+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
  return join(dirname(dirname(dirname(HELMS.helm3))), `helmfile-${versions.HELMFILE_VERSION}`, "bin/helmfile");
}

describe("helmfile: the operator chart and two team charts, pinned by version, from a chart repository", function () {
  this.timeout(600_000);
  let server: Server;
  let repo: string;
  let operator: ChartOperator | undefined;
  const env = () => ({ ...process.env, EJ_CHART_REPOSITORY: repo, KUBECONFIG: testCluster.kubeconfig, PATH: `${dirname(HELMS.helm3)}:${process.env.PATH}`, HELMFILE_UPGRADE_NOTICE_DISABLED: "1" });
  const helmfile = (args: string[]) => run(helmfileBin(), ["--file", HELMFILE, ...args], { env: env(), timeoutMs: 300_000 });

  before(async () => {
    // The chart repository: the packaged charts and their index, as a registry would serve them.
    const dir = mkdtempSync(join(tmpdir(), "ej-charts-"));
    for (const chart of [OPERATOR_CHART, TEAM_CHART]) execFileSync(HELMS.helm3, ["package", chart, "--destination", dir]);
    server = createServer((req, res) => {
      try { res.end(readFileSync(join(dir, (req.url ?? "/").replace(/^\/+/, "").replace(/\.\./g, "")))); } catch { res.statusCode = 404; res.end(); }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    repo = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    execFileSync(HELMS.helm3, ["repo", "index", dir, "--url", repo]);
    // Other suites applied the CRDs with kubectl: the operator release takes them over.
    await installCrds();
  });

  after(async () => {
    await operator?.stop();
    await helmfile(["destroy"]);
    server?.close();
    await kubectl(["delete", "namespace", OPERATOR_NS, ...TEAMS, "--wait=false"]);
  });

  it("helmfile sync installs the pinned versions; the operator brings both teams' gateways to Ready, team A serving team B", async () => {
    const sync = await helmfile(["sync", "--args", "--take-ownership"]);
    expect(sync.code, sync.stderr + sync.stdout).to.equal(0);
    const version = (parseDocument(readFileSync(join(TEAM_CHART, "Chart.yaml"), "utf8")).toJS() as { version: string }).version;
    const releases = JSON.parse((await run(HELMS.helm3, ["list", "-A", "-o", "json", "--kubeconfig", testCluster.kubeconfig])).stdout) as { name: string; namespace: string; chart: string; status: string }[];
    const ours = releases.filter((r) => [OPERATOR_NS, ...TEAMS].includes(r.namespace)).map((r) => `${r.namespace}/${r.name} ${r.chart} ${r.status}`).sort();
    expect(ours).to.deep.equal([
      `${OPERATOR_NS}/elastic-jupyter-operator elastic-jupyter-operator-${version} deployed`,
      ...TEAMS.map((t) => `${t}/jupyter elastic-jupyter-${version} deployed`),
    ]);

    operator = await runChartOperator(OPERATOR_NS);
    for (const team of TEAMS) {
      await waitForReady("jupytergateway", team, "enterprise-gateway", "True", undefined, 120_000);
      const gw = await getJson<any>(["-n", team, "get", "jupytergateway", "enterprise-gateway"]);
      expect(gw.spec.kernels).to.deep.equal(["python", "python-gpu"]);
    }
    expect((await getJson<any>(["-n", "team-a", "get", "jupytergateway", "enterprise-gateway"])).spec.allowedNamespaces).to.deep.equal(["team-b"]);
    expect((await getJson<any>(["-n", "team-b", "get", "jupytergateway", "enterprise-gateway"])).spec.allowedNamespaces).to.equal(undefined);
    const errors = operator.process.lines.filter((l) => l.level === "error");
    expect(errors, JSON.stringify(errors.slice(0, 3))).to.deep.equal([]);
  });
});

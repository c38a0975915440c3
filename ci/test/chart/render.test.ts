// `helm template` output of both charts, with the default values and every example, is checked by
// the real API server: a server-side dry-run with strict field validation (unknown or misplaced
// fields fail) in a namespace that enforces (and warns about) the restricted Pod Security Standard.
// The operator chart is installed there for real first: its CRDs let the team chart's resources be
// validated, and its pod must be admitted under `restricted`.
import { expect } from "chai";
import { join } from "node:path";
import { freshNamespace, getJson, kubectl, kubectlOk, waitFor } from "../cluster.ts";
import { EXAMPLES, HELMS, OPERATOR_CHART, TEAM_CHART, helm, installOperator, objects, operatorExamples, teamExamples, template } from "./helm.ts";

const RESTRICTED = ["enforce", "warn", "audit"].map((m) => `pod-security.kubernetes.io/${m}=restricted`);

/** Server-side dry-run of a manifest; returns kubectl's exit code and stderr (where Pod Security warnings go). */
async function dryRun(ns: string, manifest: string): Promise<{ code: number; stderr: string }> {
  const r = await kubectl(["apply", "--dry-run=server", "--validate=strict", "--namespace", ns, "-f", "-"], manifest);
  return { code: r.code, stderr: r.stderr };
}

describe("chart manifests: server-side dry-run and restricted Pod Security", function () {
  this.timeout(600_000);
  let ns: string;

  before(async () => {
    ns = await freshNamespace("chart-render");
    await kubectlOk(["label", "namespace", ns, ...RESTRICTED]);
    await installOperator(HELMS.helm3, "render-operator", ns);
  });
  after(async () => {
    await helm(HELMS.helm3, ["uninstall", "render-operator", "--namespace", ns, "--wait"]);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("the operator chart's pod is admitted under restricted and runs as non-root with a read-only root", async () => {
    const pods = await waitFor("operator pod", async () => {
      const list = await getJson(["get", "pods", "-n", ns, "-l", "app.kubernetes.io/component=operator"]);
      return list.items.length > 0 ? list.items : undefined;
    });
    const pod = pods[0];
    expect(pod.spec.securityContext).to.include({ runAsNonRoot: true });
    expect(pod.spec.securityContext.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
    const c = pod.spec.containers[0].securityContext;
    expect(c).to.deep.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
  });

  for (const [name, bin] of Object.entries(HELMS)) {
    const cases: { chart: string; label: string; files: string[] }[] = [
      { chart: OPERATOR_CHART, label: "operator chart, default values", files: [] },
      ...operatorExamples().map((f) => ({ chart: OPERATOR_CHART, label: `operator chart, examples/values/operator/${f}`, files: [join(EXAMPLES, "operator", f)] })),
      { chart: TEAM_CHART, label: "team chart, default values", files: [] },
      ...teamExamples().map((f) => ({ chart: TEAM_CHART, label: `team chart, examples/values/${f}`, files: [join(EXAMPLES, f)] })),
    ];
    for (const c of cases) {
      it(`${name}: ${c.label} passes a strict server-side dry-run with no Pod Security warning`, async () => {
        const manifest = await template(bin, c.chart, ns, c.files);
        const kinds = objects(manifest).map((o) => o.kind);
        expect(kinds.length, "rendered nothing").to.be.greaterThan(3);
        const r = await dryRun(ns, manifest);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stderr).to.not.match(/would violate PodSecurity|unknown field|duplicate field/);
      });
    }
  }

  it("the check can fail: a pod spec outside restricted (hostNetwork through extraPodSpec) draws a Pod Security warning", async () => {
    const manifest = await template(HELMS.helm3, OPERATOR_CHART, ns, [], ["--set", "operator.extraPodSpec.hostNetwork=true"]);
    const r = await dryRun(ns, manifest);
    expect(r.stderr).to.match(/would violate PodSecurity "restricted:latest": host namespaces \(hostNetwork=true\)/);
  });

  it("the check can fail: a misspelt field in a rendered object is rejected by strict validation", async () => {
    const manifest = (await template(HELMS.helm3, TEAM_CHART, ns)).replace("cullIdleTimeout: 3600", "cullIdleTimeoutt: 3600");
    const r = await dryRun(ns, manifest);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.match(/unknown field "spec.cullIdleTimeoutt"/);
  });
});

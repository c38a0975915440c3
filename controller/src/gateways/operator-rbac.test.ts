// The operator's own permissions (OPERATOR_RULES, what the chart's ClusterRole must hold) are
// enough: the operator runs here as a ServiceAccount bound to exactly those rules, not as admin,
// and still brings a gateway, a notebook and a kernelspec to Ready (creating the gateway's Role
// included, which Kubernetes allows only to a subject holding every permission it grants).
import { expect } from "chai";
import { freshNamespace, kubectl, kubectlOk } from "../../../ci/test/cluster.ts";
import type { ControllerProcess } from "../testing/controller-process.ts";
import { serviceAccountKubeconfig, startOperator, waitForReady } from "./operator-harness.ts";
import { OPERATOR_RULES } from "./rbac.ts";

const API = "kubeflow.tkestack.io/v1alpha1";

describe("operator: runs with only OPERATOR_RULES", function () {
  this.timeout(90_000);
  let ns: string;
  let operator: ControllerProcess;
  const clusterRole = `ej-operator-test-${Math.random().toString(36).slice(2, 8)}`;

  before(async () => {
    ns = await freshNamespace("oprbac");
    await kubectlOk(["create", "serviceaccount", "operator", "-n", ns]);
    await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: clusterRole }, rules: OPERATOR_RULES }));
    await kubectlOk(["create", "clusterrolebinding", clusterRole, `--clusterrole=${clusterRole}`, `--serviceaccount=${ns}:operator`]);
    const kubeconfig = await serviceAccountKubeconfig(ns, "operator");
    // Leader election on, as deployed: the Lease permissions are exercised too.
    operator = await startOperator(ns, { kubeconfig, leaderElect: true, env: { EJ_LEASE_NAMESPACE: ns } });
  });
  after(async () => {
    await operator?.stop();
    await kubectl(["delete", "clusterrolebinding,clusterrole", clusterRole]);
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  it("reconciles every kind to Ready without a permission error", async () => {
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterKernelTemplate", metadata: { name: "tpl" }, spec: { template: { spec: { containers: [{ name: "kernel" }] } } } }));
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterKernelSpec", metadata: { name: "py" }, spec: { language: "python", image: "img", template: { name: "tpl" } } }));
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterGateway", metadata: { name: "gw" }, spec: { kernels: ["py"] } }));
    await kubectlOk(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: API, kind: "JupyterNotebook", metadata: { name: "nb" }, spec: { gateway: { name: "gw" } } }));
    for (const [kind, name] of [["jupyterkerneltemplate", "tpl"], ["jupyterkernelspec", "py"], ["jupytergateway", "gw"], ["jupyternotebook", "nb"]] as const) {
      await waitForReady(kind, ns, name, "True", undefined, 60_000);
    }
    await kubectlOk(["get", "role,rolebinding", "gw", "-n", ns]);
    await kubectlOk(["get", "secret", "nb-token", "gw-gateway-token", "-n", ns]);
    const errors = operator.lines.filter((l) => l.level === "error");
    expect(errors, JSON.stringify(errors.slice(0, 3))).to.deep.equal([]);
  });
});

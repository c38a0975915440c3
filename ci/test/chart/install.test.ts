// Installs against the real API server, Helm 3 and Helm 4: the operator chart once (in a namespace
// enforcing restricted Pod Security), then every team example in its own restricted namespace,
// each followed by `helm test`. On kwok's fake nodes no container runs: kwok marks the test pods
// Succeeded (ci/kwok/pod-complete-helm-hook.yaml), so a passing `helm test` here proves the hooks'
// wiring (names, ports, image, security context admitted under restricted), not that the gateway
// answers; files/tests/check-http.mjs itself is tested in check-http.unit.test.ts, and the
// end-to-end suite proves the behaviour.
import { expect } from "chai";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { GATEWAY_RULES } from "../../../controller/src/gateways/rbac.ts";
import { ADMISSION_RECORD_NAME } from "../../../controller/src/kernels/admission-record.ts";
import { freshNamespace, getJson, kubectl, kubectlOk } from "../cluster.ts";
import { EXAMPLES, HELMS, OPERATOR_CHART, TEAM_CHART, helm, helmOk, installOperator, teamExamples } from "./helm.ts";

const RESTRICTED = ["enforce", "warn"].map((m) => `pod-security.kubernetes.io/${m}=restricted`);

async function restrictedNamespace(prefix: string): Promise<string> {
  const ns = await freshNamespace(prefix);
  await kubectlOk(["label", "namespace", ns, ...RESTRICTED]);
  return ns;
}

/** `kubectl auth can-i` as a ServiceAccount: true for yes. */
async function canI(sa: string, saNs: string, verb: string, resource: string, ns?: string): Promise<boolean> {
  // "pods/exec" would read as TYPE/NAME: a subresource goes in its own flag.
  const [res, sub] = resource.includes(".") || !resource.includes("/") ? [resource, undefined] : resource.split("/");
  const r = await kubectl(["auth", "can-i", verb, res!, ...(sub ? [`--subresource=${sub}`] : []), `--as=system:serviceaccount:${saNs}:${sa}`, ...(ns ? ["-n", ns] : ["--all-namespaces"])]);
  return r.stdout.trim() === "yes";
}

describe("chart install on the real API server", function () {
  this.timeout(900_000);

  describe("operator chart: least-privilege RBAC", () => {
    let ns: string;
    const release = "rbac-op";
    const sa = "rbac-op-elastic-jupyter-operator";
    before(async () => {
      ns = await restrictedNamespace("chart-op");
      await installOperator(HELMS.helm3, release, ns);
    });
    after(async () => {
      await helm(HELMS.helm3, ["uninstall", release, "--namespace", ns, "--wait"]);
      await kubectl(["delete", "namespace", ns, "--wait=false"]);
    });

    it("may do, in any namespace, everything the Role it creates for a gateway grants (RBAC lets it grant only what it holds)", async () => {
      const missing: string[] = [];
      for (const rule of GATEWAY_RULES) {
        for (const group of rule.apiGroups ?? []) for (const res of rule.resources ?? []) for (const verb of rule.verbs) for (const name of rule.resourceNames ?? [undefined]) {
          const [plural, sub] = res.split("/");
          const resource = (group ? `${plural}.${group}` : plural!) + (name ? `/${name}` : "");
          const r = await kubectl(["auth", "can-i", verb, resource, ...(sub ? [`--subresource=${sub}`] : []), `--as=system:serviceaccount:${ns}:${sa}`, "-n", "some-team"]);
          if (r.stdout.trim() !== "yes") missing.push(`${verb} ${group}/${res}${name ? ` named ${name}` : ""}`);
        }
      }
      expect(missing, "the operator could not create the gateway's Role").to.deep.equal([]);
    });

    it("may apply what it renders (Deployments, Services, ServiceAccounts, ConfigMaps, Roles, RoleBindings), write status, create token Secrets", async () => {
      for (const res of ["deployments.apps", "services", "serviceaccounts", "configmaps", "roles.rbac.authorization.k8s.io", "rolebindings.rbac.authorization.k8s.io"]) {
        for (const verb of ["list", "watch", "create", "patch"]) expect(await canI(sa, ns, verb, res, "some-team"), `${verb} ${res}`).to.equal(true);
      }
      expect(await canI(sa, ns, "create", "secrets", "some-team")).to.equal(true);
      expect(await canI(sa, ns, "delete", "serviceaccounts", "some-team"), "a gateway's replaced ServiceAccount").to.equal(true);
      for (const kind of ["jupytergateways", "jupyternotebooks", "jupyterkernelspecs", "jupyterkerneltemplates"]) {
        const r = await kubectl(["auth", "can-i", "patch", `${kind}.kubeflow.tkestack.io`, "--subresource=status", `--as=system:serviceaccount:${ns}:${sa}`, "-n", "some-team"]);
        expect(r.stdout.trim(), `patch ${kind}/status`).to.equal("yes");
      }
      expect(await canI(sa, ns, "patch", "jupytergateways.kubeflow.tkestack.io", "some-team"), "patch gateways: only their status").to.equal(false);
    });

    it("holds its leader Lease in its own namespace only; elsewhere only the GPU admission record", async () => {
      expect(await canI(sa, ns, "update", `leases.coordination.k8s.io/${release}-elastic-jupyter-operator`, ns)).to.equal(true);
      expect(await canI(sa, ns, "update", `leases.coordination.k8s.io/${release}-elastic-jupyter-operator`, "some-team")).to.equal(false);
      expect(await canI(sa, ns, "update", "leases.coordination.k8s.io/someone-else", ns)).to.equal(false);
      // Direct kernels' GPU admissions (kernels/admission-record.ts): the record in any namespace, no other Lease.
      expect(await canI(sa, ns, "update", `leases.coordination.k8s.io/${ADMISSION_RECORD_NAME}`, "some-team")).to.equal(true);
      expect(await canI(sa, ns, "update", "leases.coordination.k8s.io/kube-scheduler", "kube-system")).to.equal(false);
      expect(await canI(sa, ns, "get", "leases.coordination.k8s.io/kube-scheduler", "kube-system")).to.equal(false);
    });

    it("may not do what it never needs: rewrite Secrets, touch CRDs, nodes, namespaces or cluster RBAC", async () => {
      const forbidden: [string, string][] = [
        ["update", "secrets"], ["create", "customresourcedefinitions.apiextensions.k8s.io"],
        ["list", "nodes"], ["delete", "namespaces"], ["create", "clusterroles.rbac.authorization.k8s.io"],
        ["create", "clusterrolebindings.rbac.authorization.k8s.io"], ["escalate", "roles.rbac.authorization.k8s.io"],
        ["bind", "roles.rbac.authorization.k8s.io"], ["create", "pods/exec"], ["update", "jupyterkernels.kubeflow.tkestack.io"],
        ["update", "deployments.apps"], ["delete", "deployments.apps"], ["delete", "configmaps"],
      ];
      const granted = [];
      for (const [verb, res] of forbidden) if (await canI(sa, ns, verb, res)) granted.push(`${verb} ${res}`);
      expect(granted).to.deep.equal([]);
    });

    it("with operator.watchNamespace, its permissions are bound in that namespace only", async () => {
      const watched = await freshNamespace("chart-watched");
      const wns = await restrictedNamespace("chart-op1");
      try {
        await helmOk(HELMS.helm3, ["install", "one-ns", OPERATOR_CHART, "-n", wns, "--take-ownership", "--set", `operator.watchNamespace=${watched}`, "--set", "crds.install=false"]);
        const wsa = "one-ns-elastic-jupyter-operator";
        expect(await canI(wsa, wns, "create", "deployments.apps", watched)).to.equal(true);
        expect(await canI(wsa, wns, "create", "deployments.apps", "some-team")).to.equal(false);
        const dep = await getJson(["get", "deployment", wsa, "-n", wns]);
        expect(dep.spec.template.spec.containers[0].args).to.include(`--namespace=${watched}`);
      } finally {
        await helm(HELMS.helm3, ["uninstall", "one-ns", "-n", wns, "--wait"]);
        await kubectl(["delete", "namespace", watched, wns, "--wait=false"]);
      }
    });
  });

  for (const [name, bin] of Object.entries(HELMS)) {
    describe(`${name}: every team example installs under restricted Pod Security and its helm test passes`, () => {
      let opNs: string;
      before(async () => {
        opNs = await restrictedNamespace(`chart-${name}-op`);
        await installOperator(bin, `${name}-op`, opNs);
      });
      after(async () => {
        await helm(bin, ["uninstall", `${name}-op`, "--namespace", opNs, "--wait"]);
        await kubectl(["delete", "namespace", opNs, "--wait=false"]);
      });

      for (const file of ["(defaults)", ...teamExamples()]) {
        it(`${file}: install, helm test, the custom resources say what the values say, uninstall`, async () => {
          const values = file === "(defaults)" ? {} : parse(readFileSync(join(EXAMPLES, file), "utf8")) ?? {};
          const ns = await restrictedNamespace(`chart-${name}-team`);
          const release = "jupyter";
          try {
            await helmOk(bin, ["install", release, TEAM_CHART, "-n", ns, "--wait", "--timeout", "120s", ...(file === "(defaults)" ? [] : ["-f", join(EXAMPLES, file)])]);
            const test = await helm(bin, ["test", release, "-n", ns, "--timeout", "120s"]);
            expect(test.code, test.stderr + test.stdout).to.equal(0);
            const notebooks = (values.notebooks ?? [{ name: "notebook" }]) as { name: string }[];
            expect((test.stdout.match(/Phase:\s+Succeeded/g) ?? []).length, test.stdout).to.equal(1 + notebooks.length);

            const gws = await getJson(["get", "jupytergateways", "-n", ns]);
            expect(gws.items.map((g: any) => g.metadata.name)).to.deep.equal([values.gateway?.name ?? "enterprise-gateway"]);
            const gw = gws.items[0];
            const registry = values.global?.imageRegistry;
            // No pinned sidecar: the operator gives the gateway its own image, so upgrading it upgrades every sidecar.
            expect(gw.spec.sidecar?.image, "sidecar image left to the operator").to.equal(values.gateway?.sidecar?.image);
            const nbs = await getJson(["get", "jupyternotebooks", "-n", ns]);
            expect(nbs.items.map((n: any) => n.metadata.name).sort()).to.deep.equal(notebooks.map((n) => n.name).sort());
            for (const nb of nbs.items) expect(nb.spec.gateway.name, "notebooks default to the chart's gateway").to.equal(gw.metadata.name);
            const specs = await getJson(["get", "jupyterkernelspecs", "-n", ns]);
            expect(specs.items.map((s: any) => s.metadata.name).sort()).to.deep.equal(((values.kernelSpecs ?? [{ name: "python-kubernetes" }, { name: "python-gpu" }]) as { name: string }[]).map((s) => s.name).sort());
            if (values.imagePullSecrets) {
              // Names or {name: ...}: both mean the same Secret.
              const pullSecrets = (values.imagePullSecrets as (string | { name: string })[]).map((p) => ({ name: typeof p === "string" ? p : p.name }));
              expect(gw.spec.serviceAccountName).to.equal(`${gw.metadata.name}-gateway`);
              const sa = await getJson(["get", "serviceaccount", gw.spec.serviceAccountName, "-n", ns]);
              expect(sa.imagePullSecrets).to.deep.equal(pullSecrets);
              for (const nb of nbs.items) expect(nb.spec.template.spec.imagePullSecrets).to.deep.equal(pullSecrets);
              for (const ks of specs.items) expect(ks.spec.imagePullSecrets, `kernelspec ${ks.metadata.name}`).to.deep.include.members(pullSecrets);
            }
            if (registry) {
              const digest = values.gateway?.image?.digest;
              expect(gw.spec.image).to.match(new RegExp(`^${registry}/elastic-jupyter/enterprise-gateway:0\\.1\\.0${digest ? `@${digest}` : ""}$`));
              for (const ks of specs.items) expect(ks.spec.image, `kernelspec ${ks.metadata.name}`).to.match(new RegExp(`^${registry}/`));
            }
            const policies = await getJson(["get", "networkpolicies", "-n", ns]);
            expect(policies.items.length, "gateway, kernels, notebooks, tests").to.equal(4);
          } finally {
            await helm(bin, ["uninstall", release, "-n", ns, "--wait"]);
            const left = await kubectl(["get", "jupytergateways,jupyternotebooks,jupyterkernelspecs,jupyterkerneltemplates", "-n", ns, "-o", "name"]);
            expect(left.stdout.trim(), "uninstall removes the release's own resources").to.equal("");
            await kubectl(["delete", "namespace", ns, "--wait=false"]);
          }
        });
      }
    });
  }

  describe("a values typo fails the install and the message names the key", () => {
    for (const [name, bin] of Object.entries(HELMS)) {
      it(`${name}: team chart, gateway.culIdleTimeout`, async () => {
        const ns = await freshNamespace("chart-typo");
        try {
          const r = await helm(bin, ["install", "typo", TEAM_CHART, "-n", ns, "--set", "gateway.culIdleTimeout=60"]);
          expect(r.code).to.not.equal(0);
          expect(r.stderr).to.include("values don't meet the specifications of the schema");
          expect(r.stderr).to.match(/gateway.*additional properties 'culIdleTimeout' not allowed/s);
          const releases = await helm(bin, ["list", "-n", ns, "-a", "-q"]);
          expect(releases.stdout.trim(), "no release was recorded").to.equal("");
        } finally {
          await kubectl(["delete", "namespace", ns, "--wait=false"]);
        }
      });
      it(`${name}: operator chart, operator.replica`, async () => {
        const ns = await freshNamespace("chart-typo");
        try {
          const r = await helm(bin, ["install", "typo", OPERATOR_CHART, "-n", ns, "--set", "operator.replica=2"]);
          expect(r.code).to.not.equal(0);
          expect(r.stderr).to.match(/operator.*additional properties 'replica' not allowed/s);
        } finally {
          await kubectl(["delete", "namespace", ns, "--wait=false"]);
        }
      });
    }
  });
});

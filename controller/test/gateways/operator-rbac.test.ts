// The operator runs with the operator chart's own RBAC, and every ServiceAccount in play may do
// exactly what its rules say. The chart is installed with Helm; its operator pod lands on a kwok
// node and never runs, so the operator runs here as a local process with a token of the
// ServiceAccount the chart created, leader election on with the chart's Lease. SEED's examples,
// applied in a fresh namespace, must reach Ready without an error. Then `kubectl auth can-i
// --list` reports what each ServiceAccount may do: the operator's (in its release namespace and in
// a namespace it has nothing in), each gateway's, and the namespace's `default` one that notebook
// and kernel pods run as, without its token. Anything beyond or short of the expected rules
// fails. The observed table is docs/security/service-accounts.md; EJ_UPDATE_DOCS=1 rewrites it.
import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { freshNamespace, getJson, kubectl, kubectlOk, repoRoot, waitFor } from "../../../ci/test/cluster.ts";
import { HELMS, helm, installOperator } from "../../../ci/test/chart/helm.ts";
import {
  type Grant, type ServiceAccountSection, expectedPermissions, explainedRows, grantsBeyond, lineDiff, parseCanIList, permissionDrift, permissions,
  serviceAccountsDoc,
} from "../../../ci/test/service-accounts.ts";
import type { ControllerProcess } from "../testing/controller-process.ts";
import { serviceAccountKubeconfig, startOperator, startSidecar, waitForReady } from "./operator-harness.ts";
import { OPERATOR_RULES, gatewayRules, leaderElectionRules, type ExplainedRule } from "../../src/gateways/rbac.ts";
import { NOTEBOOK_DIRECT_RULES } from "../../src/notebooks/direct.ts";

/** The release name the README installs with: also the operator's ServiceAccount and Lease. */
const RELEASE = "elastic-jupyter-operator";
const SEED_DIRS = ["examples/elastic", "examples/elastic-with-custom-kernels"];
const GATEWAYS = ["jupytergateway-elastic", "jupytergateway-elastic-with-custom-kernels"];
/** A direct-mode notebook (docs/direct-mode.md): the operator gives it a ServiceAccount of its own. */
const DIRECT_NOTEBOOK = "nb-direct";
const READY: [string, string][] = [
  ["jupyterkerneltemplate", "jupyterkerneltemplate-elastic-with-custom-kernels"], ["jupyterkernelspec", "python-kubernetes"],
  ...GATEWAYS.map((g): [string, string] => ["jupytergateway", g]),
  ["jupyternotebook", "jupyternotebook-elastic"], ["jupyternotebook", "jupyternotebook-elastic-with-custom-kernels"],
];
const DOC = "docs/security/service-accounts.md";

/** What the API server's bootstrap ClusterRoles give every authenticated user and every ServiceAccount. */
const API_SERVER_DEFAULTS: ExplainedRule[] = [
  { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"], why: "system:basic-user (every authenticated user): who am I." },
  { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], verbs: ["create"], why: "system:basic-user (every authenticated user): what may I do." },
  {
    nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*", "/healthz", "/livez", "/readyz", "/version", "/version/"], verbs: ["get"],
    why: "system:discovery and system:public-info-viewer (every authenticated user): API discovery, health and version.",
  },
  {
    nonResourceURLs: ["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"], verbs: ["get"],
    why: "system:service-account-issuer-discovery (every ServiceAccount): the token issuer's discovery document and keys.",
  },
];

/** SEED's manifests, their explicit `namespace: default` pointed at the test's namespace. */
function seedManifests(ns: string): string[] {
  return SEED_DIRS.flatMap((d) => readdirSync(join(repoRoot, d)).filter((f) => f.endsWith(".yaml")).sort()
    .map((f) => readFileSync(join(repoRoot, d, f), "utf8").replace(/namespace: default\b/g, `namespace: ${ns}`)));
}

async function canIList(serviceAccount: string, saNamespace: string, namespace: string): Promise<Grant[]> {
  return parseCanIList(await kubectlOk(["auth", "can-i", "--list", `--as=system:serviceaccount:${saNamespace}:${serviceAccount}`, "-n", namespace]));
}

/** A pod spec's ServiceAccount and whether it gets its token. */
function podIdentity(spec: any): { serviceAccount: string; token: boolean } {
  const projected = (spec.volumes ?? []).some((v: any) => (v.projected?.sources ?? []).some((s: any) => s.serviceAccountToken));
  return { serviceAccount: spec.serviceAccountName ?? "default", token: spec.automountServiceAccountToken !== false || projected };
}

describe("operator chart RBAC: the operator with the chart's ServiceAccount, and what every ServiceAccount may do", function () {
  this.timeout(300_000);
  let opNs: string;
  let teamNs: string;
  let otherNs: string;
  let operatorSa: string;
  let leaseName: string;
  let operator: ControllerProcess | undefined;
  /** ServiceAccount name -> the pods that run as it, for the table's "where it is used". */
  const usedBy = new Map<string, { what: string; token: boolean }[]>();
  const observed = new Map<string, Grant[]>();

  const addUse = (serviceAccount: string, what: string, token: boolean) => {
    const uses = usedBy.get(serviceAccount) ?? [];
    if (!uses.some((u) => u.what === what && u.token === token)) uses.push({ what, token });
    usedBy.set(serviceAccount, uses);
  };

  before(async () => {
    opNs = await freshNamespace("oprbac-op");
    teamNs = await freshNamespace("oprbac-team");
    otherNs = await freshNamespace("oprbac-other");
    // CRDs: startOperator applies them as the other suites do (the chart's copy would fight them
    // over field ownership).
    await installOperator(HELMS.helm3, RELEASE, opNs, ["--set", "crds.install=false"]);
    const deployment = await getJson(["get", "deployment", RELEASE, "-n", opNs]);
    const pod = deployment.spec.template.spec;
    const flag = (name: string) => (pod.containers[0].args as string[]).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
    const identity = podIdentity(pod);
    operatorSa = identity.serviceAccount;
    leaseName = flag("lease-name")!;
    addUse(operatorSa, `the operator chart's Deployment \`${deployment.metadata.name}\``, identity.token);
    operator = await startOperator(teamNs, {
      kubeconfig: await serviceAccountKubeconfig(opNs, operatorSa),
      leaderElect: flag("leader-elect") === "true",
      env: { EJ_LEASE_NAME: leaseName, EJ_LEASE_NAMESPACE: flag("lease-namespace") },
    });
  });
  after(async () => {
    await operator?.stop();
    if (opNs) await helm(HELMS.helm3, ["uninstall", RELEASE, "--namespace", opNs, "--wait"]);
    await kubectl(["delete", "namespace", ...[opNs, teamNs, otherNs].filter(Boolean), "--wait=false"]);
  });

  it("brings SEED's examples to Ready as the chart's ServiceAccount (leader election included), without an error", async () => {
    for (const manifest of seedManifests(teamNs)) await kubectlOk(["apply", "-n", teamNs, "-f", "-"], manifest);
    for (const [kind, name] of READY) await waitForReady(kind, teamNs, name, "True", undefined, 60_000);
    // A direct-mode notebook: its ServiceAccount, Role and RoleBinding come from the operator too.
    await kubectlOk(["apply", "-n", teamNs, "-f", "-"], JSON.stringify({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterNotebook", metadata: { name: DIRECT_NOTEBOOK }, spec: { direct: {} } }));
    await waitFor("the operator to create the direct notebook's RoleBinding", async () => (await kubectl(["get", "rolebinding", `${DIRECT_NOTEBOOK}-notebook`, "-n", teamNs])).code === 0, 60_000);
    // A gateway given its own ServiceAccount: the operator deletes the one it made. (Left in place:
    // deleting it mid-reconcile can fail a status write with 404, which the log reports as an error.)
    await kubectlOk(["apply", "-n", teamNs, "-f", "-"], JSON.stringify({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterGateway", metadata: { name: "gw-own-sa" }, spec: {} }));
    await waitFor("the operator to create gw-own-sa's ServiceAccount", async () => (await kubectl(["get", "serviceaccount", "gw-own-sa", "-n", teamNs])).code === 0, 60_000);
    await kubectlOk(["patch", "jupytergateway", "gw-own-sa", "-n", teamNs, "--type=merge", "-p", JSON.stringify({ spec: { serviceAccountName: "gw-own-sa-named" } })]);
    await waitFor("the operator to delete gw-own-sa's ServiceAccount", async () => (await kubectl(["get", "serviceaccount", "gw-own-sa", "-n", teamNs])).code !== 0, 60_000);
    // The leader renews its Lease every retry period (a PUT): one renewal proves the Role allows it.
    await waitFor("the operator to renew its Lease", async () => {
      const lease = await getJson(["get", "lease", leaseName, "-n", opNs]);
      return lease.spec.holderIdentity && lease.spec.renewTime !== lease.spec.acquireTime;
    }, 15_000);

    expect(operator!.lines.some((l) => l.msg === "became leader"), `log: ${operator!.logFile}`).to.equal(true);
    const problems = operator!.lines.filter((l) => l.level === "error" || /forbidden/i.test(JSON.stringify(l)));
    expect(problems, `log: ${operator!.logFile}`).to.deep.equal([]);
  });

  it("runs gateway pods as the gateway's ServiceAccount, notebook and kernel pods as `default` without its token", async () => {
    for (const gw of GATEWAYS) {
      const identity = podIdentity((await getJson(["get", "deployment", gw, "-n", teamNs])).spec.template.spec);
      expect(identity, gw).to.deep.equal({ serviceAccount: gw, token: true });
      addUse("<gateway>", "gateway pods: Enterprise Gateway and the sidecar", identity.token);
    }
    const notebooks = await waitFor("the notebook pods", async () => {
      const pods = await getJson<{ items: any[] }>(["get", "pods", "-n", teamNs, "-l", `app.kubernetes.io/component=notebook,app.kubernetes.io/instance!=${DIRECT_NOTEBOOK}`]);
      return pods.items.length === 2 ? pods.items : undefined;
    }, 60_000);
    const directPod = await waitFor("the direct notebook's pod", async () => (await getJson<{ items: any[] }>(["get", "pods", "-n", teamNs, "-l", `app.kubernetes.io/instance=${DIRECT_NOTEBOOK}`])).items[0], 60_000);
    const directIdentity = podIdentity(directPod.spec);
    expect(directIdentity).to.deep.equal({ serviceAccount: `${DIRECT_NOTEBOOK}-notebook`, token: true });
    addUse("<notebook>-notebook", "direct-mode notebook pods: JupyterLab and the kernel provisioner", directIdentity.token);
    // The kernel pod comes from the gateway's sidecar, run here with the gateway's token.
    const sidecar = await startSidecar(teamNs, GATEWAYS[1]!, mkdtempSync(join(tmpdir(), "ej-kernels-")));
    try {
      await kubectlOk(["apply", "-n", teamNs, "-f", "-"], JSON.stringify({
        apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernel", metadata: { name: "kernel-0b7e7d3c" },
        spec: { kernelId: "0b7e7d3c-3a47-4d0b-9d63-2a1f5e0b6c11", kernelSpec: { name: "python-kubernetes" }, responseAddress: "10.0.0.1:8877", publicKey: "k", portRange: "0..0" },
      }));
      const kernel = await waitFor("the kernel pod", async () => {
        const k = await getJson(["get", "jupyterkernel", "kernel-0b7e7d3c", "-n", teamNs]);
        return k.status?.podName ? k : undefined;
      }, 60_000);
      const kernelPod = await getJson(["get", "pod", kernel.status.podName, "-n", teamNs]);
      for (const [what, pod] of [...notebooks.map((p) => ["notebook pods", p] as const), ["kernel pods", kernelPod] as const]) {
        const identity = podIdentity(pod.spec);
        expect(identity, `${what}: ${pod.metadata.name}`).to.deep.equal({ serviceAccount: "default", token: false });
        addUse(identity.serviceAccount, what, identity.token);
      }
    } finally {
      await sidecar.stop();
    }
  });

  it("gives each ServiceAccount exactly its rules (kubectl auth can-i --list)", async () => {
    const cases: { key: string; serviceAccount: string; saNamespace: string; namespace: string; rules: ExplainedRule[] }[] = [
      { key: "operator", serviceAccount: operatorSa, saNamespace: opNs, namespace: opNs, rules: [...OPERATOR_RULES, ...leaderElectionRules(leaseName)] },
      { key: "operator elsewhere", serviceAccount: operatorSa, saNamespace: opNs, namespace: otherNs, rules: [...OPERATOR_RULES] },
      ...GATEWAYS.map((gw) => ({ key: `gateway ${gw}`, serviceAccount: gw, saNamespace: teamNs, namespace: teamNs, rules: gatewayRules(gw) })),
      { key: "gateway elsewhere", serviceAccount: GATEWAYS[1]!, saNamespace: teamNs, namespace: otherNs, rules: [] },
      { key: "default", serviceAccount: "default", saNamespace: teamNs, namespace: teamNs, rules: [] },
      { key: "direct notebook", serviceAccount: `${DIRECT_NOTEBOOK}-notebook`, saNamespace: teamNs, namespace: teamNs, rules: [...NOTEBOOK_DIRECT_RULES] },
      { key: "direct notebook elsewhere", serviceAccount: `${DIRECT_NOTEBOOK}-notebook`, saNamespace: teamNs, namespace: otherNs, rules: [] },
    ];
    const problems: string[] = [];
    for (const c of cases) {
      const grants = await canIList(c.serviceAccount, c.saNamespace, c.namespace);
      observed.set(c.key, grants);
      const { extra, missing } = permissionDrift(permissions(grants), expectedPermissions([...c.rules, ...API_SERVER_DEFAULTS]));
      const who = `${c.key} (${c.saNamespace}/${c.serviceAccount} in ${c.namespace})`;
      problems.push(...extra.map((p) => `${who} may ${p}: more than its rules`), ...missing.map((p) => `${who} may not ${p}: its rules say it may`));
    }
    expect(problems).to.deep.equal([]);
  });

  it(`${DOC} is the table of what was observed`, function () {
    if (observed.size === 0 || usedBy.size < 4) this.skip(); // the tests above failed before observing
    const rename = (text: string) => text.replaceAll(opNs, "<release namespace>").replaceAll(teamNs, "<team namespace>").replaceAll(`named \`${GATEWAYS[1]}\``, "named `<gateway>`");
    const usedByText = (sa: string) => (usedBy.get(sa) ?? []).map((u) => `${u.what} (${u.token ? "token mounted" : "no token mounted"})`).join(", ");
    const operatorHere = observed.get("operator")!;
    const elsewhere = new Set(permissions(observed.get("operator elsewhere")!));
    const onlyHere = (g: Grant) => (permissions([g]).some((p) => !elsewhere.has(p)) ? " (release namespace only)" : "");
    const sections: ServiceAccountSection[] = [
      {
        serviceAccount: `\`${operatorSa}\` in the release namespace`, usedBy: usedByText(operatorSa),
        rows: explainedRows(grantsBeyond(operatorHere, API_SERVER_DEFAULTS), [...OPERATOR_RULES, ...leaderElectionRules(leaseName)], onlyHere),
      },
      {
        serviceAccount: "`<gateway>` (the JupyterGateway's name, unless its spec.serviceAccountName names another) in the gateway's namespace",
        usedBy: usedByText("<gateway>"),
        rows: explainedRows(grantsBeyond(observed.get(`gateway ${GATEWAYS[1]}`)!, API_SERVER_DEFAULTS), gatewayRules(GATEWAYS[1]!)),
      },
      { serviceAccount: "`default` of each namespace with notebooks or kernels", usedBy: usedByText("default"), rows: explainedRows(grantsBeyond(observed.get("default")!, API_SERVER_DEFAULTS), []) },
      {
        serviceAccount: "`<notebook>-notebook` (a direct-mode JupyterNotebook's) in the notebook's namespace",
        usedBy: usedByText("<notebook>-notebook"),
        rows: explainedRows(grantsBeyond(observed.get("direct notebook")!, API_SERVER_DEFAULTS), [...NOTEBOOK_DIRECT_RULES]),
      },
    ];
    const doc = serviceAccountsDoc(
      [
        "<!-- Written by controller/test/gateways/operator-rbac.test.ts from what the API server reported; the test fails when this file differs. Rewrite it with EJ_UPDATE_DOCS=1. -->",
        "",
        `Every ServiceAccount elastic-jupyter runs as, what runs as it, and what it may do, as \`kubectl auth can-i --list\` reports it with the operator chart installed (release \`${RELEASE}\`) and SEED's examples applied in a team namespace. The operator's rules come from \`OPERATOR_RULES\` and the gateway's from \`gatewayRules\` (controller/src/gateways/rbac.ts); the operator holds the gateway's too, because Kubernetes lets it grant only what it holds. The test fails when any ServiceAccount may do more or less than this.`,
      ].join("\n"),
      sections,
      "Every ServiceAccount also holds what the API server grants every authenticated user and every ServiceAccount (its bootstrap ClusterRoles); the table above leaves these out.",
      explainedRows(observed.get("default")!, API_SERVER_DEFAULTS),
    );
    const fresh = rename(doc);
    const path = join(repoRoot, DOC);
    if (process.env.EJ_UPDATE_DOCS === "1") {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, fresh);
      return;
    }
    const committed = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (committed !== fresh) expect.fail(`${DOC} differs from what the API server reported (run with EJ_UPDATE_DOCS=1 to rewrite it):\n${lineDiff(committed, fresh)}`);
  });

  it("a notebook switched back to gateway mode loses its ServiceAccount (the right to create kernels), Role and RoleBinding", async () => {
    const direct = [["serviceaccount", `${DIRECT_NOTEBOOK}-notebook`], ["role", `${DIRECT_NOTEBOOK}-notebook`], ["rolebinding", `${DIRECT_NOTEBOOK}-notebook`]] as const;
    for (const [kind, name] of direct) expect((await kubectl(["get", kind, name, "-n", teamNs])).code, `${kind} ${name} while in direct mode`).to.equal(0);
    await kubectlOk(["patch", "jupyternotebook", DIRECT_NOTEBOOK, "-n", teamNs, "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/direct" }])]);
    for (const [kind, name] of direct) await waitFor(`${kind} ${name} to be deleted`, async () => (await kubectl(["get", kind, name, "-n", teamNs])).code !== 0, 30_000);
    const pods = await waitFor("the notebook's gateway-mode pod", async () => (await getJson<{ items: any[] }>(["get", "pods", "-n", teamNs, "-l", `app.kubernetes.io/instance=${DIRECT_NOTEBOOK}`])).items
      .filter((p) => !p.metadata.deletionTimestamp && p.spec.serviceAccountName !== `${DIRECT_NOTEBOOK}-notebook`)[0], 60_000);
    expect(podIdentity(pods.spec).token).to.equal(false);
  });
});

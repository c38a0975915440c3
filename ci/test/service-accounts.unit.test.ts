// The pieces behind docs/security/service-accounts.md, on a real `kubectl auth can-i --list` table.
import { expect } from "chai";
import { explainedRows, expectedPermissions, grantsBeyond, lineDiff, parseCanIList, permissionDrift, permissions, serviceAccountsDoc } from "./service-accounts.ts";

// kubectl 1.35, a ServiceAccount bound to a Lease Role and a status Role (rows as printed).
const CAN_I = `Resources                                       Non-Resource URLs                      Resource Names   Verbs
selfsubjectaccessreviews.authorization.k8s.io   []                                     []               [create]
leases.coordination.k8s.io                      []                                     [foo]            [get update]
                                                [/healthz]                             []               [get]
                                                [/healthz]                             []               [get]
pods/status                                     []                                     []               [patch]
deployments.apps/status                         []                                     []               [patch]
leases.coordination.k8s.io                      []                                     []               [create]
`;

const rules = [
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"], why: "Create it." },
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], resourceNames: ["foo"], verbs: ["get", "update"], why: "Renew it." },
  { apiGroups: [""], resources: ["pods/status"], verbs: ["patch"], why: "Status." },
  { apiGroups: ["apps"], resources: ["deployments/status"], verbs: ["patch"], why: "Status." },
];
const defaults = [
  { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews"], verbs: ["create"], why: "Everyone." },
  { nonResourceURLs: ["/healthz"], verbs: ["get"], why: "Health." },
];

describe("ServiceAccount permission table", () => {
  it("reads can-i --list rows: resources with names and subresources, and non-resource URLs", () => {
    const grants = parseCanIList(CAN_I);
    expect(grants).to.have.length(7);
    expect(grants[1]).to.deep.equal({ resource: "leases.coordination.k8s.io", resourceNames: ["foo"], verbs: ["get", "update"] });
    expect(grants[2]).to.deep.equal({ url: "/healthz", resourceNames: [], verbs: ["get"] });
    expect(() => parseCanIList("something else")).to.throw(/not a can-i --list table/);
  });

  it("compares held and expected permissions in kubectl's spelling, either way", () => {
    const held = permissions(parseCanIList(CAN_I));
    expect(held).to.include.members(["leases.coordination.k8s.io[foo] update", "deployments.apps/status patch", "pods/status patch", "/healthz get"]);
    expect(permissionDrift(held, expectedPermissions([...rules, ...defaults]))).to.deep.equal({ extra: [], missing: [] });
    expect(permissionDrift(held, expectedPermissions([rules[0]!, ...defaults]))).to.deep.equal({
      extra: ["deployments.apps/status patch", "leases.coordination.k8s.io[foo] get", "leases.coordination.k8s.io[foo] update", "pods/status patch"], missing: [],
    });
    expect(permissionDrift(held, expectedPermissions([...rules, ...defaults, { apiGroups: [""], resources: ["secrets"], verbs: ["get"], why: "" }])).missing).to.deep.equal(["secrets get"]);
  });

  it("explains each grant by the rules it falls under, sharing rows, in the rules' order, defaults left out", () => {
    const rows = explainedRows(grantsBeyond(parseCanIList(CAN_I), defaults), rules, (g) => (g.resource?.startsWith("leases") ? " (here)" : ""));
    expect(rows).to.deep.equal([
      { what: "`leases.coordination.k8s.io` (here)", verbs: "create", why: "Create it." },
      { what: "`leases.coordination.k8s.io` named `foo` (here)", verbs: "get, update", why: "Renew it." },
      { what: "`deployments.apps/status`, `pods/status`", verbs: "patch", why: "Status." },
    ]);
    expect(explainedRows(parseCanIList(CAN_I), [])[0]!.why).to.equal("**not expected**");
  });

  it("renders one table row per line, the ServiceAccount on its first, and a line diff for drift", () => {
    const doc = serviceAccountsDoc("Intro.", [{ serviceAccount: "`sa`", usedBy: "pods", rows: explainedRows(grantsBeyond(parseCanIList(CAN_I), defaults), rules) }, { serviceAccount: "`default`", usedBy: "x", rows: [] }], "Defaults:", []);
    expect(doc).to.include("| `sa` | pods | `leases.coordination.k8s.io` | create | Create it. |\n|  |  | `leases.coordination.k8s.io` named `foo` |");
    expect(doc).to.include("| `default` | x | nothing |  | Nothing beyond the API server's defaults below. |");
    expect(lineDiff("a\nb\nc", "a\nB\nc")).to.equal("- b\n+ B");
    expect(lineDiff("a\nb", "b\na")).to.equal("(the same lines, in another order)");
  });
});

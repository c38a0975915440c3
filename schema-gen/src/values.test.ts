// The generated values.schema.json of both charts (the team chart charts/elastic-jupyter and the
// cluster-wide charts/elastic-jupyter-operator) under real Helm 3 and Helm 4: the defaults and a
// rich values file pass; each invalid values file is rejected by `helm lint` and
// `helm install --dry-run` with a message naming the key.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { repoRoot, run, tempFile } from "../../ci/test/cluster.ts";
import { KUBE_VERSION } from "../../ci/test/chart/helm.ts";
import { CHART_DIR, OPERATOR_CHART_DIR } from "./generate.ts";
import { HINT_MARK } from "./values/hints.ts";

/** The pinned helm binaries, where ci/lib.sh (helm3_bin, helm4_bin) puts them. */
function helmBinaries(): Record<string, string> {
  const versions = Object.fromEntries(readFileSync(join(repoRoot, "ci/versions.env"), "utf8").split("\n")
    .map((l) => /^(\w+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
  const cache = process.env.EJ_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "elastic-jupyter");
  return {
    helm3: join(cache, `helm-${versions.HELM3_VERSION}`, "bin/helm"),
    helm4: join(cache, `helm-${versions.HELM4_VERSION}`, "bin/helm"),
  };
}

const charts = { team: join(repoRoot, CHART_DIR), operator: join(repoRoot, OPERATOR_CHART_DIR) };
type ChartName = keyof typeof charts;
const helms = helmBinaries();

interface Outcome { code: number; output: string }

async function lint(helm: string, chart: string, valuesFile?: string): Promise<Outcome> {
  const r = await run(helm, ["lint", chart, ...(valuesFile ? ["-f", valuesFile] : [])]);
  return { code: r.code, output: r.stdout + r.stderr };
}

async function dryRunInstall(helm: string, chart: string, valuesFile?: string): Promise<Outcome> {
  // client dry-run: renders and validates without needing the CRDs in the cluster. Helm 3 still
  // checks ownership of existing objects: CRDs a chart test left (kept on uninstall) are taken over.
  const r = await run(helm, ["install", "schema-test", chart, "--namespace", "default", "--dry-run=client", "--take-ownership", ...(valuesFile ? ["-f", valuesFile] : [])]);
  return { code: r.code, output: r.stdout + r.stderr };
}

/** Values files that use most of each model, escape hatches included. */
const richValues: Record<ChartName, object> = {
  operator: {
    global: { imageRegistry: "registry.example.com:5000" },
    operator: {
      image: { repository: "elastic-jupyter/elastic-jupyter", digest: `sha256:${"a".repeat(64)}` },
      replicas: 2,
      extraEnv: [{ name: "FOO", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      extraPodSpec: { hostNetwork: false, anythingGoes: { here: [1, 2] } },
      extraArgs: ["--lease-duration=30s"],
      podAnnotations: { "prometheus.io/scrape": "true" },
      pdb: { enabled: true, minAvailable: "50%" },
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
      resources: { limits: { cpu: 1, memory: "512Mi" } },
      watchNamespace: "team-a",
      metrics: { enabled: true, port: 9090, serviceMonitor: { enabled: false, interval: "30s", labels: { release: "prom" } } },
    },
    defaults: { gatewayImage: { repository: "elyra/enterprise-gateway", tag: "3.3.0" }, notebookImage: { repository: "jupyter/base-notebook" } },
    networkPolicy: { enabled: true, apiServer: { cidrs: ["10.0.0.1/32"], ports: [6443] }, extraEgress: [{ to: [{ ipBlock: { cidr: "10.1.0.0/16" } }] }] },
    imagePullSecrets: ["regcred"],
    custom: { myTeam: { anything: true } },
  },
  team: {
    global: { imageRegistry: "registry.example.com:5000" },
    controllerImage: { repository: "elastic-jupyter/controller", digest: `sha256:${"b".repeat(64)}` },
    gateway: {
      name: "jupytergateway-elastic-with-custom-kernels",
      logLevel: "DEBUG", cullIdleTimeout: 10, cullInterval: 10, portRange: "40000..41000",
      kernels: ["python-kubernetes"], defaultKernel: "python-kubernetes",
      sidecar: { resources: { requests: { cpu: "10m" } } },
    },
    notebooks: [{ name: "jupyternotebook-elastic", gateway: { name: "jupytergateway-elastic", namespace: "default" }, auth: { mode: "disable" } }],
    kernelSpecs: [{
      name: "python-kubernetes", language: "Python", displayName: "Python on Kubernetes as a JupyterKernelSpec",
      image: "ccr.ccs.tencentyun.com/kubeflow-oteam/jupyter-kernel-py:2.5.0",
      className: "enterprise_gateway.services.processproxies.kubeflow.KubeflowProcessProxy",
      template: { namespace: "default", name: "jupyterkerneltemplate-elastic-with-custom-kernels" },
      command: ["kubeflow-launcher", "--verbose", "--RemoteProcessProxy.kernel-id", "{kernel_id}"],
      gpu: { resourceName: "nvidia.com/mig-1g.10gb", count: 1, max: 2 },
    }],
    kernelTemplates: [{
      name: "jupyterkerneltemplate-elastic-with-custom-kernels",
      template: { metadata: { app: "enterprise-gateway", component: "kernel" }, spec: { restartPolicy: "Always", containers: [{ name: "kernel" }] } },
    }],
    networkPolicy: { kernel: { extraEgress: [{ ports: [{ port: 443, protocol: "TCP" }] }] } },
    imagePullSecrets: ["regcred"],
    custom: { myTeam: { anything: true } },
  },
};

async function render(helm: string, chart: string, valuesFiles: string[]): Promise<Outcome> {
  const r = await run(helm, ["template", "t", chart, "--namespace", "team-a", "--kube-version", KUBE_VERSION, ...valuesFiles.flatMap((f) => ["-f", f])]);
  return { code: r.code, output: r.stdout + r.stderr };
}

/** What Helm's schema errors say, by JSON pointer: the keys it refused and the hints it printed for them. */
interface SchemaComplaints { refused: string[]; hinted: Map<string, string>; others: string[] }

function schemaComplaints(output: string): SchemaComplaints {
  const out: SchemaComplaints = { refused: [], hinted: new Map(), others: [] };
  for (const line of output.split("\n")) {
    const m = /at '([^']*)': (.*)$/.exec(line);
    if (!m) continue;
    const [, at, what] = m as unknown as [string, string, string];
    const refused = /^additional properties (.*) not allowed$/.exec(what);
    const hint = /^properties '(.*)' required, if '([^']*)' exists$/.exec(what);
    if (refused) out.refused.push(...[...refused[1]!.matchAll(/'([^']*)'/g)].map((k) => `${at}/${k[1]}`));
    else if (hint) out.hinted.set(`${at}/${hint[2]}`, hint[1]!);
    // Wrappers around nested errors, and a missing property, which names what to write.
    else if (!/^(validation failed|'anyOf' failed|missing propert(y|ies) '.*')$/.test(what)) out.others.push(line.trim());
  }
  return out;
}

/** Values files platform teams wrote from other charts' habits, and the same files after following the hints. */
const REFUSED = join(repoRoot, "examples/values/refused");
const habitFiles = [
  { name: "zero-to-jupyterhub habits", file: "z2jh-habits.yaml", refuses: ["/singleuser", "/hub", "/proxy", "/imagePullSecret", "/scheduling", "/cull", "/kernelSpecs/0/kubespawner_override", "/kernelSpecs/0/display_name", "/kernelSpecs/1/cpu"] },
  { name: "Enterprise Gateway chart habits", file: "eg-chart-habits.yaml", refuses: ["/image", "/imagePullPolicy", "/deployment", "/service", "/kernel", "/kernelspecs", "/kip", "/logLevel", "/kernelSpecs/1/argv", "/kernelSpecs/1/metadata"] },
];

interface InvalidValues { chart: ChartName; what: string; values: object; /** must appear in helm's output */ names: string }

const invalid: InvalidValues[] = [
  { chart: "operator", what: "replicas a word", values: { operator: { replicas: "two" } }, names: "'/operator/replicas'" },
  { chart: "operator", what: "typo in an operator key", values: { operator: { replica: 1 } }, names: "additional properties 'replica'" },
  { chart: "team", what: "typo in a top-level key", values: { gatway: { enabled: true } }, names: "additional properties 'gatway'" },
  { chart: "team", what: "operator keys in the team chart", values: { operator: { replicas: 1 } }, names: "additional properties 'operator'" },
  { chart: "operator", what: "operator watchNamespace not a name", values: { operator: { watchNamespace: "Team_A" } }, names: "'/operator/watchNamespace'" },
  { chart: "operator", what: "apiServer without CIDRs", values: { networkPolicy: { apiServer: { cidrs: [] } } }, names: "'/networkPolicy/apiServer/cidrs'" },
  { chart: "team", what: "controllerImage digest malformed", values: { controllerImage: { digest: "sha256:nothex" } }, names: "'/controllerImage/digest'" },
  { chart: "operator", what: "operator logLevel unknown", values: { operator: { logLevel: "verbose" } }, names: "'/operator/logLevel'" },
  { chart: "operator", what: "pullPolicy unknown", values: { operator: { image: { pullPolicy: "Sometimes" } } }, names: "'/operator/image/pullPolicy'" },
  { chart: "operator", what: "digest malformed", values: { operator: { image: { digest: "sha256:xyz" } } }, names: "'/operator/image/digest'" },
  { chart: "operator", what: "crds.install not a boolean", values: { crds: { install: "maybe" } }, names: "'/crds/install'" },
  { chart: "operator", what: "pdb.minAvailable a boolean", values: { operator: { pdb: { minAvailable: true } } }, names: "'/operator/pdb/minAvailable'" },
  { chart: "team", what: "gateway logLevel unknown", values: { gateway: { logLevel: "LOUD" } }, names: "'/gateway/logLevel'" },
  { chart: "team", what: "gateway port out of range", values: { gateway: { port: 70000 } }, names: "'/gateway/port'" },
  { chart: "team", what: "gateway cullIdleTimeout negative", values: { gateway: { cullIdleTimeout: -5 } }, names: "'/gateway/cullIdleTimeout'" },
  { chart: "team", what: "gateway image repository empty", values: { gateway: { image: { repository: "" } } }, names: "'/gateway/image/repository'" },
  { chart: "team", what: "kernelSpec without image", values: { kernelSpecs: [{ name: "py", language: "python" }] }, names: "missing property 'image'" },
  { chart: "team", what: "kernelSpec gpu.count negative", values: { kernelSpecs: [{ name: "py", language: "python", image: "x", gpu: { count: -1 } }] }, names: "'/kernelSpecs/0/gpu/count'" },
  { chart: "team", what: "kernelSpec typo in a spec key", values: { kernelSpecs: [{ name: "py", language: "python", image: "x", dispalyName: "Py" }] }, names: "additional properties 'dispalyName'" },
  { chart: "team", what: "notebook auth mode unknown", values: { notebooks: [{ name: "nb", auth: { mode: "password" } }] }, names: "'/notebooks/0/auth/mode'" },
  { chart: "team", what: "notebook name not a DNS name", values: { notebooks: [{ name: "Bad_Name" }] }, names: "'/notebooks/0/name'" },
  { chart: "team", what: "kernelTemplate without template", values: { kernelTemplates: [{ name: "t" }] }, names: "missing property 'template'" },
  { chart: "team", what: "networkPolicy.enabled a number", values: { networkPolicy: { enabled: 1 } }, names: "'/networkPolicy/enabled'" },
  { chart: "team", what: "an imagePullSecrets entry neither a name nor {name}", values: { imagePullSecrets: [{ secret: "regcred" }] }, names: "'/imagePullSecrets/0'" },
  { chart: "team", what: "a misspelt key names the right one", values: { kernelspecs: [] }, names: "properties '→ write kernelSpecs (keys are case-sensitive)" },
  { chart: "team", what: "a misplaced key names its place", values: { defaultKernel: "python-kubernetes" }, names: "properties '→ defaultKernel belongs under gateway, notebooks[].direct' required, if 'defaultKernel' exists" },
  { chart: "team", what: "global.imageRegistry not a host", values: { global: { imageRegistry: "not a registry!" } }, names: "'/global/imageRegistry'" },
];

describe("values.schema.json on Helm 3 and Helm 4", function () {
  this.timeout(120_000);

  for (const [name, helm] of Object.entries(helms)) {
    for (const [chartName, chart] of Object.entries(charts)) {
      it(`${name}, ${chartName} chart: the default values pass helm lint and helm install --dry-run`, async () => {
        for (const r of [await lint(helm, chart), await dryRunInstall(helm, chart)]) expect(r.code, r.output).to.equal(0);
      });
      it(`${name}, ${chartName} chart: a rich values file (every section, escape hatches${chartName === "team" ? ", SEED's kernelspec and template" : ""}) passes`, async () => {
        const f = tempFile("rich.yaml", stringify(richValues[chartName as ChartName]));
        for (const r of [await lint(helm, chart, f), await dryRunInstall(helm, chart, f)]) expect(r.code, r.output).to.equal(0);
      });
    }
  }

  describe("values files written from other charts' habits: refused in one round, every refusal saying what to write", () => {
    for (const h of habitFiles) {
      it(`${h.name} (examples/values/refused/${h.file})`, async () => {
        for (const [name, helm] of Object.entries(helms)) {
          for (const r of [await lint(helm, charts.team, join(REFUSED, h.file)), await render(helm, charts.team, [join(REFUSED, h.file)])]) {
            expect(r.code, `${name} accepted it`).to.not.equal(0);
            const c = schemaComplaints(r.output);
            expect(c.refused, `${name}: ${r.output}`).to.include.members(h.refuses);
            for (const key of c.refused) expect(c.hinted.get(key), `${name}: no hint for ${key}:\n${r.output}`).to.match(new RegExp(`^${HINT_MARK}`));
            expect(c.others, `${name}: errors that name no fix`).to.deep.equal([]);
          }
        }
      });
      it(`${h.name}, the hints followed (${h.file.replace(".yaml", ".fixed.yaml")}), passes: nothing was left for a second round`, async () => {
        const fixed = join(REFUSED, h.file.replace(".yaml", ".fixed.yaml"));
        for (const [name, helm] of Object.entries(helms)) {
          for (const r of [await lint(helm, charts.team, fixed), await render(helm, charts.team, [fixed])]) expect(r.code, `${name}: ${r.output}`).to.equal(0);
        }
      });
    }
  });

  it("the chart's own checks (names of served kernelspecs) report every problem of a file at once, on both Helm versions", async () => {
    const f = tempFile("values.yaml", stringify({ gateway: { kernels: ["python-kubernetes", "pyhton", "gpu"], defaultKernel: "python" } }));
    for (const [name, helm] of Object.entries(helms)) {
      const r = await render(helm, charts.team, [f]);
      expect(r.code, `${name} accepted it`).to.not.equal(0);
      for (const problem of ['gateway.kernels: "pyhton"', 'gateway.kernels: "gpu"', 'gateway.defaultKernel: "python"']) expect(r.output, name).to.include(problem);
    }
  });

  describe("image pull Secrets as names or as {name: ...}", () => {
    const asNames = { team: { imagePullSecrets: ["regcred", "mirror"], kernelSpecs: [{ name: "py", language: "python", image: "x", imagePullSecrets: ["gpu-registry"] }] }, operator: { imagePullSecrets: ["regcred", "mirror"] } };
    const asRefs = { team: { imagePullSecrets: [{ name: "regcred" }, { name: "mirror" }], kernelSpecs: [{ name: "py", language: "python", image: "x", imagePullSecrets: [{ name: "gpu-registry" }] }] }, operator: { imagePullSecrets: [{ name: "regcred" }, { name: "mirror" }] } };
    const mixed = { team: { imagePullSecrets: ["regcred", { name: "mirror" }], kernelSpecs: [{ name: "py", language: "python", image: "x", imagePullSecrets: [{ name: "gpu-registry" }, "regcred"] }] }, operator: { imagePullSecrets: [{ name: "regcred" }, "mirror"] } };
    for (const chartName of ["team", "operator"] as const) {
      it(`${chartName} chart: names, {name} objects and a mix render identical manifests on both Helm versions`, async () => {
        for (const [name, helm] of Object.entries(helms)) {
          const [n, o, m] = await Promise.all([asNames, asRefs, mixed].map((v) => render(helm, charts[chartName], [tempFile("values.yaml", stringify(v[chartName]))]))) as [Outcome, Outcome, Outcome];
          for (const r of [n, o, m]) expect(r.code, `${name}: ${r.output}`).to.equal(0);
          expect(o.output, `${name}: {name} objects`).to.equal(n.output);
          expect(m.output, `${name}: a mix`).to.equal(n.output);
          const podSpecSecrets = [...n.output.matchAll(/imagePullSecrets:\n((?:\s*- name: .*\n)+)/g)].map((x) => x[1]!.replace(/\s+/g, " ").trim());
          expect(podSpecSecrets.length, `${name}: pods with pull Secrets`).to.be.greaterThan(0);
          for (const list of podSpecSecrets) expect(list, name).to.match(/^- name: regcred - name: mirror( - name: gpu-registry)?$/);
        }
      });
    }
  });

  describe(`rejects ${invalid.length} invalid values files on both Helm versions, naming the key`, () => {
    for (const c of invalid) {
      it(`${c.chart} chart: ${c.what} -> ${c.names}`, async () => {
        const f = tempFile("values.yaml", stringify(c.values));
        for (const [name, helm] of Object.entries(helms)) {
          const [l, i] = await Promise.all([lint(helm, charts[c.chart], f), dryRunInstall(helm, charts[c.chart], f)]);
          expect(l.code, `${name} lint accepted it: ${l.output}`).to.not.equal(0);
          expect(l.output, `${name} lint`).to.include(c.names);
          expect(i.code, `${name} install accepted it: ${i.output}`).to.not.equal(0);
          expect(i.output, `${name} install`).to.include("values don't meet the specifications of the schema");
          expect(i.output, `${name} install`).to.include(c.names);
        }
      });
    }
  });
});

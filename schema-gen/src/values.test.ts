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
import { CHART_DIR, OPERATOR_CHART_DIR } from "./generate.ts";

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
    defaults: { gatewayImage: { repository: "elyra/enterprise-gateway", tag: "3.2.3" }, notebookImage: { repository: "jupyter/base-notebook" } },
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
  { chart: "team", what: "imagePullSecrets as objects", values: { imagePullSecrets: [{ name: "regcred" }] }, names: "'/imagePullSecrets/0'" },
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

// The generated values.schema.json under real Helm 3 and Helm 4: the defaults and a rich values
// file pass; each invalid values file is rejected by `helm lint` and `helm install --dry-run`
// with a message naming the key.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { repoRoot, run, tempFile } from "../../ci/test/cluster.ts";
import { CHART_DIR } from "./generate.ts";

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

const chart = join(repoRoot, CHART_DIR);
const helms = helmBinaries();

interface Outcome { code: number; output: string }

async function lint(helm: string, valuesFile?: string): Promise<Outcome> {
  const r = await run(helm, ["lint", chart, ...(valuesFile ? ["-f", valuesFile] : [])]);
  return { code: r.code, output: r.stdout + r.stderr };
}

async function dryRunInstall(helm: string, valuesFile?: string): Promise<Outcome> {
  // client dry-run: renders and validates without needing the CRDs in the cluster
  const r = await run(helm, ["install", "schema-test", chart, "--namespace", "default", "--dry-run=client", ...(valuesFile ? ["-f", valuesFile] : [])]);
  return { code: r.code, output: r.stdout + r.stderr };
}

/** A values file that uses most of the model, escape hatches included. */
const richValues = {
  global: { imageRegistry: "registry.example.com:5000" },
  operator: {
    image: { repository: "elastic-jupyter/elastic-jupyter", digest: `sha256:${"a".repeat(64)}` },
    replicas: 2,
    extraEnv: [{ name: "FOO", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
    extraPodSpec: { hostNetwork: false, anythingGoes: { here: [1, 2] } },
    podAnnotations: { "prometheus.io/scrape": "true" },
    pdb: { enabled: true, minAvailable: "50%" },
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    resources: { limits: { cpu: 1, memory: "512Mi" } },
    watchNamespaces: ["team-a", "team-b"],
  },
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
  imagePullSecrets: ["regcred"],
  custom: { myTeam: { anything: true } },
};

interface InvalidValues { what: string; values: object; /** must appear in helm's output */ names: string }

const invalid: InvalidValues[] = [
  { what: "replicas a word", values: { operator: { replicas: "two" } }, names: "'/operator/replicas'" },
  { what: "typo in an operator key", values: { operator: { replica: 1 } }, names: "additional properties 'replica'" },
  { what: "typo in a top-level key", values: { gatway: { enabled: true } }, names: "additional properties 'gatway'" },
  { what: "operator logLevel unknown", values: { operator: { logLevel: "verbose" } }, names: "'/operator/logLevel'" },
  { what: "pullPolicy unknown", values: { operator: { image: { pullPolicy: "Sometimes" } } }, names: "'/operator/image/pullPolicy'" },
  { what: "digest malformed", values: { operator: { image: { digest: "sha256:xyz" } } }, names: "'/operator/image/digest'" },
  { what: "crds.install not a boolean", values: { crds: { install: "maybe" } }, names: "'/crds/install'" },
  { what: "pdb.minAvailable a boolean", values: { operator: { pdb: { minAvailable: true } } }, names: "'/operator/pdb/minAvailable'" },
  { what: "gateway logLevel unknown", values: { gateway: { logLevel: "LOUD" } }, names: "'/gateway/logLevel'" },
  { what: "gateway port out of range", values: { gateway: { port: 70000 } }, names: "'/gateway/port'" },
  { what: "gateway cullIdleTimeout negative", values: { gateway: { cullIdleTimeout: -5 } }, names: "'/gateway/cullIdleTimeout'" },
  { what: "gateway image repository empty", values: { gateway: { image: { repository: "" } } }, names: "'/gateway/image/repository'" },
  { what: "kernelSpec without image", values: { kernelSpecs: [{ name: "py", language: "python" }] }, names: "missing property 'image'" },
  { what: "kernelSpec gpu.count negative", values: { kernelSpecs: [{ name: "py", language: "python", image: "x", gpu: { count: -1 } }] }, names: "'/kernelSpecs/0/gpu/count'" },
  { what: "kernelSpec typo in a spec key", values: { kernelSpecs: [{ name: "py", language: "python", image: "x", dispalyName: "Py" }] }, names: "additional properties 'dispalyName'" },
  { what: "notebook auth mode unknown", values: { notebooks: [{ name: "nb", auth: { mode: "password" } }] }, names: "'/notebooks/0/auth/mode'" },
  { what: "notebook name not a DNS name", values: { notebooks: [{ name: "Bad_Name" }] }, names: "'/notebooks/0/name'" },
  { what: "kernelTemplate without template", values: { kernelTemplates: [{ name: "t" }] }, names: "missing property 'template'" },
  { what: "networkPolicy.enabled a number", values: { networkPolicy: { enabled: 1 } }, names: "'/networkPolicy/enabled'" },
  { what: "imagePullSecrets as objects", values: { imagePullSecrets: [{ name: "regcred" }] }, names: "'/imagePullSecrets/0'" },
  { what: "global.imageRegistry not a host", values: { global: { imageRegistry: "not a registry!" } }, names: "'/global/imageRegistry'" },
];

describe("values.schema.json on Helm 3 and Helm 4", function () {
  this.timeout(120_000);

  for (const [name, helm] of Object.entries(helms)) {
    it(`${name}: the default values pass helm lint and helm install --dry-run`, async () => {
      for (const r of [await lint(helm), await dryRunInstall(helm)]) expect(r.code, r.output).to.equal(0);
    });
    it(`${name}: a rich values file (every section, escape hatches, SEED's kernelspec and template) passes`, async () => {
      const f = tempFile("rich.yaml", stringify(richValues));
      for (const r of [await lint(helm, f), await dryRunInstall(helm, f)]) expect(r.code, r.output).to.equal(0);
    });
  }

  describe(`rejects ${invalid.length} invalid values files on both Helm versions, naming the key`, () => {
    for (const c of invalid) {
      it(`${c.what} -> ${c.names}`, async () => {
        const f = tempFile("values.yaml", stringify(c.values));
        for (const [name, helm] of Object.entries(helms)) {
          const [l, i] = await Promise.all([lint(helm, f), dryRunInstall(helm, f)]);
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

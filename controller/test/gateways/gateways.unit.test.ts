import { expect } from "chai";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { EnvVar } from "kubernetes-types/core/v1.js";
import type { JupyterGateway } from "@elastic-jupyter/api";
import {
  DEFAULT_GATEWAY_IMAGE, GATEWAY_FILES_HASH_ANNOTATION, desiredGatewayDeployment, desiredGatewayService, gatewayEnv, gatewayPorts,
  type GatewayRenderOptions,
} from "../../src/gateways/deployment.ts";
import { DEFAULT_GATEWAY_FILES_DIR, DEFAULT_KERNEL_FILES_DIR, desiredGatewayFilesConfigMap, kernelBootstrapConfigMapName, readGatewayFiles, readKernelFiles } from "../../src/gateways/files.ts";
import { expectGolden } from "./golden.ts";
import { GATEWAY_RULES, desiredGatewayRole, desiredGatewayRoleBinding, desiredGatewayServiceAccount, grantedPermissions } from "../../src/gateways/rbac.ts";
import { desiredGatewayTokenSecret } from "../../src/gateways/token.ts";
import { gatewayStatus } from "../../src/gateways/status.ts";
import { parseConfig } from "../../src/runtime/config.ts";
import { applyFailure, nameProblem } from "../../src/gateways/owned.ts";

const testdata = fileURLToPath(new URL("./testdata/", import.meta.url));

function gateway(name: string, spec: JupyterGateway["spec"], extra: Partial<JupyterGateway["metadata"]> = {}): JupyterGateway {
  return {
    apiVersion: "kubeflow.tkestack.io/v1alpha1",
    kind: "JupyterGateway",
    metadata: { name, namespace: "default", uid: `uid-${name}`, generation: 1, ...extra },
    spec,
  };
}

// SEED.md's two gateways, unchanged, and one that sets every field.
const seedElastic = gateway("jupytergateway-elastic", { cullIdleTimeout: 3600, image: "ccr.ccs.tencentyun.com/kubeflow-oteam/enterprise-gateway:2.5.0" });
const seedCustom = gateway("jupytergateway-elastic-with-custom-kernels", {
  cullIdleTimeout: 10, cullInterval: 10, logLevel: "DEBUG", image: "ccr.ccs.tencentyun.com/kubeflow-oteam/enterprise-gateway:dev", kernels: ["python-kubernetes"],
});
const everything = gateway("gw-full", {
  image: "elyra/enterprise-gateway@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
  cullIdleTimeout: 600, cullInterval: 30, cullConnected: true, logLevel: "WARNING", kernels: ["py", "r"], defaultKernel: "py",
  launchTimeout: 120, portRange: "40000..41000", responsePort: 9877, port: 9888,
  resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "2Gi" } },
  nodeSelector: { "node-role/gateway": "true" },
  tolerations: [{ key: "dedicated", operator: "Equal", value: "jupyter", effect: "NoSchedule" }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] }] } } },
  securityContext: { runAsNonRoot: true, runAsUser: 2000, fsGroup: 2000, seccompProfile: { type: "RuntimeDefault" } },
  extraEnv: [{ name: "EG_MAX_KERNELS", value: "20" }, { name: "EG_LOG_LEVEL", value: "ERROR" }],
  sidecar: { image: "registry.example/controller:1.2.3", resources: { requests: { cpu: "10m" } } },
  serviceAccountName: "custom-sa",
});

const files = { "__init__.py": "GROUP = 'x'\n", "launch_kernel.py": "# launcher\n", "process_proxy.py": "# proxy\n" };
const opts: GatewayRenderOptions = { gatewayImage: DEFAULT_GATEWAY_IMAGE, sidecarImage: "ghcr.io/elastic-jupyter/controller:0.1.0", gatewayFiles: files };

const envOf = (d: Deployment, container: string) => Object.fromEntries((d.spec!.template.spec!.containers.find((c) => c.name === container)!.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

describe("gateway rendering", () => {
  describe("golden files", () => {
    for (const gw of [seedElastic, seedCustom, everything]) {
      it(`${gw.metadata!.name}: Deployment, Service, ServiceAccount, Role, RoleBinding`, () => {
        expectGolden(join(testdata, `${gw.metadata!.name}.yaml`), {
          deployment: desiredGatewayDeployment(gw, opts),
          service: desiredGatewayService(gw),
          serviceAccount: desiredGatewayServiceAccount(gw) ?? null,
          role: desiredGatewayRole(gw),
          roleBinding: desiredGatewayRoleBinding(gw),
        });
      });
    }
  });

  it("maps every spec field onto the environment start-enterprise-gateway.sh reads", () => {
    const env = envOf(desiredGatewayDeployment(everything, opts), "gateway");
    expect(env).to.include({
      EG_PORT: "9888", EG_RESPONSE_PORT: "9877", EG_LIST_KERNELS: "True",
      EG_DEFAULT_KERNEL_NAME: "py", EG_KERNEL_LAUNCH_TIMEOUT: "120", EG_PORT_RANGE: "40000..41000",
      EG_SHARED_NAMESPACE: "True", EG_KERNELSPEC_CACHE_ENABLED: "False", EG_MAX_KERNELS: "20", PYTHONPATH: "/opt/elastic-jupyter/gateway",
    });
    // extraEnv wins over what the operator derives, by name, and appears once.
    expect(env.EG_LOG_LEVEL).to.equal("ERROR");
    expect(gatewayEnv(everything).filter((e) => e.name === "EG_LOG_LEVEL")).to.have.length(1);
    expect(env.EG_NAMESPACE).to.deep.equal({ fieldRef: { fieldPath: "metadata.namespace" } });
    expect(env.EG_INHERITED_ENVS).to.contain("PYTHONPATH").and.to.contain("KUBERNETES_SERVICE_HOST");
  });

  it("requires a token by default: EG_AUTH_TOKEN from the generated Secret, the same for the sidecar; none with auth disabled", () => {
    const ref = { secretKeyRef: { name: "g-gateway-token", key: "token" } };
    const byDefault = desiredGatewayDeployment(gateway("g", {}), opts);
    expect(envOf(byDefault, "gateway").EG_AUTH_TOKEN).to.deep.equal(ref);
    expect(envOf(byDefault, "sidecar").EJ_GATEWAY_TOKEN).to.deep.equal(ref);
    expect(desiredGatewayTokenSecret(gateway("g", {}), "t0k")).to.deep.include({ type: "Opaque", stringData: { token: "t0k" } });
    expect(desiredGatewayTokenSecret(gateway("g", {}), "t0k")!.metadata!.name).to.equal("g-gateway-token");
    const named = desiredGatewayDeployment(gateway("g", { auth: { secretName: "team-token" } }), opts);
    expect(envOf(named, "gateway").EG_AUTH_TOKEN).to.deep.equal({ secretKeyRef: { name: "team-token", key: "token" } });
    expect(desiredGatewayTokenSecret(gateway("g", { auth: { secretName: "team-token" } }), "t0k"), "the user's Secret is theirs").to.equal(undefined);
    const open = desiredGatewayDeployment(gateway("g", { auth: { mode: "disable" } }), opts);
    expect(envOf(open, "gateway")).to.not.have.property("EG_AUTH_TOKEN");
    expect(envOf(open, "sidecar")).to.not.have.property("EJ_GATEWAY_TOKEN");
    // The readiness probe asks for what EG serves without a token.
    expect(byDefault.spec!.template.spec!.containers[0]!.readinessProbe!.httpGet!.path).to.equal("/api/swagger.json");
  });

  it("turns the gateway's own culler off: the sidecar culls per kernelspec, and culling settings never restart the gateway", () => {
    const culling = (spec: JupyterGateway["spec"]) => desiredGatewayDeployment(gateway("g", spec), opts).spec!.template;
    const env = envOf(desiredGatewayDeployment(everything, opts), "gateway");
    expect(env.EG_CULL_IDLE_TIMEOUT).to.equal("0");
    expect(env).to.not.have.any.keys("EG_CULL_INTERVAL", "EG_CULL_CONNECTED");
    expect(culling({ cullIdleTimeout: 20, cullInterval: 5, cullConnected: true })).to.deep.equal(culling({ cullIdleTimeout: 10 }));
    const sidecar = envOf(desiredGatewayDeployment(everything, opts), "sidecar");
    expect(sidecar.EJ_GATEWAY_URL).to.equal("http://127.0.0.1:9888");
    // A gateway given a token through extraEnv: the culler gets the same value, however it is sourced.
    const tokenRef = { secretKeyRef: { name: "gw-token", key: "token" } };
    const withToken = desiredGatewayDeployment(gateway("g", { extraEnv: [{ name: "EG_AUTH_TOKEN", valueFrom: tokenRef }] }), opts);
    expect(envOf(withToken, "sidecar").EJ_GATEWAY_TOKEN).to.deep.equal(tokenRef);
    expect(envOf(withToken, "gateway").EG_AUTH_TOKEN).to.deep.equal(tokenRef);
  });

  it("leaves optional EG settings to the image's defaults when unset", () => {
    const env = envOf(desiredGatewayDeployment(seedElastic, opts), "gateway");
    expect(env).to.not.have.any.keys("EG_DEFAULT_KERNEL_NAME", "EG_KERNEL_LAUNCH_TIMEOUT", "EG_PORT_RANGE", "EG_ALLOWED_KERNELS");
    expect(env.EG_LOG_LEVEL).to.equal("INFO");
  });

  it("never overrides the gateway image's command", () => {
    for (const gw of [seedElastic, everything]) {
      const c = desiredGatewayDeployment(gw, opts).spec!.template.spec!.containers.find((x) => x.name === "gateway")!;
      expect(c.command).to.equal(undefined);
      expect(c.args).to.equal(undefined);
    }
  });

  it("uses spec.image, else the configured default image", () => {
    const image = (gw: JupyterGateway) => desiredGatewayDeployment(gw, opts).spec!.template.spec!.containers[0]!.image;
    expect(image(seedElastic)).to.equal("ccr.ccs.tencentyun.com/kubeflow-oteam/enterprise-gateway:2.5.0");
    expect(image(gateway("g", {}))).to.equal(DEFAULT_GATEWAY_IMAGE);
    expect(image(everything)).to.match(/@sha256:[0-9a-f]{64}$/);
  });

  it("does not change the pod template when only spec.kernels changes (the sidecar syncs kernelspecs live)", () => {
    const a = desiredGatewayDeployment(gateway("g", { kernels: [] }), opts);
    const b = desiredGatewayDeployment(gateway("g", { kernels: ["python-kubernetes", "r"] }), opts);
    expect(b).to.deep.equal(a);
  });

  it("changes the pod template (rolling the gateway) when other settings or the gateway files change", () => {
    const base = desiredGatewayDeployment(gateway("g", { launchTimeout: 10 }), opts).spec!.template;
    expect(desiredGatewayDeployment(gateway("g", { launchTimeout: 20 }), opts).spec!.template).to.not.deep.equal(base);
    const newFiles = desiredGatewayDeployment(gateway("g", { launchTimeout: 10 }), { ...opts, gatewayFiles: { ...files, "process_proxy.py": "# v2\n" } }).spec!.template;
    expect(newFiles.metadata!.annotations![GATEWAY_FILES_HASH_ANNOTATION]).to.not.equal(base.metadata!.annotations![GATEWAY_FILES_HASH_ANNOTATION]);
  });

  it("runs the sidecar for this gateway, on ports that never collide with the gateway's", () => {
    const d = desiredGatewayDeployment(seedCustom, opts);
    const sidecar = d.spec!.template.spec!.containers.find((c) => c.name === "sidecar")!;
    expect(sidecar.args).to.deep.equal(["--role", "sidecar", "--gateway", "jupytergateway-elastic-with-custom-kernels", "--kernels-dir", "/var/lib/elastic-jupyter/kernels", "--metrics-addr", ":8081"]);
    expect(envOf(d, "sidecar").EJ_BOOTSTRAP_CONFIGMAP).to.equal(kernelBootstrapConfigMapName("jupytergateway-elastic-with-custom-kernels"));
    expect(gatewayPorts(gateway("g", { port: 8081, responsePort: 8082 })).sidecarMetrics).to.equal(8083);
  });

  it("starts a sidecar whose flags and environment the controller's own parser accepts", () => {
    const d = desiredGatewayDeployment(everything, opts);
    const sidecar = d.spec!.template.spec!.containers.find((c) => c.name === "sidecar")!;
    // The downward API and Secrets as the kubelet resolves them.
    const fields: Record<string, string> = { "metadata.namespace": "default", "metadata.name": "gw-full-abc12" };
    const secrets: Record<string, string> = { "gw-full-gateway-token/token": "t0k" };
    const resolve = (e: EnvVar): string => e.value ?? (e.valueFrom!.fieldRef ? fields[e.valueFrom!.fieldRef.fieldPath]! : secrets[`${e.valueFrom!.secretKeyRef!.name}/${e.valueFrom!.secretKeyRef!.key}`]!);
    const env = Object.fromEntries(sidecar.env!.map((e) => [e.name, resolve(e)]));
    const config = parseConfig(sidecar.args!, env);
    expect(config).to.include({ role: "sidecar", gateway: "gw-full", kernelsDir: "/var/lib/elastic-jupyter/kernels", namespace: "default", identity: "gw-full-abc12", bootstrapConfigMap: "gw-full-kernel-bootstrap", gatewayUrl: "http://127.0.0.1:9888", gatewayToken: "t0k" });
    expect(config.metricsAddr.port).to.equal(sidecar.ports![0]!.containerPort);
    // The probes hit the runtime's health server on that port.
    expect(sidecar.readinessProbe!.httpGet).to.deep.equal({ path: "/readyz", port: "metrics" });
  });

  it("shares one kernels volume: written by the sidecar, read-only in the gateway", () => {
    const spec = desiredGatewayDeployment(seedElastic, opts).spec!.template.spec!;
    const mount = (c: string) => spec.containers.find((x) => x.name === c)!.volumeMounts!.find((m) => m.name === "kernels")!;
    expect(spec.volumes!.find((v) => v.name === "kernels")!.emptyDir).to.deep.equal({});
    expect(mount("gateway")).to.include({ mountPath: "/usr/local/share/jupyter/kernels", readOnly: true });
    expect(mount("sidecar").readOnly).to.equal(undefined);
  });

  it("mounts every gateway file into the elastic_jupyter package", () => {
    const vol = desiredGatewayDeployment(seedElastic, opts).spec!.template.spec!.volumes!.find((v) => v.name === "gateway-files")!;
    expect(vol.configMap!.items!.map((i) => i.path)).to.deep.equal(["elastic_jupyter/__init__.py", "elastic_jupyter/launch_kernel.py", "elastic_jupyter/process_proxy.py"]);
    expect(desiredGatewayFilesConfigMap(seedElastic, files).data).to.deep.equal(files);
  });

  it("is restricted-PSS compliant by default", () => {
    const spec = desiredGatewayDeployment(seedElastic, opts).spec!.template.spec!;
    expect(spec.securityContext).to.include({ runAsNonRoot: true });
    expect(spec.securityContext!.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
    for (const c of spec.containers) {
      expect(c.securityContext!.allowPrivilegeEscalation, c.name).to.equal(false);
      expect(c.securityContext!.capabilities, c.name).to.deep.equal({ drop: ["ALL"] });
    }
  });

  it("binds the Role to a given service account and creates none", () => {
    expect(desiredGatewayServiceAccount(everything)).to.equal(undefined);
    expect(desiredGatewayRoleBinding(everything).subjects).to.deep.equal([{ kind: "ServiceAccount", name: "custom-sa", namespace: "default" }]);
    expect(desiredGatewayDeployment(everything, opts).spec!.template.spec!.serviceAccountName).to.equal("custom-sa");
    expect(desiredGatewayDeployment(seedElastic, opts).spec!.template.spec!.serviceAccountName).to.equal("jupytergateway-elastic");
  });

  it("grants no wildcard, no secrets, no exec and nothing cluster-wide", () => {
    const perms = grantedPermissions(GATEWAY_RULES);
    expect(perms.some((p) => p.includes("*"))).to.equal(false);
    expect(perms.filter((p) => /secrets|exec|attach|portforward|roles|rolebindings|namespaces|deployments/.test(p))).to.deep.equal([]);
  });

  it("owns everything it renders, so deleting the gateway deletes them", () => {
    for (const obj of [desiredGatewayDeployment(seedElastic, opts), desiredGatewayService(seedElastic), desiredGatewayRole(seedElastic), desiredGatewayRoleBinding(seedElastic), desiredGatewayServiceAccount(seedElastic)!, desiredGatewayFilesConfigMap(seedElastic, files)]) {
      expect(obj.metadata!.ownerReferences, obj.kind).to.deep.equal([{ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterGateway", name: "jupytergateway-elastic", uid: "uid-jupytergateway-elastic", controller: true, blockOwnerDeletion: true }]);
    }
  });

  it("reads the chart's gateway and kernel files", () => {
    expect(readGatewayFiles(DEFAULT_GATEWAY_FILES_DIR)).to.include.keys("__init__.py", "process_proxy.py", "launch_kernel.py");
    expect(readKernelFiles(DEFAULT_KERNEL_FILES_DIR)).to.include.keys("bootstrap.py");
    expect(() => readGatewayFiles("/nonexistent")).to.throw(/gateway files: cannot read directory \/nonexistent/);
  });
});

const OPERATOR_IMAGE = "ghcr.io/elastic-jupyter/controller:0.2.0";

describe("gateway status", () => {
  const available: Deployment = {
    metadata: { name: "g", generation: 2 },
    spec: { replicas: 1, selector: {}, template: {} },
    status: { observedGeneration: 2, updatedReplicas: 1, availableReplicas: 1, conditions: [{ type: "Available", status: "True", reason: "MinimumReplicasAvailable" }] },
  };
  const ready = (s: ReturnType<typeof gatewayStatus>) => s.conditions!.find((c) => c.type === "Ready")!;

  it("is Ready when the Deployment is available and every listed kernelspec exists", () => {
    const s = gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: seedCustom, deployment: available, kernelSpecNames: new Set(["python-kubernetes"]), tokenSecretFound: true, now: "2026-01-01T00:00:00Z" });
    expect(ready(s)).to.include({ status: "True", reason: "Available", observedGeneration: 1 });
    expect(s.observedGeneration).to.equal(1);
  });

  it("names the missing kernelspecs", () => {
    const s = gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: seedCustom, deployment: available, kernelSpecNames: new Set(), tokenSecretFound: true, now: "2026-01-01T00:00:00Z" });
    expect(ready(s)).to.include({ status: "False", reason: "KernelSpecNotFound" });
    expect(ready(s).message).to.contain("python-kubernetes");
  });

  it("needs the token Secret the spec names, unless auth is disabled", () => {
    const named = gateway("g", { auth: { secretName: "team-token" } });
    const c = ready(gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: named, deployment: available, kernelSpecNames: new Set(), tokenSecretFound: false, now: "t" }));
    expect(c).to.include({ status: "False", reason: "TokenSecretNotFound" });
    expect(c.message).to.contain("team-token");
    const open = gateway("g", { auth: { mode: "disable" } });
    expect(ready(gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: open, deployment: available, kernelSpecNames: new Set(), tokenSecretFound: false, now: "t" })).reason).to.equal("Available");
  });

  it("waits for the Deployment", () => {
    const notYet = { ...available, status: { ...available.status, availableReplicas: 0, conditions: [{ type: "Available", status: "False", reason: "MinimumReplicasUnavailable" }] } };
    expect(ready(gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: seedElastic, deployment: notYet, kernelSpecNames: new Set(), tokenSecretFound: true, now: "t" })).reason).to.equal("DeploymentUnavailable");
    expect(ready(gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: seedElastic, deployment: undefined, kernelSpecNames: new Set(), tokenSecretFound: true, now: "t" })).reason).to.equal("DeploymentNotFound");
    const stale = { ...available, metadata: { ...available.metadata, generation: 3 } };
    expect(ready(gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: seedElastic, deployment: stale, kernelSpecNames: new Set(), tokenSecretFound: true, now: "t" })).reason).to.equal("DeploymentProgressing");
  });

  it("refuses a name that cannot name a Service or be a label value", () => {
    const long = gateway("g".repeat(64), {});
    const problem = nameProblem("JupyterGateway", long.metadata!.name!);
    expect(problem).to.contain("DNS label");
    const c = ready(gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: long, deployment: undefined, kernelSpecNames: new Set(), tokenSecretFound: true, invalid: { reason: "InvalidName", message: problem! }, now: "t" }));
    expect(c).to.include({ status: "False", reason: "InvalidName" });
    expect(nameProblem("JupyterGateway", "jupytergateway-elastic")).to.equal(undefined);
  });

  it("turns an API refusal of our write into a status reason, but not conflicts, throttling or outages", () => {
    const err = (code: number) => Object.assign(new Error(`PATCH x: refused ${code}`), { statusCode: code });
    expect(applyFailure(err(422))).to.deep.equal({ reason: "ApplyFailed", message: "PATCH x: refused 422" });
    expect(applyFailure(err(403))!.reason).to.equal("ApplyFailed");
    for (const code of [409, 429, 500, 503]) expect(applyFailure(err(code)), String(code)).to.equal(undefined);
    expect(applyFailure(new Error("ECONNREFUSED"))).to.equal(undefined);
  });

  it("says when a pinned sidecar image differs from the operator's (it would not follow operator upgrades)", () => {
    const current = (gw: ReturnType<typeof gateway>) => gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: gw, deployment: available, kernelSpecNames: new Set(), tokenSecretFound: true, now: "t" }).conditions!.find((c) => c.type === "SidecarCurrent")!;
    expect(current(gateway("g", {}))).to.include({ status: "True", reason: "OperatorImage" });
    expect(current(gateway("g", { sidecar: { image: OPERATOR_IMAGE } }))).to.include({ status: "True", reason: "PinnedToOperatorImage" });
    const old = current(gateway("g", { sidecar: { image: "ghcr.io/elastic-jupyter/controller:0.1.0" } }));
    expect(old).to.include({ status: "False", reason: "SidecarPinned" });
    expect(old.message).to.contain("controller:0.1.0").and.contain(OPERATOR_IMAGE);
  });

  it("keeps lastTransitionTime while the status holds", () => {
    const first = gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: seedElastic, deployment: available, kernelSpecNames: new Set(), tokenSecretFound: true, now: "2026-01-01T00:00:00Z" });
    const again = gatewayStatus({ operatorSidecarImage: OPERATOR_IMAGE, gateway: { ...seedElastic, status: first }, deployment: available, kernelSpecNames: new Set(), tokenSecretFound: true, now: "2026-01-02T00:00:00Z" });
    expect(ready(again).lastTransitionTime).to.equal("2026-01-01T00:00:00Z");
  });
});

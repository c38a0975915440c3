import { expect } from "chai";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Deployment } from "kubernetes-types/apps/v1.js";
import type { JupyterGateway, JupyterNotebook } from "@elastic-jupyter/api";
import { expectGolden } from "../gateways/golden.ts";
import {
  DEFAULT_NOTEBOOK_IMAGE, NOTEBOOK_CONFIG_DIR, SERVER_CONFIG_HASH_ANNOTATION, desiredNotebookConfigMap, desiredNotebookDeployment, desiredNotebookService,
  desiredGatewayTokenCopy, desiredTokenSecret, gatewayTokenSecretForNotebook, mergePodTemplate, notebookServerConfig, operatorOwnsTokenSecret, tokenSecretName,
} from "../../src/notebooks/deployment.ts";
import { notebookStatus } from "../../src/notebooks/status.ts";
import { gatewayServesNamespace } from "../../src/gateways/access.ts";

const testdata = fileURLToPath(new URL("./testdata/", import.meta.url));
const opts = { notebookImage: DEFAULT_NOTEBOOK_IMAGE };

function notebook(name: string, spec: JupyterNotebook["spec"], namespace = "default"): JupyterNotebook {
  return { apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterNotebook", metadata: { name, namespace, uid: `uid-${name}`, generation: 3 }, spec };
}
const gw = (spec: JupyterGateway["spec"] = {}): JupyterGateway => ({ apiVersion: "kubeflow.tkestack.io/v1alpha1", kind: "JupyterGateway", metadata: { name: "jupytergateway-elastic", namespace: "default" }, spec });

// SEED.md's notebook, unchanged.
const seed = notebook("jupyternotebook-elastic", { gateway: { name: "jupytergateway-elastic", namespace: "default" }, auth: { mode: "disable" } });
const withToken = notebook("nb", {
  gateway: { name: "gw" }, image: "quay.io/jupyter/scipy-notebook:2026-08-24", port: 9999,
  resources: { requests: { cpu: "1", memory: "2Gi" } },
  template: {
    metadata: { labels: { team: "a" }, annotations: { note: "x" } },
    spec: {
      nodeSelector: { pool: "notebooks" },
      containers: [{ name: "notebook", env: [{ name: "JUPYTER_PORT", value: "1" }, { name: "EXTRA", value: "y" }], volumeMounts: [{ name: "home", mountPath: "/home/jovyan" }] }],
      volumes: [{ name: "home", persistentVolumeClaim: { claimName: "nb-home" } }],
    },
  },
}, "team-a");

const env = (d: Deployment) => Object.fromEntries(d.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value ?? e.valueFrom]));

describe("notebook rendering", () => {
  it("golden: SEED.md's notebook and one with a token, overrides and a gateway in its own namespace", () => {
    expectGolden(join(testdata, "notebooks.yaml"), {
      seed: { deployment: desiredNotebookDeployment(seed, gw(), opts), service: desiredNotebookService(seed), config: desiredNotebookConfigMap(seed) },
      withToken: {
        deployment: desiredNotebookDeployment(withToken, undefined, opts), service: desiredNotebookService(withToken),
        config: desiredNotebookConfigMap(withToken), secret: desiredTokenSecret(withToken, "0123abcd"),
      },
    });
  });

  it("points jupyter_server at the referenced gateway's Service", () => {
    expect(env(desiredNotebookDeployment(seed, gw(), opts)).JUPYTER_GATEWAY_URL).to.equal("http://jupytergateway-elastic.default:8888");
    expect(env(desiredNotebookDeployment(seed, gw({ port: 9000, launchTimeout: 300 }), opts))).to.include({ JUPYTER_GATEWAY_URL: "http://jupytergateway-elastic.default:9000", JUPYTER_GATEWAY_REQUEST_TIMEOUT: "330" });
    // The gateway's namespace defaults to the notebook's.
    expect(env(desiredNotebookDeployment(withToken, undefined, opts)).JUPYTER_GATEWAY_URL).to.equal("http://gw.team-a:8888");
    expect(env(desiredNotebookDeployment(notebook("local", {}), undefined, opts))).to.not.have.key("JUPYTER_GATEWAY_URL");
  });

  it("uses a token from a Secret by default and honours auth.mode: disable", () => {
    expect(tokenSecretName(withToken)).to.equal("nb-token");
    expect(operatorOwnsTokenSecret(withToken)).to.equal(true);
    expect(env(desiredNotebookDeployment(withToken, undefined, opts)).JUPYTER_TOKEN).to.deep.equal({ secretKeyRef: { name: "nb-token", key: "token" } });
    const disabled = env(desiredNotebookDeployment(seed, gw(), opts));
    expect(disabled).to.not.have.key("JUPYTER_TOKEN");
    expect(notebookServerConfig(seed)).to.deep.equal({ ServerApp: { ip: "0.0.0.0" }, IdentityProvider: { token: "" } });
    expect(notebookServerConfig(withToken)).to.deep.equal({ ServerApp: { ip: "0.0.0.0" } });
    expect(JSON.parse(desiredNotebookConfigMap(seed).data!["jupyter_server_config.json"]!)).to.deep.equal(notebookServerConfig(seed));
    // The config is on JUPYTER_CONFIG_PATH, and switching auth mode restarts the server.
    expect(disabled.JUPYTER_CONFIG_PATH).to.equal(NOTEBOOK_CONFIG_DIR);
    const hash = (n: JupyterNotebook) => desiredNotebookDeployment(n, gw(), opts).spec!.template.metadata!.annotations![SERVER_CONFIG_HASH_ANNOTATION];
    expect(hash(seed)).to.not.equal(hash({ ...seed, spec: { ...seed.spec, auth: { mode: "token" } } }));
    const own = notebook("n", { auth: { secretName: "mine" } });
    expect(tokenSecretName(own)).to.equal("mine");
    expect(operatorOwnsTokenSecret(own)).to.equal(false);
  });

  it("gives jupyter_server its gateway's token: the gateway's Secret in its namespace, a copy from another, none when the gateway needs none", () => {
    expect(env(desiredNotebookDeployment(seed, gw(), opts)).JUPYTER_GATEWAY_AUTH_TOKEN).to.deep.equal({ secretKeyRef: { name: "jupytergateway-elastic-gateway-token", key: "token" } });
    expect(env(desiredNotebookDeployment(seed, gw({ auth: { secretName: "shared" } }), opts)).JUPYTER_GATEWAY_AUTH_TOKEN).to.deep.equal({ secretKeyRef: { name: "shared", key: "token" } });
    expect(env(desiredNotebookDeployment(seed, gw({ auth: { mode: "disable" } }), opts))).to.not.have.key("JUPYTER_GATEWAY_AUTH_TOKEN");
    // Not known until the gateway exists (the notebook rolls when it appears).
    expect(env(desiredNotebookDeployment(seed, undefined, opts))).to.not.have.key("JUPYTER_GATEWAY_AUTH_TOKEN");
    const elsewhere = notebook("nb2", { gateway: { name: "jupytergateway-elastic", namespace: "default" } }, "team-b");
    expect(gatewayTokenSecretForNotebook(elsewhere, gw())).to.equal("nb2-gateway-token");
    expect(env(desiredNotebookDeployment(elsewhere, gw(), opts)).JUPYTER_GATEWAY_AUTH_TOKEN).to.deep.equal({ secretKeyRef: { name: "nb2-gateway-token", key: "token" } });
    const copy = desiredGatewayTokenCopy(elsewhere, gw(), "dDBr");
    expect(copy.metadata).to.deep.include({ name: "nb2-gateway-token", namespace: "team-b" });
    expect(copy.metadata!.ownerReferences![0]).to.include({ kind: "JupyterNotebook", name: "nb2" });
    expect(copy.data).to.deep.equal({ token: "dDBr" });
  });

  it("merges spec.template: containers by name, env by name, volumes by name, other fields replace", () => {
    const d = desiredNotebookDeployment(withToken, undefined, opts);
    const spec = d.spec!.template.spec!;
    expect(spec.containers).to.have.length(1);
    expect(env(d)).to.include({ JUPYTER_PORT: "1", EXTRA: "y" });
    expect(spec.containers[0]!.image).to.equal("quay.io/jupyter/scipy-notebook:2026-08-24");
    expect(spec.containers[0]!.volumeMounts).to.deep.equal([{ name: "server-config", mountPath: NOTEBOOK_CONFIG_DIR, readOnly: true }, { name: "home", mountPath: "/home/jovyan" }]);
    expect(spec.nodeSelector).to.deep.equal({ pool: "notebooks" });
    expect(spec.volumes).to.deep.equal([{ name: "server-config", configMap: { name: "nb-server-config" } }, { name: "home", persistentVolumeClaim: { claimName: "nb-home" } }]);
    expect(d.spec!.template.metadata!.labels).to.include({ team: "a", "kubeflow.tkestack.io/notebook": "nb" });
  });

  it("never lets an override relabel the pods away from the Deployment's selector", () => {
    const sneaky = notebook("nb", { template: { metadata: { labels: { "kubeflow.tkestack.io/notebook": "other" } } } });
    const d = desiredNotebookDeployment(sneaky, undefined, opts);
    expect(d.spec!.template.metadata!.labels!["kubeflow.tkestack.io/notebook"]).to.equal("nb");
  });

  it("does not mutate its inputs", () => {
    const before = structuredClone(withToken);
    desiredNotebookDeployment(withToken, undefined, opts);
    mergePodTemplate({ spec: { containers: [{ name: "a" }] } }, withToken.spec.template);
    expect(withToken).to.deep.equal(before);
  });
});

describe("gateway access across namespaces", () => {
  const inA = (allowedNamespaces?: string[]): JupyterGateway => ({ ...gw(allowedNamespaces ? { allowedNamespaces } : {}), metadata: { name: "gw", namespace: "team-a" } });
  it("serves its own namespace, and others only when listed (or `*`)", () => {
    expect(gatewayServesNamespace(inA(), "team-a")).to.equal(true);
    expect(gatewayServesNamespace(inA(), "team-b")).to.equal(false);
    expect(gatewayServesNamespace(inA([]), "team-b")).to.equal(false);
    expect(gatewayServesNamespace(inA(["team-c"]), "team-b")).to.equal(false);
    expect(gatewayServesNamespace(inA(["team-b"]), "team-b")).to.equal(true);
    expect(gatewayServesNamespace(inA(["*"]), "team-b")).to.equal(true);
  });
});

describe("notebook status", () => {
  const available: Deployment = {
    metadata: { name: "n", generation: 1 }, spec: { replicas: 1, selector: {}, template: {} },
    status: { observedGeneration: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [{ type: "Available", status: "True" }] },
  };
  const ready = (s: ReturnType<typeof notebookStatus>) => s.conditions!.find((c) => c.type === "Ready")!;

  it("is Ready=False GatewayNotFound while the gateway is missing, naming it", () => {
    const c = ready(notebookStatus({ notebook: seed, gatewayFound: false, gatewayAllowed: true, tokenSecretFound: true, gatewayTokenFound: true, deployment: available, now: "t" }));
    expect(c).to.include({ status: "False", reason: "GatewayNotFound", observedGeneration: 3 });
    expect(c.message).to.contain("default/jupytergateway-elastic");
  });

  it("recovers once the gateway exists and the Deployment is available", () => {
    const s = notebookStatus({ notebook: seed, gatewayFound: true, gatewayAllowed: true, tokenSecretFound: false, gatewayTokenFound: true, deployment: available, now: "t" });
    expect(ready(s)).to.include({ status: "True", reason: "Available" });
    expect(s.url).to.equal("http://jupyternotebook-elastic.default:8888");
  });

  it("is Ready=False GatewayNotAllowed for another namespace's gateway that does not list its namespace, naming both and the setting", () => {
    const other = notebook("nb", { gateway: { name: "gw", namespace: "team-a" } }, "team-b");
    const c = ready(notebookStatus({ notebook: other, gatewayFound: true, gatewayAllowed: false, tokenSecretFound: true, gatewayTokenFound: true, deployment: available, now: "t" }));
    expect(c).to.include({ status: "False", reason: "GatewayNotAllowed" });
    expect(c.message).to.contain("team-a/gw").and.contain("team-b").and.contain("spec.allowedNamespaces");
  });

  it("waits for its gateway's token", () => {
    const c = ready(notebookStatus({ notebook: seed, gatewayFound: true, gatewayAllowed: true, tokenSecretFound: true, gatewayTokenFound: false, deployment: available, now: "t" }));
    expect(c).to.include({ status: "False", reason: "GatewayTokenNotFound" });
  });

  it("reports a user-named token Secret that does not exist", () => {
    const own = notebook("n", { auth: { secretName: "mine" } });
    expect(ready(notebookStatus({ notebook: own, gatewayFound: true, gatewayAllowed: true, tokenSecretFound: false, gatewayTokenFound: true, deployment: available, now: "t" })).reason).to.equal("TokenSecretNotFound");
  });
});

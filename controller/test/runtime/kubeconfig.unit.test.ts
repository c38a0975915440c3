import { expect } from "chai";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeconfigCredentials, loadCredentials } from "../../src/runtime/kubeconfig.ts";
import { describeRequest } from "../../src/runtime/client.ts";

const dir = mkdtempSync(join(tmpdir(), "ej-kubeconfig-"));
function kubeconfig(name: string, user: Record<string, unknown>, cluster: Record<string, unknown> = { server: "https://10.0.0.1:6443/", "certificate-authority": "ca.crt" }): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({
    apiVersion: "v1", kind: "Config", "current-context": "c",
    clusters: [{ name: "other", cluster: { server: "https://wrong" } }, { name: "k", cluster }],
    users: [{ name: "u", user }],
    contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
  }));
  return path;
}
writeFileSync(join(dir, "ca.crt"), "CA PEM");

describe("kubeconfig credentials (no client-node on the common paths)", () => {
  it("reads a kubeconfig in YAML, as kubectl writes it, the same as one in JSON", async () => {
    const path = join(dir, "plain.yaml");
    writeFileSync(path, [
      "apiVersion: v1", "kind: Config", "current-context: c",
      "clusters:", "- name: k", "  cluster:", "    server: https://10.0.0.1:6443/", "    certificate-authority: ca.crt",
      "users:", "- name: u", "  user:", "    token: abc",
      "contexts:", "- name: c", "  context: {cluster: k, user: u}",
    ].join("\n"));
    const fromYaml = kubeconfigCredentials(path);
    const fromJson = kubeconfigCredentials(kubeconfig("same.json", { token: "abc" }));
    expect(fromYaml.server).to.equal("https://10.0.0.1:6443");
    expect(String(fromYaml.ca)).to.equal(String(fromJson.ca));
    expect(await fromYaml.authorization()).to.equal("Bearer abc").and.to.equal(await fromJson.authorization());
  });

  it("reads the current context's server, a CA file relative to the kubeconfig, and a token", async () => {
    const c = kubeconfigCredentials(kubeconfig("token.yaml", { token: "abc" }));
    expect(c.server).to.equal("https://10.0.0.1:6443");
    expect(String(c.ca)).to.equal("CA PEM");
    expect(await c.authorization()).to.equal("Bearer abc");
  });

  it("reads client certificates and keys given as data, and insecure-skip-tls-verify", async () => {
    const c = kubeconfigCredentials(kubeconfig("cert.yaml", { "client-certificate-data": Buffer.from("CERT").toString("base64"), "client-key-data": Buffer.from("KEY").toString("base64") },
      { server: "https://h:1", "insecure-skip-tls-verify": true }));
    expect(String(c.cert)).to.equal("CERT");
    expect(String(c.key)).to.equal("KEY");
    expect(c.insecureSkipTlsVerify).to.equal(true);
    expect(await c.authorization()).to.equal(undefined);
  });

  it("reads a token file (bound service account tokens rotate, so it is re-read)", async () => {
    writeFileSync(join(dir, "token"), "t1\n");
    const c = kubeconfigCredentials(kubeconfig("tokenfile.yaml", { tokenFile: "token" }));
    expect(await c.authorization()).to.equal("Bearer t1");
  });

  it("runs an exec plugin through client-node, loaded only for it", async () => {
    const plugin = join(dir, "plugin.sh");
    writeFileSync(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}'\n`);
    chmodSync(plugin, 0o755);
    const c = kubeconfigCredentials(kubeconfig("exec.yaml", { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin, interactiveMode: "Never" } }));
    expect(await c.authorization()).to.equal("Bearer from-exec");
  });

  it("names the file and what is missing when the context points nowhere", () => {
    const path = join(dir, "broken.yaml");
    writeFileSync(path, JSON.stringify({ "current-context": "nope", contexts: [] }));
    expect(() => kubeconfigCredentials(path)).to.throw(`kubeconfig ${path}: no context named "nope"`);
    expect(() => loadCredentials(join(dir, "missing.yaml"))).to.throw(/missing\.yaml/);
  });
});

describe("describeRequest: requests named as the API server's metrics name them", () => {
  it("maps methods and paths to verbs and resources with subresources", () => {
    expect(describeRequest("GET", "/api/v1/namespaces/a/pods")).to.deep.equal({ verb: "list", resource: "pods" });
    expect(describeRequest("GET", "/api/v1/namespaces/a/pods", true)).to.deep.equal({ verb: "watch", resource: "pods" });
    expect(describeRequest("GET", "/api/v1/namespaces/a/pods/p")).to.deep.equal({ verb: "get", resource: "pods" });
    expect(describeRequest("POST", "/api/v1/namespaces/a/pods")).to.deep.equal({ verb: "create", resource: "pods" });
    expect(describeRequest("PATCH", "/apis/kubeflow.tkestack.io/v1alpha1/namespaces/a/jupyterkernels/k/status")).to.deep.equal({ verb: "patch", resource: "jupyterkernels/status" });
    expect(describeRequest("PUT", "/apis/coordination.k8s.io/v1/namespaces/a/leases/l")).to.deep.equal({ verb: "update", resource: "leases" });
    expect(describeRequest("DELETE", "/api/v1/namespaces/a/secrets/s")).to.deep.equal({ verb: "delete", resource: "secrets" });
    expect(describeRequest("GET", "/api/v1/nodes")).to.deep.equal({ verb: "list", resource: "nodes" });
    expect(describeRequest("GET", "/apis/kubeflow.tkestack.io/v1alpha1")).to.deep.equal({ verb: "list", resource: "" });
  });
});

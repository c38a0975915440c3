import { expect } from "chai";
import { ConfigError, parseConfig } from "../../src/runtime/config.ts";

describe("parseConfig", () => {
  it("applies defaults for a role", () => {
    const c = parseConfig(["--role", "operator"], {}, { hostname: "pod-1" });
    expect(c).to.deep.equal({
      role: "operator", namespace: "", kubeconfig: "", metricsAddr: { host: "0.0.0.0", port: 8080 },
      leaderElect: true, leaseName: "elastic-jupyter-operator", leaseNamespace: "default", identity: "pod-1",
      leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, logLevel: "info", concurrency: 4,
      gateway: "", gatewayUrl: "", gatewayToken: "", kernelsDir: "", bootstrapConfigMap: "elastic-jupyter-kernel-bootstrap",
      kernelPodPolicy: { allowPrivileged: false, allowHostNamespaces: false, allowHostPath: false, allowRunAsRoot: false, allowServiceAccountToken: false, allowedCapabilities: [], allowedSchedulerNames: [] },
    });
  });

  it("reads flags in both --name=value and --name value forms, and bare booleans", () => {
    const c = parseConfig(["--role=sidecar", "--namespace", "team-a", "--metrics-addr=127.0.0.1:9090", "--leader-elect", "--log-level", "debug", "--concurrency=8", "--lease-duration", "30s", "--renew-deadline=20", "--retry-period=1.5"], {});
    expect(c).to.include({ role: "sidecar", namespace: "team-a", leaderElect: true, logLevel: "debug", concurrency: 8, leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 1500 });
    expect(c.metricsAddr).to.deep.equal({ host: "127.0.0.1", port: 9090 });
    // The lease lives in the watched namespace unless told otherwise.
    expect(c.leaseNamespace).to.equal("team-a");
    expect(parseConfig(["--role=sidecar", "--leader-elect", "--namespace=x"], {}).leaderElect).to.equal(true);
    expect(parseConfig(["--role=operator", "--leader-elect", "false"], {}).leaderElect).to.equal(false);
    expect(parseConfig(["--role=operator", "--leader-elect=false"], {}).leaderElect).to.equal(false);
  });

  it("takes values from the environment, flags winning", () => {
    const env = { EJ_ROLE: "sidecar", EJ_NAMESPACE: "from-env", EJ_CONCURRENCY: "2", POD_NAME: "gw-abc", EJ_LEADER_ELECT: "true", KUBECONFIG: "/k" };
    const c = parseConfig(["--namespace=from-flag"], env);
    expect(c).to.include({ role: "sidecar", namespace: "from-flag", concurrency: 2, identity: "gw-abc", leaderElect: true, kubeconfig: "/k" });
  });

  it("reads the kernel pod policy as JSON, and refuses a bad one naming the flag and the key", () => {
    const c = parseConfig(["--role=sidecar"], { EJ_KERNEL_POD_POLICY: '{"allowHostPath":true,"allowedCapabilities":["SYS_PTRACE"]}' });
    expect(c.kernelPodPolicy).to.include({ allowHostPath: true, allowPrivileged: false });
    expect(c.kernelPodPolicy.allowedCapabilities).to.deep.equal(["SYS_PTRACE"]);
    expect(() => parseConfig(["--role=sidecar", '--kernel-pod-policy={"allowPrivilged":true}'], {})).to.throw(ConfigError, /--kernel-pod-policy \(env EJ_KERNEL_POD_POLICY\): unknown key allowPrivilged/);
    expect(() => parseConfig(["--role=sidecar", '--kernel-pod-policy={"allowPrivileged":"yes"}'], {})).to.throw(ConfigError, /allowPrivileged must be true or false/);
    expect(() => parseConfig(["--role=sidecar", "--kernel-pod-policy=nope"], {})).to.throw(ConfigError, /not JSON/);
    expect(parseConfig(["--role=sidecar", '--kernel-pod-policy={"allowedSchedulerNames":["kai-scheduler"]}'], {}).kernelPodPolicy.allowedSchedulerNames).to.deep.equal(["kai-scheduler"]);
    expect(() => parseConfig(["--role=sidecar", '--kernel-pod-policy={"allowedSchedulerNames":"kai-scheduler"}'], {})).to.throw(ConfigError, /allowedSchedulerNames must be a list of scheduler names/);
  });

  it("defaults leader election on for the operator and off for the sidecar", () => {
    expect(parseConfig(["--role=operator"], {}).leaderElect).to.equal(true);
    expect(parseConfig(["--role=sidecar"], {}).leaderElect).to.equal(false);
  });

  it("uses the pod's namespace for the lease when no namespace is watched", () => {
    expect(parseConfig(["--role=operator"], {}, { inClusterNamespace: "ej-system" }).leaseNamespace).to.equal("ej-system");
    expect(parseConfig(["--role=operator", "--lease-namespace=elsewhere"], {}, { inClusterNamespace: "ej-system" }).leaseNamespace).to.equal("elsewhere");
  });

  const bad: Array<[string[], Record<string, string>, RegExp]> = [
    [[], {}, /--role \(env EJ_ROLE\) is required/],
    [["--role=gateway"], {}, /--role \(env EJ_ROLE\) must be one of operator, sidecar, got "gateway"/],
    [["--role=operator", "--concurrency=0"], {}, /--concurrency \(env EJ_CONCURRENCY\) must be an integer >= 1/],
    [["--role=operator"], { EJ_CONCURRENCY: "many" }, /--concurrency \(env EJ_CONCURRENCY\)/],
    [["--role=operator", "--log-level=loud"], {}, /--log-level .* must be one of debug, info, warn, error/],
    [["--role=operator", "--metrics-addr=8080"], {}, /--metrics-addr .* host:port/],
    [["--role=operator", "--leader-elect=maybe"], {}, /--leader-elect .* true or false/],
    [["--role=operator", "--namespace=Bad_NS"], {}, /--namespace .* valid namespace name/],
    [["--role=operator", "--lease-duration=5", "--renew-deadline=10"], {}, /--lease-duration > --renew-deadline > --retry-period/],
    [["--role=operator", "--lease-duration=abc"], {}, /--lease-duration .* positive number of seconds/],
    [["--role=operator", "--frobnicate"], {}, /unknown flag --frobnicate/],
    [["--role=operator", "stray"], {}, /unexpected argument "stray"/],
    [["--role"], {}, /flag --role needs a value/],
    [["--role=sidecar"], { EJ_GATEWAY_URL: "127.0.0.1:8888" }, /--gateway-url \(env EJ_GATEWAY_URL\) must be an http\(s\) URL/],
  ];
  for (const [argv, env, msg] of bad) {
    it(`rejects ${JSON.stringify(argv)} ${JSON.stringify(env)} naming the field`, () => {
      expect(() => parseConfig(argv, env)).to.throw(ConfigError, msg);
    });
  }
});

// The process kubelet's pure parts: $(VAR) expansion, env resolution, the image map, volume
// contents, the atomic writer, pod phase/status, flags and IP allocation.
import { expect } from "chai";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap, Pod, Secret } from "kubernetes-types/core/v1.js";
import { writeAtomically } from "./atomic-writer.ts";
import { ContainerConfigError, containerEnv, expandArgv, type ObjectLookups, type PodFacts } from "./env.ts";
import { expand, lookupIn } from "./expansion.ts";
import { parseFlags } from "./flags.ts";
import { ImageNotMappedError, loadImageMap, parseImageMap, processFor, repositoryOf } from "./image-map.ts";
import { IpAllocator } from "./ip-allocator.ts";
import { launchScript, MountTargets, sortMounts } from "./sandbox.ts";
import { podPhase, podStatus, type ContainerView, type PodView } from "./status.ts";
import { referencedObjects, volumePlan, VolumeNotReadyError, VolumeNotSupportedError } from "./volumes.ts";

const facts: PodFacts = { podIP: "127.0.0.12", hostIP: "127.0.0.1", nodeName: "pn", allocatable: { cpu: "8", memory: "32Gi" } };
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const configMaps: Record<string, ConfigMap> = { "ns/cm": { data: { a: "1", "b.txt": "bee" }, binaryData: { bin: b64("\u0001\u0002") } } };
const secrets: Record<string, Secret> = { "ns/sec": { data: { pw: b64("s3cret") } } };
const lookups: ObjectLookups = { configMap: (ns, n) => configMaps[`${ns}/${n}`], secret: (ns, n) => secrets[`${ns}/${n}`] };
const basePod = (spec: Partial<NonNullable<Pod["spec"]>> = {}): Pod => ({
  metadata: { name: "p", namespace: "ns", uid: "u-1", labels: { app: "x" }, annotations: { note: "n" } },
  spec: { containers: [{ name: "c", image: "python:3" }], serviceAccountName: "sa", ...spec },
});

describe("process kubelet: $(VAR) expansion", () => {
  const env = lookupIn({ A: "1", B: "two" });
  it("follows Kubernetes' rules", () => {
    expect(expand("$(A)-$(B)", env)).to.equal("1-two");
    expect(expand("$(MISSING) stays", env)).to.equal("$(MISSING) stays");
    expect(expand("$$(A) is escaped, $$ too", env)).to.equal("$(A) is escaped, $ too");
    expect(expand("plain $A and $", env)).to.equal("plain $A and $");
    expect(expand("unclosed $(A", env)).to.equal("unclosed $(A");
    expect(expand("$()", env)).to.equal("$()");
  });
});

describe("process kubelet: container env", () => {
  it("resolves envFrom, then env in order with downward-API fields and object refs", () => {
    const pod = basePod({
      containers: [{
        name: "c", image: "python",
        resources: { limits: { memory: "1Gi" }, requests: { cpu: "250m" } },
        envFrom: [{ configMapRef: { name: "cm" }, prefix: "CM_" }, { secretRef: { name: "sec" } }],
        env: [
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
          { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
          { name: "MEM_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
          { name: "CPU_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
          { name: "CPU_M", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
          { name: "KEY", valueFrom: { configMapKeyRef: { name: "cm", key: "b.txt" } } },
          { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "pw" } } },
          { name: "URL", value: "http://$(IP):$(PORT)/$(NAME)" },
          { name: "PORT", value: "8888" },
          { name: "OPT", valueFrom: { configMapKeyRef: { name: "nope", key: "x", optional: true } } },
          { name: "K8S", value: "$(KUBERNETES_SERVICE_HOST)" },
        ],
      }],
    });
    const env = containerEnv(pod, pod.spec!.containers[0]!, facts, lookups, { KUBERNETES_SERVICE_HOST: "127.0.0.1" });
    // envFrom takes a ConfigMap's data (not binaryData); $(PORT) is defined only after URL.
    expect(env).to.deep.equal({
      CM_a: "1", "CM_b.txt": "bee", pw: "s3cret",
      IP: "127.0.0.12", NAME: "p", NS: "ns", UID: "u-1", APP: "x", NODE: "pn", SA: "sa", HOST: "127.0.0.1",
      MEM_MI: "1024", CPU_LIMIT: "8", CPU_M: "250", KEY: "bee", PW: "s3cret",
      URL: "http://127.0.0.12:$(PORT)/p", PORT: "8888", K8S: "127.0.0.1",
    });
    expect(expandArgv(["--ip=$(IP)", "$(NOPE)", "$$(IP)"], env)).to.deep.equal(["--ip=127.0.0.12", "$(NOPE)", "$(IP)"]);
  });

  it("names the field when a referenced object or key is missing", () => {
    const missing = basePod({ containers: [{ name: "c", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm", key: "zzz" } } }] }] });
    expect(() => containerEnv(missing, missing.spec!.containers[0]!, facts, lookups)).to.throw(ContainerConfigError, /env\[0\] \(X\): configMapKeyRef: key "zzz" of configmap "cm" not found/);
    const bad = basePod({ containers: [{ name: "c", env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.bogus" } } }] }] });
    expect(() => containerEnv(bad, bad.spec!.containers[0]!, facts, lookups)).to.throw(/fieldPath "spec.bogus" is not supported/);
    const noSecret = basePod({ containers: [{ name: "c", envFrom: [{ secretRef: { name: "gone" } }] }] });
    expect(() => containerEnv(noSecret, noSecret.spec!.containers[0]!, facts, lookups)).to.throw(/envFrom\[0\].secretRef: secret "gone" not found/);
  });
});

describe("process kubelet: image map", () => {
  const map = parseImageMap([
    { match: "*python", env: { PATH: "/venv/bin:$(PATH)", WHERE: "$(POD_IP)" }, defaultCommand: ["python3"], defaultArgs: ["-V"] },
    { regex: "enterprise-gateway$", defaultCommand: ["/opt/start-eg.sh", "--ip=$(POD_IP)"], workingDir: "/tmp" },
    { match: "busybox", commandPrefix: ["/usr/bin/env"] },
  ]);
  const vars = { PATH: "/usr/bin", POD_IP: "127.0.0.12" };

  it("takes the repository without tag or digest", () => {
    expect(repositoryOf("python:3.12")).to.equal("python");
    expect(repositoryOf("localhost:5000/x/y:1")).to.equal("localhost:5000/x/y");
    expect(repositoryOf("docker.io/elyra/enterprise-gateway@sha256:abc")).to.equal("docker.io/elyra/enterprise-gateway");
    expect(repositoryOf("registry:5000/img")).to.equal("registry:5000/img");
  });

  it("applies Kubernetes' command/args rules over the entry's ENTRYPOINT and CMD", () => {
    const env = { IP: "127.0.0.12" };
    expect(processFor(map, { name: "c", image: "docker.io/library/python:3.12" }, env, vars).argv).to.deep.equal(["python3", "-V"]);
    expect(processFor(map, { name: "c", image: "python", args: ["-c", "print($(IP))"] }, env, vars).argv).to.deep.equal(["python3", "-c", "print(127.0.0.12)"]);
    const explicit = processFor(map, { name: "c", image: "python", command: ["jupyter"], args: ["lab", "--ip=$(IP)"] }, env, vars);
    expect(explicit.argv).to.deep.equal(["jupyter", "lab", "--ip=127.0.0.12"]);
    expect(explicit.imageEnv).to.deep.equal({ PATH: "/venv/bin:/usr/bin", WHERE: "127.0.0.12" });
    expect(explicit.workingDir).to.equal("/");
    const eg = processFor(map, { name: "eg", image: "elyra/enterprise-gateway:3.3.0" }, {}, vars);
    expect(eg.argv).to.deep.equal(["/opt/start-eg.sh", "--ip=127.0.0.12"]);
    expect(eg.workingDir).to.equal("/tmp");
    expect(processFor(map, { name: "c", image: "busybox", command: ["sh"] }, {}, vars).argv).to.deep.equal(["/usr/bin/env", "sh"]);
  });

  it("rejects unmapped images and entries without a command, naming the container and image", () => {
    expect(() => processFor(map, { name: "c", image: "quay.io/x/unknown:1" }, {}, vars)).to.throw(ImageNotMappedError, /container c: image "quay.io\/x\/unknown:1" \(repository "quay.io\/x\/unknown"\) matches no entry/);
    expect(() => processFor(map, { name: "c", image: "busybox" }, {}, vars)).to.throw(ImageNotMappedError, /no command to run/);
  });

  it("loads the example image map", () => {
    const example = loadImageMap(join(import.meta.dirname, "image-map.example.yaml"));
    expect(example.entries).to.have.length(3);
    const eg = processFor(example, { name: "eg", image: "elyra/enterprise-gateway:3.3.0" }, {}, { EJ_GATEWAY_VENV: "/v", PATH: "/bin", POD_IP: "127.0.0.20" });
    expect(eg.imageEnv).to.deep.equal({ PATH: "/v/bin:/bin", EG_IP: "127.0.0.20", EG_RESPONSE_IP: "127.0.0.20" });
  });

  it("validates entries, naming the entry and field", () => {
    expect(() => parseImageMap({ images: [{ match: "x", regex: "y" }] })).to.throw(/images\[0\]: exactly one of match/);
    expect(() => parseImageMap([{ match: "x", defaultCommand: "python" }])).to.throw(/images\[0\].defaultCommand: must be a list of strings/);
    expect(() => parseImageMap([{ regex: "(" }])).to.throw(/images\[0\].regex:/);
    expect(() => parseImageMap([{ match: "x", comand: [] }])).to.throw(/unknown field "comand"/);
    expect(() => parseImageMap({ nope: 1 })).to.throw(/expected a list/);
  });
});

describe("process kubelet: volumes", () => {
  const tokens = (): string => "tok";
  it("projects ConfigMap and Secret data through items and modes", () => {
    const pod = basePod();
    const cm = volumePlan(pod, { name: "v", configMap: { name: "cm", items: [{ key: "b.txt", path: "sub/b" }], defaultMode: 0o600 } }, facts, lookups, tokens);
    expect(cm).to.deep.equal({ kind: "files", files: [{ path: "sub/b", data: Buffer.from("bee"), mode: 0o600 }] });
    const all = volumePlan(pod, { name: "v", configMap: { name: "cm" } }, facts, lookups, tokens);
    expect(all.kind === "files" && all.files.map((f) => [f.path, f.data.toString("latin1"), f.mode])).to.deep.equal([["a", "1", 0o644], ["b.txt", "bee", 0o644], ["bin", "\u0001\u0002", 0o644]]);
    const sec = volumePlan(pod, { name: "s", secret: { secretName: "sec" } }, facts, lookups, tokens);
    expect(sec.kind === "files" && sec.files[0]!.data.toString()).to.equal("s3cret");
  });

  it("builds the service-account projection: token, ca.crt, namespace", () => {
    const withCa = { ...lookups, configMap: (ns: string, n: string) => (n === "kube-root-ca.crt" ? { data: { "ca.crt": "PEM" } } : lookups.configMap(ns, n)) };
    const plan = volumePlan(basePod(), {
      name: "kube-api-access-x",
      projected: {
        defaultMode: 0o644, sources: [
          { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
          { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
          { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
        ],
      },
    }, facts, withCa, tokens);
    expect(plan.kind === "files" && plan.files.map((f) => [f.path, f.data.toString()])).to.deep.equal([["token", "tok"], ["ca.crt", "PEM"], ["namespace", "ns"]]);
  });

  it("waits for missing objects and rejects volume types it cannot provide", () => {
    expect(() => volumePlan(basePod(), { name: "v", configMap: { name: "later" } }, facts, lookups, () => "t")).to.throw(VolumeNotReadyError, /volume v: configmap "later" not found/);
    expect(volumePlan(basePod(), { name: "v", configMap: { name: "later", optional: true } }, facts, lookups, () => "t")).to.deep.equal({ kind: "files", files: [] });
    expect(() => volumePlan(basePod(), { name: "v", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }, facts, lookups, () => undefined)).to.throw(VolumeNotReadyError, /token not issued/);
    expect(() => volumePlan(basePod(), { name: "v", persistentVolumeClaim: { claimName: "x" } }, facts, lookups, () => "t")).to.throw(VolumeNotSupportedError, /volume type persistentVolumeClaim is not supported/);
    expect(() => volumePlan(basePod(), { name: "v", configMap: { name: "cm", items: [{ key: "a", path: "../escape" }] } }, facts, lookups, () => "t")).to.throw(VolumeNotSupportedError, /must be relative/);
  });

  it("lists the ConfigMaps and Secrets a pod reads", () => {
    const pod = basePod({
      volumes: [{ name: "a", configMap: { name: "cm" } }, { name: "b", projected: { sources: [{ secret: { name: "s2" } }] } }],
      containers: [{ name: "c", envFrom: [{ secretRef: { name: "s1" } }], env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cm2", key: "k" } } }] }],
    });
    const refs = referencedObjects(pod);
    expect([...refs.configMaps].sort()).to.deep.equal(["ns/cm", "ns/cm2"]);
    expect([...refs.secrets].sort()).to.deep.equal(["ns/s1", "ns/s2"]);
  });
});

describe("process kubelet: atomic writer", () => {
  it("swaps ..data atomically, keeps user-visible symlinks, drops removed keys and old data", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "pk-aw-")), "vol");
    expect(writeAtomically(dir, [{ path: "a", data: Buffer.from("1"), mode: 0o644 }, { path: "d/b", data: Buffer.from("2"), mode: 0o600 }])).to.equal(true);
    expect(readFileSync(join(dir, "a"), "utf8")).to.equal("1");
    expect(readFileSync(join(dir, "d/b"), "utf8")).to.equal("2");
    expect(statSync(join(dir, "d/b")).mode & 0o777).to.equal(0o600);
    expect(lstatSync(join(dir, "a")).isSymbolicLink()).to.equal(true);
    expect(readlinkSync(join(dir, "a"))).to.equal("..data/a");
    const first = readlinkSync(join(dir, "..data"));
    expect(writeAtomically(dir, [{ path: "a", data: Buffer.from("1"), mode: 0o644 }, { path: "d/b", data: Buffer.from("2"), mode: 0o600 }])).to.equal(false);
    expect(writeAtomically(dir, [{ path: "a", data: Buffer.from("changed"), mode: 0o644 }])).to.equal(true);
    expect(readFileSync(join(dir, "a"), "utf8")).to.equal("changed");
    expect(readlinkSync(join(dir, "..data"))).to.not.equal(first);
    expect(readdirSync(dir).sort()).to.deep.equal(["..data", readlinkSync(join(dir, "..data")), "a"].sort());
  });
});

describe("process kubelet: pod phase and status", () => {
  const running: ContainerView = { name: "c", image: "i", init: false, restartCount: 0, state: { running: { startedAt: "t" } }, ready: true, started: true };
  const exited = (code: number): ContainerView => ({ ...running, state: { terminated: { exitCode: code } }, ready: false });
  const view = (containers: ContainerView[], extra: Partial<PodView> = {}): PodView => ({ podIP: "127.0.0.12", hostIP: "127.0.0.1", startTime: "t0", sandboxReady: true, initDone: true, containers, ...extra });
  const pod = (restartPolicy: string): Pod => basePod({ restartPolicy });

  it("follows the kubelet's phase rules per restart policy", () => {
    expect(podPhase(pod("Never"), view([running]))).to.equal("Running");
    expect(podPhase(pod("Never"), view([exited(0)]))).to.equal("Succeeded");
    expect(podPhase(pod("Never"), view([exited(2)]))).to.equal("Failed");
    expect(podPhase(pod("Never"), view([exited(2), running]))).to.equal("Running");
    expect(podPhase(pod("OnFailure"), view([exited(2)]))).to.equal("Running");
    expect(podPhase(pod("OnFailure"), view([exited(0)]))).to.equal("Succeeded");
    expect(podPhase(pod("Always"), view([exited(0)]))).to.equal("Running");
    expect(podPhase(pod("Always"), view([exited(0)], { stopping: true }))).to.equal("Succeeded");
    expect(podPhase(pod("Always"), view([{ ...running, state: { waiting: { reason: "ContainerCreating" } } }]))).to.equal("Pending");
    expect(podPhase(pod("Always"), view([running], { initDone: false }))).to.equal("Pending");
    expect(podPhase(pod("Always"), view([running], { failure: { reason: "ImageNotMapped", message: "m" } }))).to.equal("Failed");
  });

  it("reports IPs, conditions and keeps transition times of unchanged conditions", () => {
    const p = pod("Always");
    const s1 = podStatus(p, view([{ ...running, ready: false }]), "2026-01-01T00:00:00Z");
    expect(s1).to.deep.include({ phase: "Running", podIP: "127.0.0.12", podIPs: [{ ip: "127.0.0.12" }], hostIP: "127.0.0.1" });
    expect(s1.conditions!.find((c) => c.type === "Ready")).to.include({ status: "False", reason: "ContainersNotReady", message: "containers with unready status: [c]" });
    const s2 = podStatus({ ...p, status: s1 }, view([running]), "2026-01-01T00:00:05Z");
    const ready = s2.conditions!.find((c) => c.type === "Ready")!;
    expect(ready).to.include({ status: "True", lastTransitionTime: "2026-01-01T00:00:05Z" });
    expect(s2.conditions!.find((c) => c.type === "PodScheduled")!.lastTransitionTime).to.equal("2026-01-01T00:00:00Z");
  });
});

describe("process kubelet: flags, IPs, launch script", () => {
  it("parses flags and names the bad one", () => {
    const f = parseFlags(["--kubeconfig", "k", "--node-name", "pn", "--image-map=m.yaml", "--gpus", "2", "--label", "a=b", "--resource", "example.com/x=3"], {});
    expect(f.capacity).to.deep.equal({ cpu: "8", memory: "32Gi", pods: "110", "nvidia.com/gpu": "2", "example.com/x": "3" });
    expect(f.labels).to.deep.equal({ a: "b" });
    expect(f.taint).to.equal(true);
    expect(() => parseFlags(["--node-name", "pn", "--image-map", "m"], {})).to.throw(/--kubeconfig is required/);
    expect(() => parseFlags(["--kubeconfig", "k", "--node-name", "Bad_Name", "--image-map", "m"], {})).to.throw(/--node-name must be a DNS-1123 name/);
    expect(() => parseFlags(["--kubeconfig", "k", "--node-name", "pn", "--image-map", "m", "--gpus", "-1"], {})).to.throw(/--gpus must be an integer/);
    expect(() => parseFlags(["--kubeconfig", "k", "--node-name", "pn", "--image-map", "m", "--cpu", "lots"], {})).to.throw(/--cpu: "lots" is not a valid quantity/);
    expect(() => parseFlags(["--bogus"], {})).to.throw(/unknown flag --bogus/);
  });

  it("hands out unique loopback IPs from 127.0.0.10, keeps a preferred free one, reuses released ones", () => {
    const ips = new IpAllocator();
    expect(ips.allocate("a")).to.equal("127.0.0.10");
    expect(ips.allocate("b")).to.equal("127.0.0.11");
    expect(ips.allocate("a")).to.equal("127.0.0.10");
    expect(ips.allocate("c", "127.0.0.50")).to.equal("127.0.0.50");
    expect(ips.allocate("d", "127.0.0.50")).to.equal("127.0.0.12");
    ips.release("a");
    expect(ips.allocate("e")).to.equal("127.0.0.10");
  });

  it("never hands one IP to two kubelets sharing a registry, and takes over claims of dead kubelets", () => {
    const dir = mkdtempSync(join(tmpdir(), "pk-ips-"));
    const first = new IpAllocator(dir, process.pid);
    const second = new IpAllocator(dir, process.ppid); // another live process
    expect(first.allocate("a")).to.equal("127.0.0.10");
    expect(second.allocate("b")).to.equal("127.0.0.11");
    expect(second.allocate("c", "127.0.0.10")).to.equal("127.0.0.12");
    first.release("a");
    expect(second.allocate("d")).to.equal("127.0.0.10");
    const dead = new IpAllocator(dir, 2 ** 22 + 12345); // beyond pid_max: never alive
    expect(dead.allocate("e")).to.equal("127.0.0.13");
    expect(first.allocate("g")).to.equal("127.0.0.14"); // a dead kubelet's address is not handed out first
    expect(first.allocate("f", "127.0.0.13")).to.equal("127.0.0.13"); // but its pod may take it back
  });

  it("creates missing mount targets and removes them only when no live kubelet claims them", () => {
    const root = mkdtempSync(join(tmpdir(), "pk-mt-"));
    const registry = join(root, "registry");
    const target = join(root, "var/run/secrets/sa");
    const a = new MountTargets(registry, process.pid);
    const b = new MountTargets(registry, process.ppid); // another live kubelet
    a.ensure("pod-1", target, true);
    a.ensure("pod-2", target, true);
    b.ensure("pod-3", target, true);
    expect(existsSync(target)).to.equal(true);
    a.release("pod-1");
    a.release("pod-2");
    expect(existsSync(target), "removed while another kubelet's pod uses it").to.equal(true);
    b.release("pod-3"); // b did not create it: it stays (safe, if untidy)
    const c = new MountTargets(registry, process.pid);
    c.ensure("pod-4", join(root, "opt/x/file"), false);
    writeFileSync(join(registry, "ffff.1"), "unrelated claim");
    c.release("pod-4");
    expect(existsSync(join(root, "opt")), "created ancestors are removed too").to.equal(false);
    expect(existsSync(root)).to.equal(true);
    // Nested targets released parent-first still leave nothing behind.
    const d = new MountTargets(registry, process.pid);
    for (const t of ["srv/t/www", "srv/t/data", "srv/t/data/secret"]) d.ensure("pod-5", join(root, t), true);
    d.release("pod-5");
    expect(existsSync(join(root, "srv"))).to.equal(false);
  });

  it("cleans up after a kubelet that crashed holding mount targets", () => {
    const root = mkdtempSync(join(tmpdir(), "pk-mt-"));
    const registry = join(root, "registry");
    const deadPid = 2 ** 22 + 777; // beyond pid_max: never alive
    new MountTargets(registry, deadPid).ensure("pod-1", join(root, "a/b/sa"), true); // never released
    new MountTargets(registry, deadPid).ensure("pod-2", join(root, "c/sa"), true);
    const live = new MountTargets(registry, process.pid);
    live.ensure("pod-3", join(root, "c/sa"), true); // exists already: made by the dead one
    live.release("pod-3");
    expect(existsSync(join(root, "c")), "release inherits what a dead kubelet made").to.equal(false);
    expect(existsSync(join(root, "a/b/sa"))).to.equal(true);
    live.sweepStale();
    expect(existsSync(join(root, "a"))).to.equal(false);
    expect(readdirSync(registry)).to.deep.equal([]);
  });

  it("mounts parents before children and quotes every path", () => {
    expect(sortMounts([{ source: "s2", target: "/a/b/c", readOnly: false }, { source: "s1", target: "/a", readOnly: true }]).map((m) => m.target)).to.deep.equal(["/a", "/a/b/c"]);
    const script = launchScript({ id: "x", argv: ["x"], env: {}, workingDir: "/it's", hostname: "h", mounts: [{ source: "/s p", target: "/t", readOnly: true }], logFile: "/l", startErrorFile: "/e" },
      { unshare: "/u", sh: "/bin/sh", mount: "/bin/mount", hostname: "/bin/hostname", mkdir: "/bin/mkdir" }, "/cg");
    expect(script).to.contain(`'/bin/mount' --bind '/s p' '/t'`);
    expect(script).to.contain(`'/bin/mount' -o remount,bind,ro '/t'`);
    expect(script).to.contain(`cd '/it'\\''s'`);
    expect(script).to.contain(`echo $$ > '/cg/cgroup.procs'`);
    expect(script.trim().endsWith(`exec "$@"`)).to.equal(true);
  });
});

// Who may decide what about a kernel pod. Kernels run users' code, so the pod is restricted by
// default (the restricted Pod Security Standard, no API token), a kernel template may ask for more
// only as far as the cluster admin's kernel pod policy allows, and a notebook user may change the
// image only to one the kernelspec allows. Pure: the plan calls these, and a refusal is a Failed
// kernel with a reason, never a pod.
import type { Container, Pod, PodSecurityContext, SecurityContext } from "kubernetes-types/core/v1.js";
import type { JupyterKernel, JupyterKernelSpec } from "@elastic-jupyter/api";

/** What kernel pods may ask for beyond restricted (the operator chart's `kernelPodPolicy`). */
export interface KernelPodPolicy {
  allowPrivileged: boolean;
  allowHostNamespaces: boolean;
  allowHostPath: boolean;
  allowRunAsRoot: boolean;
  allowServiceAccountToken: boolean;
  allowedCapabilities: string[];
  /**
   * Schedulers besides the default one kernel pods may name in spec.schedulerName (e.g.
   * kai-scheduler for KAI's GPU fractions). Another scheduler decides where GPUs go, outside the
   * cluster's own accounting (KAI's fractions hold no extended resource), so it is the admin's call.
   */
  allowedSchedulerNames: string[];
}

export const RESTRICTED_KERNEL_POD_POLICY: KernelPodPolicy = {
  allowPrivileged: false, allowHostNamespaces: false, allowHostPath: false, allowRunAsRoot: false,
  allowServiceAccountToken: false, allowedCapabilities: [], allowedSchedulerNames: [],
};

/** The scheduler a pod gets when it names none. */
export const DEFAULT_SCHEDULER = "default-scheduler";

/** The policy from its JSON form (the chart's values as the operator hands them on); errors name the key. */
export function parseKernelPodPolicy(json: string): KernelPodPolicy {
  let raw: unknown;
  try { raw = JSON.parse(json); } catch (e) { throw new Error(`not JSON: ${(e as Error).message}`); }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error("must be a JSON object");
  const policy: KernelPodPolicy = structuredClone(RESTRICTED_KERNEL_POD_POLICY);
  for (const [key, value] of Object.entries(raw)) {
    if (key === "allowedCapabilities") {
      if (!Array.isArray(value) || !value.every((c) => typeof c === "string" && /^[A-Z_]+$/.test(c))) {
        throw new Error("allowedCapabilities must be a list of capability names such as SYS_PTRACE");
      }
      policy.allowedCapabilities = value as string[];
    } else if (key === "allowedSchedulerNames") {
      if (!Array.isArray(value) || !value.every((c) => typeof c === "string" && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(c))) {
        throw new Error("allowedSchedulerNames must be a list of scheduler names such as kai-scheduler");
      }
      policy.allowedSchedulerNames = value as string[];
    } else if (key in policy) {
      if (typeof value !== "boolean") throw new Error(`${key} must be true or false, got ${JSON.stringify(value)}`);
      (policy as unknown as Record<string, boolean>)[key] = value;
    } else {
      throw new Error(`unknown key ${key}; known: ${Object.keys(policy).join(", ")}`);
    }
  }
  return policy;
}

/** Restricted Pod Security Standard at pod level, matching the stock Jupyter images' user (jovyan 1000:100); gateways and notebooks use it too. */
export const RESTRICTED_POD_SECURITY: PodSecurityContext = {
  runAsNonRoot: true, runAsUser: 1000, runAsGroup: 100, fsGroup: 100, seccompProfile: { type: "RuntimeDefault" },
};

/**
 * The pod with the restricted securityContext filled in wherever its template left a field unset;
 * what the template sets explicitly stays (and the policy judges it).
 */
export function withRestrictedDefaults(pod: Pod): Pod {
  const spec = pod.spec!;
  const podSc: PodSecurityContext = { ...spec.securityContext };
  for (const [k, v] of Object.entries(RESTRICTED_POD_SECURITY) as [keyof PodSecurityContext, never][]) {
    if (podSc[k] === undefined) podSc[k] = v;
  }
  // A template that runs as root on purpose (allowed or not, the policy decides) must not get a
  // contradicting runAsNonRoot the kubelet would refuse at start.
  if (spec.securityContext?.runAsUser === 0 && spec.securityContext.runAsNonRoot === undefined) delete podSc.runAsNonRoot;
  const restrict = (c: Container): Container => {
    const sc: SecurityContext = { ...c.securityContext };
    // The API server refuses privileged together with allowPrivilegeEscalation: false.
    if (sc.allowPrivilegeEscalation === undefined && sc.privileged !== true) sc.allowPrivilegeEscalation = false;
    sc.capabilities = { ...sc.capabilities, drop: sc.capabilities?.drop ?? ["ALL"] };
    return { ...c, securityContext: sc };
  };
  return {
    ...pod,
    spec: {
      ...spec,
      securityContext: podSc,
      containers: spec.containers.map(restrict),
      ...(spec.initContainers ? { initContainers: spec.initContainers.map(restrict) } : {}),
    },
  };
}

const CHART_KEY = "kernelPodPolicy";

/** What in the pod goes beyond the policy: one message per field, each naming the field and the setting that would allow it. */
export function podPolicyViolations(pod: Pod, policy: KernelPodPolicy): string[] {
  const out: string[] = [];
  const spec = pod.spec ?? { containers: [] };
  const needs = (setting: keyof KernelPodPolicy) => `not allowed (the cluster admin can allow it with ${CHART_KEY}.${setting} in the elastic-jupyter-operator chart)`;
  if (!policy.allowHostNamespaces) {
    for (const f of ["hostNetwork", "hostPID", "hostIPC"] as const) if (spec[f]) out.push(`spec.${f}: ${needs("allowHostNamespaces")}`);
  }
  if (!policy.allowHostPath) {
    for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`spec.volumes[${v.name}].hostPath: ${needs("allowHostPath")}`);
  }
  if (!policy.allowServiceAccountToken) {
    if (spec.automountServiceAccountToken === true) out.push(`spec.automountServiceAccountToken: ${needs("allowServiceAccountToken")}`);
    for (const v of spec.volumes ?? []) {
      if (v.projected?.sources?.some((s) => s.serviceAccountToken)) out.push(`spec.volumes[${v.name}].projected.serviceAccountToken: ${needs("allowServiceAccountToken")}`);
    }
  }
  if (!policy.allowRunAsRoot) {
    if (spec.securityContext?.runAsNonRoot === false) out.push(`spec.securityContext.runAsNonRoot: false is ${needs("allowRunAsRoot")}`);
    if (spec.securityContext?.runAsUser === 0) out.push(`spec.securityContext.runAsUser: 0 is ${needs("allowRunAsRoot")}`);
  }
  if (spec.schedulerName && spec.schedulerName !== DEFAULT_SCHEDULER && !policy.allowedSchedulerNames.includes(spec.schedulerName)) {
    out.push(`spec.schedulerName ${spec.schedulerName}: ${needs("allowedSchedulerNames")}`);
  }
  const lists = [["containers", spec.containers], ["initContainers", spec.initContainers ?? []], ["ephemeralContainers", spec.ephemeralContainers ?? []]] as const;
  for (const [list, containers] of lists) {
    for (const c of containers as Container[]) {
      const at = `spec.${list}[${c.name}]`;
      const sc = c.securityContext ?? {};
      if (!policy.allowPrivileged) {
        if (sc.privileged) out.push(`${at}.securityContext.privileged: ${needs("allowPrivileged")}`);
        if (sc.allowPrivilegeEscalation) out.push(`${at}.securityContext.allowPrivilegeEscalation: ${needs("allowPrivileged")}`);
        if (sc.seccompProfile?.type === "Unconfined") out.push(`${at}.securityContext.seccompProfile Unconfined: ${needs("allowPrivileged")}`);
      }
      if (!policy.allowRunAsRoot) {
        if (sc.runAsNonRoot === false) out.push(`${at}.securityContext.runAsNonRoot: false is ${needs("allowRunAsRoot")}`);
        if (sc.runAsUser === 0) out.push(`${at}.securityContext.runAsUser: 0 is ${needs("allowRunAsRoot")}`);
      }
      const added = (sc.capabilities?.add ?? []).filter((cap) => !policy.allowedCapabilities.includes(cap.replace(/^CAP_/, "")));
      if (added.length) out.push(`${at}.securityContext.capabilities.add ${added.join(", ")}: ${needs("allowedCapabilities")}`);
      if (!policy.allowHostNamespaces) {
        for (const p of c.ports ?? []) if (p.hostPort) out.push(`${at}.ports.hostPort ${p.hostPort}: ${needs("allowHostNamespaces")}`);
      }
    }
  }
  return out;
}

/** A glob where `*` matches any characters, as a RegExp over the whole image reference. */
function imagePattern(glob: string): RegExp {
  return new RegExp(`^${glob.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

/**
 * Why the image the kernel asks for (KERNEL_IMAGE at launch) may not run, if it may not. The
 * kernelspec decides: only its own image, or one matching its `allowedImages`. A kernel without a
 * kernelspec was written whole by whoever may create JupyterKernels; its image is theirs.
 */
export function imageOverrideProblem(kernel: JupyterKernel, spec: JupyterKernelSpec | undefined): string | undefined {
  const image = kernel.spec.image;
  if (!image || !spec || image === spec.spec.image) return undefined;
  const allowed = spec.spec.allowedImages ?? [];
  if (allowed.some((p) => imagePattern(p).test(image))) return undefined;
  const name = `${spec.metadata?.namespace}/${spec.metadata?.name}`;
  return allowed.length
    ? `image ${image} (KERNEL_IMAGE) is not allowed by JupyterKernelSpec ${name}: spec.allowedImages allows only ${allowed.join(", ")}`
    : `image ${image} (KERNEL_IMAGE) is not allowed by JupyterKernelSpec ${name}: it runs ${spec.spec.image} and its spec.allowedImages lets users choose no other image`;
}

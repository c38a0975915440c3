// JupyterKernelSpec -> ConfigMap holding its kernel.json (operator role). The sidecar of every
// gateway that serves the kernelspec copies the ConfigMap into its kernels directory (files.ts), so
// an edit here reaches running gateways without a restart.
//
// Compatibility with the original operator (SEED.md): its process-proxy class
// `enterprise_gateway.services.processproxies.kubeflow.KubeflowProcessProxy` and its launcher
// command `kubeflow-launcher ...` existed only in its custom gateway image. Both mean "launch the
// kernel as a JupyterKernel", so they are rendered as our process proxy and launcher.
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import type { JupyterKernelSpec, JupyterKernelSpecStatus, JupyterKernelTemplate } from "@elastic-jupyter/api";
import { API_VERSION, KIND } from "../api.ts";
import { MANAGED_BY, ownedMeta, readyCondition, withConditions } from "../gateways/owned.ts";
import { KERNELSPEC_LABEL } from "./files.ts";
import { validateKernelTemplate } from "../kerneltemplates/validate.ts";

export const DEFAULT_PROCESS_PROXY = "elastic_jupyter.process_proxy.JupyterKernelProcessProxy";
export const LEGACY_PROCESS_PROXIES: readonly string[] = ["enterprise_gateway.services.processproxies.kubeflow.KubeflowProcessProxy"];
export const LEGACY_LAUNCHERS: readonly string[] = ["kubeflow-launcher"];
export const LAUNCHER_MODULE = "elastic_jupyter.launch_kernel";

export function kernelspecConfigMapName(spec: JupyterKernelSpec): string {
  return `${spec.metadata!.name!}-kernelspec`;
}

/**
 * The gateway's argv for a kernelspec: always our launcher, which creates the JupyterKernel the
 * sidecar turns into a pod. The gateway process holds a token that can create pods, so what a
 * kernelspec chooses runs in the kernel pod (kernelCommand), never in the gateway; spec.command
 * only names the launcher (the CRD refuses anything else), and className only our process proxy.
 */
export function defaultLauncherArgv(spec: JupyterKernelSpec): string[] {
  return [
    "python", "-m", LAUNCHER_MODULE,
    "--kernel-id", "{kernel_id}",
    "--port-range", "{port_range}",
    "--response-address", "{response_address}",
    "--public-key", "{public_key}",
    "--kernel-spec", spec.metadata!.name!,
    "--kernel-spec-namespace", spec.metadata!.namespace!,
    // Lets the launcher tell a user's KERNEL_IMAGE override from EG's default (the kernelspec's image).
    "--spec-image", spec.spec.image,
  ];
}

/** Whether spec.command names our launcher (the seed's `kubeflow-launcher`, or ours by module). */
export function namesOurLauncher(command: readonly string[]): boolean {
  return LEGACY_LAUNCHERS.includes(command[0]!)
    || (command.length >= 3 && ["python", "python3"].includes(command[0]!) && command[1] === "-m" && command[2] === LAUNCHER_MODULE);
}

/** kernel.json as Jupyter and Enterprise Gateway read it. */
export function kernelJson(spec: JupyterKernelSpec): Record<string, unknown> {
  const s = spec.spec;
  const metadata: Record<string, unknown> = {
    process_proxy: { class_name: DEFAULT_PROCESS_PROXY, config: { image_name: s.image } },
    // Where this kernelspec came from, for people reading the gateway's kernels directory.
    elastic_jupyter: {
      kernelSpec: { name: spec.metadata!.name!, namespace: spec.metadata!.namespace! },
      ...(s.template ? { template: { name: s.template.name, namespace: s.template.namespace ?? spec.metadata!.namespace! } } : {}),
    },
  };
  // Per-kernelspec idle culling (jupyter_server >= 2.9 reads it; with EG's 1.x the sidecar does the culling).
  if (s.cullIdleTimeout !== undefined) metadata.cull_idle_timeout = s.cullIdleTimeout;
  return {
    display_name: s.displayName ?? spec.metadata!.name!,
    language: s.language,
    argv: defaultLauncherArgv(spec),
    metadata,
  };
}

export function desiredKernelspecConfigMap(spec: JupyterKernelSpec): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMeta({ ...spec, kind: KIND.kernelSpec }, kernelspecConfigMapName(spec), { ...MANAGED_BY, [KERNELSPEC_LABEL]: spec.metadata!.name!, "app.kubernetes.io/component": "kernelspec" }),
    data: { "kernel.json": JSON.stringify(kernelJson(spec), null, 2) + "\n" },
  };
}

/** Problems with the kernelspec itself, each naming its field. */
export function kernelspecProblems(spec: JupyterKernelSpec): string[] {
  const problems: string[] = [];
  const name = spec.metadata!.name!;
  // The name is a label value (the sidecar selects by it) and a Jupyter kernel name.
  if (name.length > 63 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
    problems.push(`metadata.name ${JSON.stringify(name)} must be at most 63 characters of lowercase letters, digits, '-' and '.' (it is a label value and a kernel name)`);
  }
  // The CRD refuses these; checked again because a kernelspec stored before that rule could say otherwise.
  const cmd = spec.spec.command;
  if (cmd?.length && !namesOurLauncher(cmd)) {
    problems.push(`spec.command ${JSON.stringify(cmd[0])} is not the kernel launcher: the gateway runs only kubeflow-launcher / python -m ${LAUNCHER_MODULE}; what the kernel pod runs goes in spec.kernelCommand`);
  }
  const cls = spec.spec.className;
  if (cls && cls !== DEFAULT_PROCESS_PROXY && !LEGACY_PROCESS_PROXIES.includes(cls)) {
    problems.push(`spec.className ${JSON.stringify(cls)} is not a process proxy the gateway runs (${DEFAULT_PROCESS_PROXY})`);
  }
  return problems;
}

export interface KernelspecObservation {
  spec: JupyterKernelSpec;
  /** The referenced template; undefined when spec.template is unset or the template does not exist. */
  template: JupyterKernelTemplate | undefined;
  now: string;
}

export function kernelspecStatus(o: KernelspecObservation): JupyterKernelSpecStatus {
  const { spec } = o;
  const gen = spec.metadata?.generation;
  const ns = spec.metadata!.namespace!;
  const ready = ((): { ok: boolean; reason: string; message: string } => {
    const problems = kernelspecProblems(spec);
    if (problems.length) return { ok: false, reason: "InvalidSpec", message: problems.join("; ") };
    const ref = spec.spec.template;
    if (ref) {
      const refNs = ref.namespace ?? ns;
      if (refNs !== ns) {
        return { ok: false, reason: "TemplateInOtherNamespace", message: `spec.template refers to ${refNs}/${ref.name}, but gateways can only read JupyterKernelTemplates in their own namespace ${ns}` };
      }
      if (!o.template) return { ok: false, reason: "TemplateNotFound", message: `spec.template: JupyterKernelTemplate ${refNs}/${ref.name} does not exist` };
      const templateProblems = validateKernelTemplate(o.template);
      if (templateProblems.length) return { ok: false, reason: "TemplateInvalid", message: `spec.template: JupyterKernelTemplate ${refNs}/${ref.name} is invalid: ${templateProblems.join("; ")}` };
    }
    return { ok: true, reason: "ConfigMapReady", message: `kernel.json is in ConfigMap ${kernelspecConfigMapName(spec)}` };
  })();
  return {
    ...spec.status,
    observedGeneration: gen,
    configMapName: kernelspecConfigMapName(spec),
    conditions: withConditions(spec.status?.conditions, [readyCondition(ready.ok, ready.reason, ready.message, gen)], o.now),
  };
}

/**
 * The kernelspec ConfigMaps a gateway may serve (sidecar side): only those the operator rendered
 * for a JupyterKernelSpec that exists (named for it, controlled by it, same uid), whose kernel.json
 * runs our launcher and process proxy. Anyone who may create ConfigMaps could otherwise put an
 * argv in the gateway, whose service account can create pods. Pure; the rest are reported.
 */
export function trustedKernelspecConfigMaps(configMaps: ConfigMap[], kernelSpecs: JupyterKernelSpec[]): { trusted: ConfigMap[]; skipped: string[] } {
  const uids = new Map(kernelSpecs.map((k) => [k.metadata!.name!, k.metadata!.uid]));
  const trusted: ConfigMap[] = [];
  const skipped: string[] = [];
  for (const cm of configMaps) {
    const name = cm.metadata?.labels?.[KERNELSPEC_LABEL];
    if (!name) continue;
    const problem = ((): string | undefined => {
      const uid = uids.get(name);
      if (!uid) return `JupyterKernelSpec ${name} does not exist`;
      if (cm.metadata?.name !== `${name}-kernelspec`) return `not the operator's ConfigMap for JupyterKernelSpec ${name} (that is ${name}-kernelspec)`;
      const owner = cm.metadata?.ownerReferences?.find((r) => r.controller);
      if (owner?.apiVersion !== API_VERSION || owner.kind !== KIND.kernelSpec || owner.name !== name || owner.uid !== uid) {
        return `not controlled by JupyterKernelSpec ${name} (uid ${uid})`;
      }
      let json: { argv?: unknown; metadata?: { process_proxy?: { class_name?: unknown } } };
      try { json = JSON.parse(cm.data?.["kernel.json"] ?? ""); } catch { return "kernel.json is not JSON"; }
      const argv = Array.isArray(json.argv) ? json.argv : [];
      const specAt = argv.indexOf("--kernel-spec");
      if (argv[0] !== "python" || argv[1] !== "-m" || argv[2] !== LAUNCHER_MODULE || argv[specAt + 1] !== name) {
        return `kernel.json argv ${JSON.stringify(argv.slice(0, 3))} is not our launcher for ${name}`;
      }
      if (json.metadata?.process_proxy?.class_name !== DEFAULT_PROCESS_PROXY) return `kernel.json process proxy is not ${DEFAULT_PROCESS_PROXY}`;
      return undefined;
    })();
    if (problem) skipped.push(`ConfigMap ${cm.metadata?.name}: ${problem}`);
    else trusted.push(cm);
  }
  return { trusted, skipped };
}

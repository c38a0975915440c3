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
import { KIND } from "../api.ts";
import { MANAGED_BY, ownedMeta, readyCondition, withConditions } from "../gateways/owned.ts";
import { KERNELSPEC_LABEL } from "./files.ts";
import { validateKernelTemplate } from "../kerneltemplates/validate.ts";

export const DEFAULT_PROCESS_PROXY = "elastic_jupyter.process_proxy.JupyterKernelProcessProxy";
export const LEGACY_PROCESS_PROXIES: readonly string[] = ["enterprise_gateway.services.processproxies.kubeflow.KubeflowProcessProxy"];
export const LEGACY_LAUNCHERS: readonly string[] = ["kubeflow-launcher"];
/** Placeholders EG 3.x substitutes in argv; our launcher needs all four. */
export const PLACEHOLDERS = ["{kernel_id}", "{port_range}", "{response_address}", "{public_key}"] as const;

export function kernelspecConfigMapName(spec: JupyterKernelSpec): string {
  return `${spec.metadata!.name!}-kernelspec`;
}

export function processProxyClass(spec: JupyterKernelSpec): string {
  const c = spec.spec.className;
  return !c || LEGACY_PROCESS_PROXIES.includes(c) ? DEFAULT_PROCESS_PROXY : c;
}

/** Our launcher: creates the JupyterKernel the sidecar turns into a pod. */
export function defaultLauncherArgv(spec: JupyterKernelSpec): string[] {
  return [
    "python", "-m", "elastic_jupyter.launch_kernel",
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

export function launcherArgv(spec: JupyterKernelSpec): string[] {
  const cmd = spec.spec.command;
  if (!cmd?.length || LEGACY_LAUNCHERS.includes(cmd[0]!)) return defaultLauncherArgv(spec);
  return [...cmd];
}

/** kernel.json as Jupyter and Enterprise Gateway read it. */
export function kernelJson(spec: JupyterKernelSpec): Record<string, unknown> {
  const s = spec.spec;
  const metadata: Record<string, unknown> = {
    process_proxy: { class_name: processProxyClass(spec), config: { image_name: s.image } },
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
    argv: launcherArgv(spec),
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
  const cmd = spec.spec.command;
  if (cmd?.length && !LEGACY_LAUNCHERS.includes(cmd[0]!)) {
    const text = cmd.join(" ");
    const missing = PLACEHOLDERS.filter((p) => !text.includes(p));
    if (missing.length) problems.push(`spec.command must pass ${missing.join(", ")} to the launcher (Enterprise Gateway 3.x substitutes them; the kernel cannot connect back without them)`);
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

// The JupyterKernelSpec controller (operator role): kernel.json into a ConfigMap the gateways'
// sidecars sync, and a status that checks the referenced template.
import type { JupyterKernelSpec, JupyterKernelTemplate } from "@elastic-jupyter/api";
import type { Cache } from "../runtime/cache.ts";
import { splitKey, type KubeClient, type KubeObject } from "../runtime/client.ts";
import type { ControllerSpec } from "../runtime/controller.ts";
import { applyObject, applyStatus } from "../runtime/apply.ts";
import { GVK, MANAGED_SELECTOR, sameStatus } from "../gateways/owned.ts";
import { desiredKernelspecConfigMap, kernelspecStatus } from "./configmap.ts";

export interface KernelspecControllerDeps {
  client: KubeClient;
  cache: Cache;
  now?: () => Date;
}

/** The namespace/name of the template a kernelspec refers to, if any. */
function templateRef(spec: JupyterKernelSpec): { namespace: string; name: string } | undefined {
  const ref = spec.spec.template;
  return ref ? { namespace: ref.namespace ?? spec.metadata!.namespace!, name: ref.name } : undefined;
}

export function kernelspecController(deps: KernelspecControllerDeps): ControllerSpec {
  const { client, cache } = deps;
  const now = deps.now ?? (() => new Date());

  async function reconcile(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const spec = cache.get<JupyterKernelSpec & KubeObject>(GVK.kernelSpec, namespace, name);
    if (!spec || spec.metadata?.deletionTimestamp) return;
    const ref = templateRef(spec);
    const template = ref ? cache.get<JupyterKernelTemplate & KubeObject>(GVK.kernelTemplate, ref.namespace, ref.name) : undefined;
    const status = kernelspecStatus({ spec, template, now: now().toISOString().replace(/\.\d{3}Z$/, "Z") });
    // A name that cannot be a label value gets no ConfigMap (the status says why).
    if (name.length <= 63) await applyObject(client, desiredKernelspecConfigMap(spec) as KubeObject);
    if (!sameStatus(spec.status, status)) await applyStatus(client, spec, status);
  }

  // A template appearing, changing or vanishing concerns the kernelspecs that refer to it.
  const kernelspecsUsing = (obj: KubeObject): string[] => cache.list<JupyterKernelSpec & KubeObject>(GVK.kernelSpec)
    .filter((s) => {
      const ref = templateRef(s);
      return ref?.name === obj.metadata?.name && ref?.namespace === obj.metadata?.namespace;
    })
    .map((s) => `${s.metadata!.namespace}/${s.metadata!.name}`);

  return {
    name: "kernelspecs",
    for: GVK.kernelSpec,
    owns: [{ ...GVK.configMap, labelSelector: MANAGED_SELECTOR }],
    watches: [{ ...GVK.kernelTemplate, map: kernelspecsUsing }],
    reconcile: async (key) => { await reconcile(key); },
  };
}

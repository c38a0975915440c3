// The JupyterKernelTemplate controller (operator role): validates each template into its Ready
// condition. Nothing is created from a template here; the sidecar uses it when a kernel starts.
import type { JupyterKernelTemplate } from "@elastic-jupyter/api";
import type { Cache } from "../runtime/cache.ts";
import { splitKey, type KubeClient, type KubeObject } from "../runtime/client.ts";
import type { ControllerSpec } from "../runtime/controller.ts";
import { applyStatus } from "../runtime/apply.ts";
import { GVK, sameStatus } from "../gateways/owned.ts";
import { kernelTemplateStatus } from "./validate.ts";

export function kernelTemplateController(deps: { client: KubeClient; cache: Cache; now?: () => Date }): ControllerSpec {
  const { client, cache } = deps;
  const now = deps.now ?? (() => new Date());
  return {
    name: "kerneltemplates",
    for: GVK.kernelTemplate,
    reconcile: async (key) => {
      const { namespace, name } = splitKey(key);
      const t = cache.get<JupyterKernelTemplate & KubeObject>(GVK.kernelTemplate, namespace, name);
      if (!t || t.metadata?.deletionTimestamp) return;
      const status = kernelTemplateStatus(t, now().toISOString().replace(/\.\d{3}Z$/, "Z"));
      if (!sameStatus(t.status, status)) await applyStatus(client, t, status);
    },
  };
}

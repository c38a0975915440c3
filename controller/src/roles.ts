// Which controllers each role runs. Reconciler folders (kernels/, gateways/, notebooks/,
// kernelspecs/) export factories; add them to a role's list here. A factory receives the manager
// (for its cache, client, metrics and config) and returns the controller(s) to register.
import type { Role } from "./runtime/config.ts";
import type { ControllerSpec } from "./runtime/controller.ts";
import type { Manager } from "./runtime/manager.ts";
import { operatorRole } from "./operator.ts";
import { sidecarControllers } from "./sidecar.ts";

export type ControllerFactory = (mgr: Manager) => ControllerSpec | ControllerSpec[];

export const roleControllers: Record<Role, ControllerFactory[]> = {
  // JupyterGateway, JupyterNotebook, JupyterKernelSpec reconcilers.
  operator: [operatorRole],
  // JupyterKernel -> pods, kernelspec sync into the gateway's kernels directory.
  sidecar: [(mgr) => sidecarControllers(mgr, {
    gateway: mgr.config.gateway ?? "",
    gatewayUrl: mgr.config.gatewayUrl ?? "",
    gatewayToken: mgr.config.gatewayToken ?? "",
    kernelsDir: mgr.config.kernelsDir ?? "",
    bootstrapConfigMap: mgr.config.bootstrapConfigMap ?? "elastic-jupyter-kernel-bootstrap",
    kernelPodPolicy: mgr.config.kernelPodPolicy,
  })],
};

/** Registers the role's controllers with the manager; returns their names. */
export function registerRole(mgr: Manager, role: Role, factories: Record<Role, ControllerFactory[]> = roleControllers): string[] {
  const names: string[] = [];
  for (const factory of factories[role]) {
    const specs = factory(mgr);
    for (const spec of Array.isArray(specs) ? specs : [specs]) names.push(mgr.add(spec).name);
  }
  return names;
}

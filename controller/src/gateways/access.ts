// Which namespaces may use a gateway. A gateway runs its own namespace's kernels, GPUs and volumes,
// so a notebook elsewhere gets its token only when the gateway lists that namespace.
import type { JupyterGateway } from "@elastic-jupyter/api";

export function gatewayServesNamespace(gw: JupyterGateway, namespace: string | undefined): boolean {
  if (gw.metadata?.namespace === namespace) return true;
  const allowed = gw.spec.allowedNamespaces ?? [];
  return allowed.includes("*") || (namespace !== undefined && allowed.includes(namespace));
}

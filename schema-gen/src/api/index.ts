// The typed API of elastic-jupyter: types of the five kinds and the constants that name them.
// These types are the single source of truth: `npm run generate` turns them into the CRDs, the
// chart's values.schema.json and the reference docs.
export type * from "./common.ts";
export type * from "./gateway.ts";
export type * from "./kernel.ts";
export type * from "./kernelspec.ts";
export type * from "./kerneltemplate.ts";
export type * from "./notebook.ts";
export { DNS_SUBDOMAIN_PATTERN, PORT_RANGE_PATTERN } from "./common.ts";

export const GROUP = "kubeflow.tkestack.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
/** The category every kind belongs to: `kubectl get jupyter` lists them all. */
export const CATEGORY = "jupyter";

/** How one kind is named in the API. */
export interface KindNames {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
}

function names(kind: string, shortName: string): KindNames {
  const singular = kind.toLowerCase();
  return { kind, listKind: `${kind}List`, plural: `${singular}s`, singular, shortNames: [shortName] };
}

export const JUPYTER_GATEWAY = names("JupyterGateway", "jg");
export const JUPYTER_NOTEBOOK = names("JupyterNotebook", "jn");
export const JUPYTER_KERNEL = names("JupyterKernel", "jk");
export const JUPYTER_KERNEL_TEMPLATE = names("JupyterKernelTemplate", "jkt");
export const JUPYTER_KERNEL_SPEC = names("JupyterKernelSpec", "jks");

/** All five kinds, in a stable order. */
export const KINDS: readonly KindNames[] = [JUPYTER_GATEWAY, JUPYTER_KERNEL, JUPYTER_KERNEL_SPEC, JUPYTER_KERNEL_TEMPLATE, JUPYTER_NOTEBOOK];

// Names the controller uses for our API and the labels it puts on what it creates. The API's
// names live in schema-gen, which the controller image does not ship (types only), so they are
// repeated here; api.unit.test.ts checks they match.
export const GROUP = "kubeflow.tkestack.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const KIND = {
  gateway: "JupyterGateway",
  notebook: "JupyterNotebook",
  kernel: "JupyterKernel",
  kernelTemplate: "JupyterKernelTemplate",
  kernelSpec: "JupyterKernelSpec",
} as const;

export const PLURAL = {
  gateway: "jupytergateways",
  notebook: "jupyternotebooks",
  kernel: "jupyterkernels",
  kernelTemplate: "jupyterkerneltemplates",
  kernelSpec: "jupyterkernelspecs",
} as const;

export const LABELS = {
  kernel: `${GROUP}/kernel`,
  kernelSpec: `${GROUP}/kernelspec`,
  gateway: `${GROUP}/gateway`,
  notebook: `${GROUP}/notebook`,
} as const;

export { FIELD_MANAGER } from "./runtime/apply.ts";

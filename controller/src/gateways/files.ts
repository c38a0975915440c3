// The files a gateway pod mounts from ConfigMaps the operator renders in the gateway's namespace:
// our Python package for Enterprise Gateway (process proxy + launcher) and the kernel bootstrap
// that kernel pods run. The operator reads both from directories (the chart mounts them, a source
// checkout has them under charts/elastic-jupyter/files), so plain-manifest users get them too.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import type { JupyterGateway } from "@elastic-jupyter/api";
import { KIND, LABELS } from "../api.ts";
import { MANAGED_BY, ownedMeta } from "./owned.ts";

/** The Python package EG imports our process proxy and launcher from. */
export const GATEWAY_PACKAGE = "elastic_jupyter";

const chartFiles = fileURLToPath(new URL("../../../charts/elastic-jupyter/files/", import.meta.url));
/** Defaults when running from a checkout (tests, `node controller/dist/main.js`) or an image that keeps that layout. */
export const DEFAULT_GATEWAY_FILES_DIR = join(chartFiles, "gateway");
export const DEFAULT_KERNEL_FILES_DIR = join(chartFiles, "kernel");
export const DEFAULT_NOTEBOOK_FILES_DIR = join(chartFiles, "notebook");
/** Direct mode's Python package for notebook servers, and its dist-info (the provisioner's entry point). */
export const NOTEBOOK_PACKAGE = "elastic_jupyter_direct";
export const NOTEBOOK_DIST_INFO = "elastic_jupyter_direct-1.0.dist-info";

/** File name -> text. */
export type FileSet = Record<string, string>;

const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

function readFlatDir(dir: string, what: string, keep: (name: string) => boolean): FileSet {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`${what}: cannot read directory ${dir}: ${(e as Error).message}`);
  }
  const files: FileSet = {};
  for (const name of names.sort()) {
    // A ConfigMap mounted as a directory holds `..data` links and dot-dirs: skip them.
    if (name.startsWith(".") || !keep(name)) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    if (!CONFIGMAP_KEY.test(name)) throw new Error(`${what}: file name ${JSON.stringify(name)} cannot be a ConfigMap key`);
    files[name] = readFileSync(path, "utf8");
  }
  return files;
}

/** Reads `<dir>/elastic_jupyter/*.py`: the files of the gateway-files ConfigMap. */
export function readGatewayFiles(dir: string): FileSet {
  const files = readFlatDir(join(dir, GATEWAY_PACKAGE), "gateway files", (n) => n.endsWith(".py"));
  for (const required of ["__init__.py", "process_proxy.py", "launch_kernel.py"]) {
    if (!files[required]) throw new Error(`gateway files: ${join(dir, GATEWAY_PACKAGE, required)} is missing`);
  }
  return files;
}

/**
 * Reads `<dir>/elastic_jupyter_direct/*.py` and `<dir>/dist-info/*` as one flat FileSet: package
 * files by name, dist-info files prefixed `dist-info.` (ConfigMap keys have no slashes; the notebook
 * pod's volume items put each where Python finds it).
 */
export function readNotebookFiles(dir: string): FileSet {
  const files = readFlatDir(join(dir, NOTEBOOK_PACKAGE), "notebook files", (n) => n.endsWith(".py"));
  for (const [name, text] of Object.entries(readFlatDir(join(dir, "dist-info"), "notebook files", () => true))) files[`dist-info.${name}`] = text;
  for (const required of ["__init__.py", "provisioner.py", "kernelspecs.py", "dist-info.entry_points.txt"]) {
    if (!files[required]) throw new Error(`notebook files: ${required} is missing under ${dir}`);
  }
  return files;
}

/** Where each notebook-files key goes inside the mounted directory (on PYTHONPATH). */
export function notebookFilePath(key: string): string {
  return key.startsWith("dist-info.") ? `${NOTEBOOK_DIST_INFO}/${key.slice("dist-info.".length)}` : `${NOTEBOOK_PACKAGE}/${key}`;
}

/** Reads the kernel bootstrap directory (bootstrap.py and anything beside it). */
export function readKernelFiles(dir: string): FileSet {
  const files = readFlatDir(dir, "kernel files", () => true);
  if (!files["bootstrap.py"]) throw new Error(`kernel files: ${join(dir, "bootstrap.py")} is missing`);
  return files;
}

export function gatewayFilesConfigMapName(gw: JupyterGateway): string {
  return `${gw.metadata!.name!}-gateway-files`;
}

/** Named per gateway (not per namespace) so each has exactly one owner and is deleted with it;
 *  the sidecar passes this name to the kernel reconciler as its bootstrapConfigMap. */
export function kernelBootstrapConfigMapName(gatewayName: string): string {
  return `${gatewayName}-kernel-bootstrap`;
}

function configMap(gw: JupyterGateway, name: string, data: FileSet, component: string): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: ownedMeta({ ...gw, kind: KIND.gateway }, name, { ...MANAGED_BY, [LABELS.gateway]: gw.metadata!.name!, "app.kubernetes.io/component": component }),
    data: { ...data },
  };
}

export function desiredGatewayFilesConfigMap(gw: JupyterGateway, files: FileSet): ConfigMap {
  return configMap(gw, gatewayFilesConfigMapName(gw), files, "gateway-files");
}

export function desiredKernelBootstrapConfigMap(gw: JupyterGateway, files: FileSet): ConfigMap {
  return configMap(gw, kernelBootstrapConfigMapName(gw.metadata!.name!), files, "kernel-bootstrap");
}

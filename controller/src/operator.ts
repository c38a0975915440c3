// The operator role's controllers and their settings: what main.ts registers for `--role operator`.
// Settings come from the environment (the chart sets them on the operator Deployment), because the
// shared flag parser only knows the runtime's flags; each has a default that works from a checkout.
import type { Cache } from "./runtime/cache.ts";
import type { KubeClient } from "./runtime/client.ts";
import type { ControllerSpec } from "./runtime/controller.ts";
import { DEFAULT_GATEWAY_IMAGE, DEFAULT_SIDECAR_IMAGE } from "./gateways/deployment.ts";
import { DEFAULT_GATEWAY_FILES_DIR, DEFAULT_KERNEL_FILES_DIR, DEFAULT_NOTEBOOK_FILES_DIR, readGatewayFiles, readKernelFiles, readNotebookFiles, type FileSet } from "./gateways/files.ts";
import { gatewayController } from "./gateways/reconciler.ts";
import { kernelspecController } from "./kernelspecs/reconciler.ts";
import { kernelTemplateController } from "./kerneltemplates/reconciler.ts";
import { DEFAULT_NOTEBOOK_IMAGE } from "./notebooks/deployment.ts";
import { notebookController } from "./notebooks/reconciler.ts";
import { directKernelController } from "./kernels/direct-controller.ts";
import type { Logger } from "./runtime/log.ts";
import { RESTRICTED_KERNEL_POD_POLICY, parseKernelPodPolicy, type KernelPodPolicy } from "./kernels/policy.ts";

export interface OperatorOptions {
  gatewayImage: string;
  sidecarImage: string;
  notebookImage: string;
  gatewayFiles: FileSet;
  kernelFiles: FileSet;
  /** The direct-mode provisioner package for notebook pods (files/notebook). */
  notebookFiles: FileSet;
  /** The cluster admin's kernel pod policy, handed to every gateway's sidecar. */
  kernelPodPolicy: KernelPodPolicy;
}

/** Environment variable -> meaning; the names the chart and the docs use. */
export const OPERATOR_ENV = {
  gatewayImage: "EJ_GATEWAY_IMAGE",
  sidecarImage: "EJ_SIDECAR_IMAGE",
  notebookImage: "EJ_NOTEBOOK_IMAGE",
  gatewayFilesDir: "EJ_GATEWAY_FILES_DIR",
  kernelFilesDir: "EJ_KERNEL_FILES_DIR",
  notebookFilesDir: "EJ_NOTEBOOK_FILES_DIR",
  kernelPodPolicy: "EJ_KERNEL_POD_POLICY",
} as const;

const IMAGE = /^[^\s]+$/;

/** Reads the settings and the files they point at; every bad value fails naming its variable. */
export function operatorOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorOptions {
  const image = (name: string, fallback: string): string => {
    const v = env[name] || fallback;
    if (!IMAGE.test(v)) throw new Error(`${name} must be an image reference without spaces, got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    gatewayImage: image(OPERATOR_ENV.gatewayImage, DEFAULT_GATEWAY_IMAGE),
    sidecarImage: image(OPERATOR_ENV.sidecarImage, DEFAULT_SIDECAR_IMAGE),
    notebookImage: image(OPERATOR_ENV.notebookImage, DEFAULT_NOTEBOOK_IMAGE),
    gatewayFiles: withVar(OPERATOR_ENV.gatewayFilesDir, () => readGatewayFiles(env[OPERATOR_ENV.gatewayFilesDir] || DEFAULT_GATEWAY_FILES_DIR)),
    kernelFiles: withVar(OPERATOR_ENV.kernelFilesDir, () => readKernelFiles(env[OPERATOR_ENV.kernelFilesDir] || DEFAULT_KERNEL_FILES_DIR)),
    notebookFiles: withVar(OPERATOR_ENV.notebookFilesDir, () => readNotebookFiles(env[OPERATOR_ENV.notebookFilesDir] || DEFAULT_NOTEBOOK_FILES_DIR)),
    kernelPodPolicy: withVar(OPERATOR_ENV.kernelPodPolicy, () => {
      const v = env[OPERATOR_ENV.kernelPodPolicy];
      return v ? parseKernelPodPolicy(v) : structuredClone(RESTRICTED_KERNEL_POD_POLICY);
    }),
  };
}

function withVar<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
}

export function operatorControllers(deps: { client: KubeClient; cache: Cache; options: OperatorOptions; now?: () => Date; log?: Logger }): ControllerSpec[] {
  const { client, cache, options, now } = deps;
  const common = { client, cache, ...(now ? { now } : {}) };
  return [
    gatewayController({ ...common, render: { gatewayImage: options.gatewayImage, sidecarImage: options.sidecarImage, gatewayFiles: options.gatewayFiles, kernelPodPolicy: options.kernelPodPolicy }, kernelFiles: options.kernelFiles }),
    notebookController({ ...common, render: { notebookImage: options.notebookImage, notebookFiles: options.notebookFiles, kernelFiles: options.kernelFiles } }),
    kernelspecController(common),
    kernelTemplateController(common),
    // Direct-mode notebooks' kernels: the operator makes their pods (see kernels/direct-controller.ts).
    directKernelController({ client, cache, kernelPodPolicy: options.kernelPodPolicy, ...(deps.log ? { log: deps.log } : {}) }),
  ];
}

/** The roles.ts factory for `--role operator`. */
export function operatorRole(mgr: { client: KubeClient; cache: Cache; log?: Logger }): ControllerSpec[] {
  return operatorControllers({ client: mgr.client, cache: mgr.cache, options: operatorOptionsFromEnv(), ...(mgr.log ? { log: mgr.log } : {}) });
}

// One e2e environment (ci/e2e/setup.ts) per mocha run, shared by the e2e and browser suites: it
// takes ~40 s to start, so both use the same gateway and notebook server. Started on first use,
// stopped by a root-level `after` hook (registered when a suite file imports this module), so it
// outlives the suites that share it.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startE2E, type E2EEnvironment } from "../../e2e/setup.ts";
import { testCluster } from "../cluster.ts";

/** Culling per kernelspec: GPU kernels go after seconds of idleness (so the culling test is short),
 *  CPU kernels keep the gateway's long timeout. Connected kernels are never culled (cullConnected false). */
export const E2E_GATEWAY_CULL_IDLE_TIMEOUT = 600;
export const E2E_GPU_CULL_IDLE_TIMEOUT = 10;
export const E2E_CULL_INTERVAL = 3;

let env: Promise<E2EEnvironment> | undefined;

export function e2eEnvironment(): Promise<E2EEnvironment> {
  env ??= startE2E({
    kubeconfig: testCluster.kubeconfig,
    namespace: `e2e-${Math.random().toString(36).slice(2, 8)}`,
    nodeName: `e2e-process-${Math.random().toString(36).slice(2, 7)}`,
    stateDir: mkdtempSync(join(tmpdir(), "ej-e2e-")),
    gpus: 1,
    cullIdleTimeout: E2E_GATEWAY_CULL_IDLE_TIMEOUT,
    gpuCullIdleTimeout: E2E_GPU_CULL_IDLE_TIMEOUT,
    cullInterval: E2E_CULL_INTERVAL,
    launchTimeout: 60,
    // The direct-mode notebook beside the gateway's (ci/test/e2e/direct.test.ts): same kernelspecs,
    // its own culler (the GPU kernelspec's cullIdleTimeout applies to it too).
    direct: { cullIdleTimeout: E2E_GATEWAY_CULL_IDLE_TIMEOUT, cullInterval: E2E_CULL_INTERVAL, launchTimeout: 60 },
    log: (m) => console.log(`      e2e setup ${m}`),
  });
  return env;
}

after(async function () {
  this.timeout(60_000);
  if (!env) return;
  const e = await env.catch(() => undefined);
  env = undefined;
  await e?.stop({ deleteNamespace: true });
});

// Entry point, compiled by `npm run build`: `node controller/dist/main.js --role operator|sidecar [flags]`
// (see runtime/config.ts).
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { registerRole } from "./roles.ts";
import { KubeClient } from "./runtime/client.ts";
import { ConfigError, parseConfig } from "./runtime/config.ts";
import { createLogger } from "./runtime/log.ts";
import { Manager } from "./runtime/manager.ts";

const saNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env, {
      hostname: hostname(),
      inClusterNamespace: existsSync(saNamespaceFile) ? readFileSync(saNamespaceFile, "utf8").trim() : undefined,
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`elastic-jupyter controller: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, { role: config.role });
  const client = KubeClient.fromConfig(config.kubeconfig);
  const manager = new Manager({ client, config, log });
  const names = registerRole(manager, config.role);
  log.info("starting", { controllers: names, namespace: config.namespace || "(all)", leaderElect: config.leaderElect, identity: config.identity });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log.warn("second signal: exiting now", { signal });
      process.exit(1);
    }
    stopping = true;
    log.info("signal received, shutting down", { signal });
    manager.stop().then(() => process.exit(0), (err: unknown) => {
      log.error("shutdown failed", { err });
      process.exit(1);
    });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  await manager.start();
  log.info("running", { metricsPort: manager.metricsPort });
}

main().catch((err: unknown) => {
  process.stderr.write(`elastic-jupyter controller failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});

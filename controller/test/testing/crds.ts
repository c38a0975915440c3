// Installs the generated CRDs into the test cluster (as a user would: server-side kubectl apply).
import { join } from "node:path";
import { kubectlOk, repoRoot } from "../../../ci/test/cluster.ts";

export const CRDS_DIR = join(repoRoot, "charts/elastic-jupyter/files/crds");

export async function installCrds(): Promise<void> {
  await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", CRDS_DIR]);
  await kubectlOk(["wait", "--for=condition=Established", "--timeout=60s", "-f", CRDS_DIR]);
}

// Mocha global fixture: one real local control plane for the whole test run, torn down at the end.
// EJ_TEST_KEEP_CLUSTER=1 leaves it up for debugging; EJ_TEST_CLUSTER_PORT_BASE moves its ports.
import { testCluster } from "./cluster.ts";

export async function mochaGlobalSetup(): Promise<void> {
  await testCluster.up();
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (process.env.EJ_TEST_KEEP_CLUSTER !== "1") await testCluster.down();
}

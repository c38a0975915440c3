// The operator as the operator chart deploys it, for cluster tests: the chart is installed with
// Helm, its operator pod lands on a kwok node and never runs, so the operator runs here as a local
// process with a token of the ServiceAccount the chart created and the flags and environment of
// the chart's Deployment (its Lease, its kernel pod policy). What it may do is the chart's RBAC.
import { getJson, waitFor } from "../cluster.ts";
import { startController, type ControllerProcess } from "../../../controller/test/testing/controller-process.ts";
import { installCrds } from "../../../controller/test/testing/crds.ts";
import { serviceAccountKubeconfig } from "../../../controller/test/gateways/operator-harness.ts";
import { HELMS, helm, installOperator } from "./helm.ts";

export interface ChartOperator {
  process: ControllerProcess;
  /** The chart's operator Deployment, as installed. */
  deployment: any;
  serviceAccount: string;
  stop(): Promise<number | null>;
}

/**
 * Installs the operator chart as `release` in `namespace` and runs the operator the way its
 * Deployment says. CRDs are applied as the other suites apply them (the chart's copy would fight
 * them over field ownership). `watchNamespace` scopes the operator as `operator.watchNamespace` would.
 */
export async function startChartOperator(release: string, namespace: string, opts: { values?: string[]; watchNamespace?: string } = {}): Promise<ChartOperator> {
  await installCrds();
  await installOperator(HELMS.helm3, release, namespace, ["--set", "crds.install=false", ...(opts.values ?? [])]);
  const operator = await runChartOperator(namespace, opts);
  return {
    ...operator,
    async stop() {
      const code = await operator.stop();
      await helm(HELMS.helm3, ["uninstall", release, "--namespace", namespace]);
      return code;
    },
  };
}

/** Runs the operator as the operator chart installed in `namespace` (by Helm, helmfile, ...) deploys it. */
export async function runChartOperator(namespace: string, opts: { watchNamespace?: string } = {}): Promise<ChartOperator> {
  const deployment = (await getJson<any>(["-n", namespace, "get", "deployment", "-l", "app.kubernetes.io/component=operator"])).items[0];
  const container = deployment.spec.template.spec.containers[0];
  const serviceAccount = deployment.spec.template.spec.serviceAccountName as string;
  // Its own flags, but metrics on a free local port and this cluster's credentials.
  const args = (container.args as string[]).filter((a) => !/^--(metrics-addr|namespace)=/.test(a));
  const env = Object.fromEntries((container.env as { name: string; value?: string }[]).filter((e) => e.value !== undefined && !e.name.endsWith("_DIR")).map((e) => [e.name, e.value!]));
  const process = startController([
    ...args, "--kubeconfig", await serviceAccountKubeconfig(namespace, serviceAccount), "--metrics-addr", "127.0.0.1:0",
    ...(opts.watchNamespace ? ["--namespace", opts.watchNamespace] : []),
  ], { ...env, POD_NAME: `${deployment.metadata.name}-test` });
  await waitFor("the operator to run", async () => {
    if (process.child.exitCode !== null) throw new Error(`operator exited with ${process.child.exitCode}; log: ${process.logFile}`);
    return process.lines.some((l) => l.msg === "running");
  }, 30_000);
  return { process, deployment, serviceAccount, stop: () => process.stop() };
}

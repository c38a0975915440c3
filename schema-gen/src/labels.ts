// The labels the controller puts on the pods it creates, as Helm helpers for the team chart's
// NetworkPolicies (templates/_helpers-labels.generated.tpl). They come from the controller's own
// label functions, so renaming a label there cannot leave a policy selecting no pod.
// Pure: the controller's functions in, template text out.
import { API_VERSION, KIND } from "../../controller/src/api.ts";
import { gatewaySelector } from "../../controller/src/gateways/deployment.ts";
import { kernelPodLabels } from "../../controller/src/kernels/pod.ts";
import { notebookSelector } from "../../controller/src/notebooks/deployment.ts";
import type { JupyterGateway, JupyterKernel, JupyterNotebook } from "./api/index.ts";

/** Stands for the chart's gateway name until it becomes a template expression. */
const GATEWAY_NAME = "\u0000gateway-name";
const GATEWAY_NAME_TEMPLATE = '{{ include "ej.gateway.name" . | quote }}';

/** The entries two label sets agree on: what every object of a kind gets, whatever its name. */
export function labelsInCommon(a: Record<string, string>, b: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(a).filter(([k, v]) => b[k] === v));
}

const sampleKernel = (name: string): JupyterKernel => ({
  apiVersion: API_VERSION, kind: KIND.kernel, metadata: { name, namespace: "ns" }, spec: { kernelId: `${name}-id` },
});
const sampleNotebook = (name: string): JupyterNotebook => ({
  apiVersion: API_VERSION, kind: KIND.notebook, metadata: { name, namespace: "ns" }, spec: {},
});

export interface PodLabelSet {
  /** The helper's name in the chart. */
  name: string;
  /** Why these labels, as the helper's comment. */
  why: string;
  labels: Record<string, string>;
}

/**
 * The label sets NetworkPolicies select pods by. Only labels a user cannot take away: a gateway
 * Deployment's selector; kernelPodLabels, which go over a template's labels; a notebook
 * Deployment's selector, which goes over spec.template's labels (its other labels do not).
 * The gateway's name is the chart's template expression unless a test names it.
 */
export function podLabelSets(gatewayName = GATEWAY_NAME): PodLabelSet[] {
  return [
    {
      name: "ej.labels.gatewayPods",
      why: "The chart's gateway's pods: its Deployment's selector (gatewaySelector in controller/src/gateways/deployment.ts).",
      labels: gatewaySelector({ apiVersion: API_VERSION, kind: KIND.gateway, metadata: { name: gatewayName }, spec: {} } as JupyterGateway),
    },
    {
      name: "ej.labels.kernelPods",
      why: "Every kernel pod, whatever its kernel: kernelPodLabels in controller/src/kernels/pod.ts, which override a template's labels.",
      labels: labelsInCommon(kernelPodLabels(sampleKernel("a"), undefined), kernelPodLabels(sampleKernel("b"), undefined)),
    },
    {
      name: "ej.labels.notebookPods",
      why: "Every notebook pod, whatever its notebook: notebookSelector in controller/src/notebooks/deployment.ts, which overrides spec.template's labels.",
      labels: labelsInCommon(notebookSelector(sampleNotebook("a")), notebookSelector(sampleNotebook("b"))),
    },
  ];
}

/** A label value as template text: the gateway name as the chart's expression, others quoted. */
function labelValue(value: string): string {
  return value === GATEWAY_NAME ? GATEWAY_NAME_TEMPLATE : JSON.stringify(value);
}

/** The Helm helpers file: one `define` per label set, one `key: "value"` line per label. */
export function podLabelsHelpers(sets: readonly PodLabelSet[], notice: string): string {
  const out = [`{{- /* ${notice} The labels the controller puts on the pods it creates, for NetworkPolicy selectors (_helpers-netpol.tpl). */}}`];
  for (const set of sets) {
    if (Object.keys(set.labels).length === 0) throw new Error(`${set.name}: no labels; a selector without labels would select every pod`);
    out.push("", `{{- /* ${set.why} */}}`, `{{- define ${JSON.stringify(set.name)} -}}`);
    for (const [k, v] of Object.entries(set.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out.push(`${k}: ${labelValue(v)}`);
    out.push("{{- end }}");
  }
  return `${out.join("\n")}\n`;
}

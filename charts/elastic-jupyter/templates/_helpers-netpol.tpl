{{- /* Pieces of the NetworkPolicies: peers by the labels the operator puts on its pods, the API server, DNS. */}}

{{- /* Pod labels come from the controller's own label functions: _helpers-labels.generated.tpl. */}}
{{- define "ej.netpol.gatewayPodLabels" -}}
{{ include "ej.labels.gatewayPods" . }}
{{- end }}

{{- define "ej.netpol.kernelPodLabels" -}}
{{ include "ej.labels.kernelPods" . }}
{{- end }}

{{- define "ej.netpol.notebookPodLabels" -}}
{{ include "ej.labels.notebookPods" . }}
{{- end }}

{{- define "ej.netpol.testPodLabels" -}}
{{ include "ej.selectorLabels" (dict "root" . "component" "test") }}
{{- end }}

{{- /* The kernel port range as NetworkPolicy ports; "0..0" (any port) gives all TCP ports. */}}
{{- define "ej.netpol.kernelPorts" -}}
{{- $range := splitList ".." (.Values.gateway.portRange | default "0..0") -}}
{{- $lo := index $range 0 | int -}}
{{- $hi := index $range 1 | int -}}
- protocol: TCP
{{- if gt $lo 0 }}
  port: {{ $lo }}
  endPort: {{ $hi }}
{{- end }}
{{- end }}

{{- define "ej.netpol.apiServerEgress" -}}
- to:
    {{- range .Values.networkPolicy.apiServer.cidrs }}
    - ipBlock:
        cidr: {{ . | quote }}
    {{- end }}
  ports:
    {{- range .Values.networkPolicy.apiServer.ports }}
    - protocol: TCP
      port: {{ . }}
    {{- end }}
{{- end }}

{{- /* DNS, wherever the cluster serves it (kube-dns, node-local caches). */}}
{{- define "ej.netpol.dnsEgress" -}}
- ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end }}

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

{{- /*
  Egress a component's egressAllowRules allow (zero-to-jupyterhub's shape): pass the rules dict.
  dns defaults to true, so a values file that sets none keeps name resolution.
*/}}
{{- define "ej.netpol.egressAllowRules" -}}
{{- $r := . | default dict -}}
{{- if or (not (hasKey $r "dns")) $r.dns -}}
{{ include "ej.netpol.dnsEgress" . }}
{{- end }}
{{- if $r.nonPrivateIPs }}
- to:
    - ipBlock:
        cidr: "0.0.0.0/0"
        except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]
{{- end }}
{{- if $r.privateIPs }}
- to:
    - ipBlock:
        cidr: "10.0.0.0/8"
    - ipBlock:
        cidr: "172.16.0.0/12"
    - ipBlock:
        cidr: "192.168.0.0/16"
{{- end }}
{{- end }}

{{- /* Notebooks in the other namespaces the gateway serves (gateway.allowedNamespaces; "*": all). */}}
{{- define "ej.netpol.allowedNotebookPeers" -}}
{{- with .Values.gateway.allowedNamespaces -}}
- namespaceSelector:
    {{- if has "*" . }} {}
    {{- else }}
    matchExpressions:
      - key: "kubernetes.io/metadata.name"
        operator: "In"
        values:
          {{- range . }}
          - {{ . | quote }}
          {{- end }}
    {{- end }}
  podSelector:
    matchLabels:
      {{- include "ej.netpol.notebookPodLabels" $ | nindent 6 }}
{{- end }}
{{- end }}

{{- /*
  Every resource name the chart uses, in one place, so a rename never misses a reference.
  The CRDs keep their fixed names.
*/}}

{{- /* The release's base name: the release name, with the chart name added unless it is in there already. */}}
{{- define "ejo.fullname" -}}
{{- if contains "elastic-jupyter" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- define "ejo.operator.fullname" -}}{{ include "ejo.fullname" . }}{{- end }}
{{- /* Cluster-scoped objects carry the namespace too: two releases of one name in two namespaces must not share them. */}}
{{- define "ejo.clusterRoleName" -}}{{ printf "%s-%s" .Release.Namespace (include "ejo.fullname" .) | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "ejo.leaderElectionName" -}}{{ include "ejo.fullname" . }}-leader-election{{- end }}
{{- define "ejo.leaseName" -}}{{ include "ejo.fullname" . }}{{- end }}
{{- define "ejo.metricsServiceName" -}}{{ include "ejo.fullname" . }}-metrics{{- end }}
{{- define "ejo.gatewayFilesName" -}}{{ include "ejo.fullname" . }}-gateway-files{{- end }}
{{- define "ejo.kernelFilesName" -}}{{ include "ejo.fullname" . }}-kernel-files{{- end }}
{{- define "ejo.notebookFilesName" -}}{{ include "ejo.fullname" . }}-notebook-files{{- end }}

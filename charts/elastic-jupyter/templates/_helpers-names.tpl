{{- /*
  Every resource name the chart uses, in one place, so a rename never misses a reference.
  Names start with the release's full name, except the custom resources, named in values.
*/}}

{{- /* The release's base name: the release name, with the chart name added unless it is in there already. */}}
{{- define "ej.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{- /* The gateway: the operator names its Deployment, Service and ServiceAccount after the JupyterGateway. */}}
{{- define "ej.gateway.name" -}}{{ .Values.gateway.name }}{{- end }}
{{- /* A ServiceAccount the chart creates for the gateway only to carry imagePullSecrets. */}}
{{- define "ej.gateway.serviceAccountName" -}}
{{- if .Values.gateway.serviceAccountName -}}
{{- .Values.gateway.serviceAccountName -}}
{{- else if include "ej.chartPullSecrets" . | fromJsonArray -}}
{{- .Values.gateway.name }}-gateway
{{- end -}}
{{- end }}

{{- define "ej.netpol.gatewayName" -}}{{ include "ej.fullname" . }}-gateway{{- end }}
{{- define "ej.netpol.notebookName" -}}{{ include "ej.fullname" . }}-notebooks{{- end }}
{{- define "ej.netpol.kernelName" -}}{{ include "ej.fullname" . }}-kernels{{- end }}
{{- define "ej.netpol.testName" -}}{{ include "ej.fullname" . }}-test{{- end }}

{{- define "ej.test.scriptsName" -}}{{ include "ej.fullname" . }}-test-scripts{{- end }}
{{- define "ej.test.gatewayPodName" -}}{{ include "ej.fullname" . }}-test-gateway{{- end }}
{{- define "ej.test.notebookPodName" -}}{{ include "ej.fullname" . }}-test-notebook{{- end }}

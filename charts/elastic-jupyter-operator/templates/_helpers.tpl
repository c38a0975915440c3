{{- /* Labels, image references and security contexts shared by the templates. */}}

{{- define "ejo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{ include "ejo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/part-of: elastic-jupyter
{{- end }}

{{- define "ejo.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: operator
{{- end }}

{{- /*
  An image reference from an ImageValues: (dict "image" .Values.x.image "root" $).
  Registry: global.imageRegistry wins, then image.registry. Tag: image.tag, else the appVersion.
  A digest pins the image (the tag stays for readers; the digest decides).
*/}}
{{- define "ejo.image" -}}
{{- $registry := .image.registry | default "" -}}
{{- if and .root.Values.global .root.Values.global.imageRegistry -}}
{{- $registry = .root.Values.global.imageRegistry -}}
{{- end -}}
{{- $ref := .image.repository -}}
{{- if $registry -}}{{- $ref = printf "%s/%s" $registry $ref -}}{{- end -}}
{{- $ref = printf "%s:%s" $ref (.image.tag | default .root.Chart.AppVersion) -}}
{{- if .image.digest -}}{{- $ref = printf "%s@%s" $ref .image.digest -}}{{- end -}}
{{- $ref -}}
{{- end }}

{{- define "ejo.operator.image" -}}{{ include "ejo.image" (dict "image" .Values.operator.image "root" .) }}{{- end }}

{{- /* `imagePullSecrets:` with the list, or nothing. */}}
{{- define "ejo.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end -}}
{{- end }}

{{- /* Restricted Pod Security Standard (the distroless image's nonroot user). */}}
{{- define "ejo.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "ejo.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

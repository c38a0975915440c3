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

{{- /*
  Image pull Secrets as a pod spec lists them (`- name: x`), from a values list whose entries are
  names or `{name: x}` (users bring both forms from other charts; they mean the same). A Secret
  listed twice is listed once, where it first appears.
*/}}
{{- define "ejo.pullSecrets" -}}
{{- $items := list -}}
{{- range . -}}
{{- $name := . -}}
{{- if kindIs "map" . }}{{ $name = .name }}{{ end -}}
{{- if not (has (dict "name" $name) $items) }}{{ $items = append $items (dict "name" $name) }}{{ end -}}
{{- end -}}
{{- toYaml $items -}}
{{- end }}

{{- /* `imagePullSecrets:` with the list, or nothing. */}}
{{- define "ejo.imagePullSecrets" -}}
{{- with concat ((.Values.global | default dict).imagePullSecrets | default list) (.Values.imagePullSecrets | default list) -}}
imagePullSecrets:
  {{- include "ejo.pullSecrets" . | nindent 2 }}
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

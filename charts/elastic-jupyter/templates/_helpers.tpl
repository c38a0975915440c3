{{- /* Labels, image references and security contexts shared by the templates. */}}

{{- define "ej.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/part-of: elastic-jupyter
{{- end }}

{{- /* Selector labels of one component: pass (dict "root" $ "component" "operator"). */}}
{{- define "ej.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end }}

{{- define "ej.componentLabels" -}}
{{ include "ej.labels" .root }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end }}

{{- /*
  An image reference from an ImageValues: (dict "image" .Values.x.image "root" $).
  registry: global.imageRegistry wins, then image.registry; tag: image.tag or the appVersion;
  a digest pins the image (tag kept for readers, the digest decides).
*/}}
{{- define "ej.image" -}}
{{- $registry := .image.registry | default "" -}}
{{- if and .root.Values.global .root.Values.global.imageRegistry -}}
{{- $registry = .root.Values.global.imageRegistry -}}
{{- end -}}
{{- $ref := .image.repository -}}
{{- if $registry -}}{{- $ref = printf "%s/%s" $registry $ref -}}{{- end -}}
{{- $tag := .image.tag | default .root.Chart.AppVersion -}}
{{- $ref = printf "%s:%s" $ref $tag -}}
{{- if .image.digest -}}{{- $ref = printf "%s@%s" $ref .image.digest -}}{{- end -}}
{{- $ref -}}
{{- end }}

{{- define "ej.controllerImage" -}}{{ include "ej.image" (dict "image" .Values.controllerImage "root" .) }}{{- end }}

{{- /*
  Image pull Secrets as a pod spec lists them (`- name: x`), from a values list whose entries are
  names or `{name: x}` (users bring both forms from other charts; they mean the same). A Secret
  listed twice (say chart-wide and again on a kernelspec) is listed once, where it first appears.
*/}}
{{- define "ej.pullSecrets" -}}
{{- $items := list -}}
{{- range . -}}
{{- $name := . -}}
{{- if kindIs "map" . }}{{ $name = .name }}{{ end -}}
{{- if not (has (dict "name" $name) $items) }}{{ $items = append $items (dict "name" $name) }}{{ end -}}
{{- end -}}
{{- toYaml $items -}}
{{- end }}

{{- /* `imagePullSecrets:` with the list, or nothing; use as {{- with include "ej.imagePullSecrets" . }} {{- . | nindent N }} {{- end }}. */}}
{{- /* The pull Secrets every pod of the chart gets, as JSON: global.imagePullSecrets, then imagePullSecrets. */}}
{{- define "ej.chartPullSecrets" -}}
{{- concat ((.Values.global | default dict).imagePullSecrets | default list) (.Values.imagePullSecrets | default list) | toJson -}}
{{- end }}

{{- define "ej.imagePullSecrets" -}}
{{- with include "ej.chartPullSecrets" . | fromJsonArray -}}
imagePullSecrets:
  {{- include "ej.pullSecrets" . | nindent 2 }}
{{- end -}}
{{- end }}

{{- /* Restricted Pod Security Standard: pod level (the controller image's nonroot user). */}}
{{- define "ej.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "ej.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{- /* A custom resource's spec from a values dict: empty lists and maps are left out, so an unset
  field keeps its CRD meaning (false and 0 stay). */}}
{{- define "ej.spec" -}}
{{- $out := dict -}}
{{- range $k, $v := . -}}
{{- if not (and (or (kindIs "map" $v) (kindIs "slice" $v)) (eq (len $v) 0)) -}}
{{- $_ := set $out $k $v -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end }}


{{- /*
  The kernelspecs the gateway serves, as JSON: gateway.kernels, else every kernelSpecs[] name. When
  the values define kernelspecs, a name that is none of them (or a defaultKernel outside the list)
  fails the install naming the names that exist: otherwise the gateway would serve nothing and
  users would learn it only from a runtime KernelSpecNotFound.
*/}}
{{- define "ej.gateway.kernels" -}}
{{- $names := list -}}
{{- range .Values.kernelSpecs }}{{ $names = append $names .name }}{{ end -}}
{{- $kernels := .Values.gateway.kernels | default $names -}}
{{- /* Every problem in one failure, so a values file is fixed in one round. */ -}}
{{- $problems := list -}}
{{- if $names -}}
{{- range $kernels -}}
{{- if not (has . $names) -}}
{{- $problems = append $problems (printf "gateway.kernels: %q is not one of kernelSpecs[].name (%s); list only those, or leave gateway.kernels unset to serve them all" . (join ", " $names)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- with .Values.gateway.defaultKernel -}}
{{- if and $kernels (not (has . $kernels)) -}}
{{- $problems = append $problems (printf "gateway.defaultKernel: %q is not one of the kernelspecs the gateway serves (%s)" . (join ", " $kernels)) -}}
{{- end -}}
{{- end -}}
{{- with $problems }}{{ fail (join "\n" .) }}{{ end -}}
{{- toJson $kernels -}}
{{- end }}

{{- /*
  A kernel image written in full (kernelSpecs[].image), with its registry replaced by
  global.imageRegistry when that is set: (dict "image" "docker.io/org/img:tag" "root" $). The first
  path component is a registry when it has a "." or ":" or is "localhost" (Docker's rule).
*/}}
{{- define "ej.kernelImage" -}}
{{- $registry := "" -}}
{{- if .root.Values.global }}{{ $registry = .root.Values.global.imageRegistry | default "" }}{{ end -}}
{{- if not $registry -}}
{{- .image -}}
{{- else -}}
{{- $parts := splitn "/" 2 .image -}}
{{- $first := $parts._0 -}}
{{- if and $parts._1 (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) -}}
{{- printf "%s/%s" $registry $parts._1 -}}
{{- else -}}
{{- printf "%s/%s" $registry .image -}}
{{- end -}}
{{- end -}}
{{- end }}

{{- /* "true" when a resources block limits a GPU-count resource (as the controller reads GPUs from it). */}}
{{- define "ej.gpuInLimits" -}}
{{- range $name, $_ := (. | default dict).limits -}}
{{- if regexMatch "^(nvidia\\.com/(gpu|gpu\\.shared|mig-.+)|amd\\.com/gpu|volcano\\.sh/vgpu-number|aliyun\\.com/gpu-count)$" $name }}true{{ end -}}
{{- end -}}
{{- end }}

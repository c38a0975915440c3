{{- /* A `helm test` pod that runs files/tests/check-http.mjs with the controller image's Node:
  (dict "root" $ "name" podName "args" (list url ...) ["tokenSecret" secretName]). */}}
{{- define "ej.test.pod" -}}
{{- $root := .root -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .name | quote }}
  namespace: {{ $root.Release.Namespace | quote }}
  labels:
    {{- include "ej.componentLabels" (dict "root" $root "component" "test") | nindent 4 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  {{- with include "ej.imagePullSecrets" $root }}
  {{- . | nindent 2 }}
  {{- end }}
  securityContext:
    {{- include "ej.podSecurityContext" $root | nindent 4 }}
  containers:
    - name: check
      image: {{ include "ej.controllerImage" $root | quote }}
      imagePullPolicy: {{ $root.Values.controllerImage.pullPolicy | default "IfNotPresent" | quote }}
      command: ["/nodejs/bin/node", "/opt/elastic-jupyter/tests/check-http.mjs"]
      args:
        {{- toYaml .args | nindent 8 }}
      {{- with .tokenSecret }}
      env:
        - name: CHECK_TOKEN
          valueFrom:
            secretKeyRef:
              name: {{ . | quote }}
              key: token
      {{- end }}
      resources:
        requests:
          cpu: 10m
          memory: 32Mi
        limits:
          memory: 128Mi
      securityContext:
        {{- include "ej.containerSecurityContext" $root | nindent 8 }}
      volumeMounts:
        - name: scripts
          mountPath: /opt/elastic-jupyter/tests
          readOnly: true
  volumes:
    - name: scripts
      configMap:
        name: {{ include "ej.test.scriptsName" $root | quote }}
{{- end }}

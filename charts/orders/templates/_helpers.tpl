{{/* Chart name, truncated to 63 characters. */}}
{{- define "orders.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified prefix for resource names: the release name, or release-chart. */}}
{{- define "orders.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "orders.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "orders.labels" -}}
helm.sh/chart: {{ include "orders.chart" . }}
app.kubernetes.io/name: {{ include "orders.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orders-platform
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one service; call with (dict "root" $ "name" "service1"). */}}
{{- define "orders.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orders.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* All labels of one service's objects; call with (dict "root" $ "name" "service1" "svc" $svc). */}}
{{- define "orders.serviceLabels" -}}
{{ include "orders.labels" .root }}
app.kubernetes.io/component: {{ .name }}
app.kubernetes.io/version: {{ include "orders.imageVersion" (merge (dict "appVersion" .root.Chart.AppVersion) .svc) | quote }}
{{- end -}}

{{/* Resource name of one service. */}}
{{- define "orders.serviceName" -}}
{{- printf "%s-%s" (include "orders.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The image version label: the tag, or the first 12 hex digits of the digest. */}}
{{- define "orders.imageVersion" -}}
{{- if .image.digest -}}
{{- .image.digest | trimPrefix "sha256:" | trunc 12 -}}
{{- else -}}
{{- default .appVersion .image.tag | trunc 63 -}}
{{- end -}}
{{- end -}}

{{/* Full image reference: registry/repository@digest or :tag; fails without either, or on "latest". */}}
{{- define "orders.image" -}}
{{- $svc := .svc -}}
{{- $repo := $svc.image.repository -}}
{{- if .root.Values.imageRegistry -}}
{{- $repo = printf "%s/%s" (trimSuffix "/" .root.Values.imageRegistry) $repo -}}
{{- end -}}
{{- if $svc.image.digest -}}
{{- printf "%s@%s" $repo $svc.image.digest -}}
{{- else -}}
{{- $tag := default .root.Chart.AppVersion $svc.image.tag -}}
{{- if or (not $tag) (eq $tag "latest") -}}
{{- fail (printf "services.%s.image: set tag (the git commit, never latest) or digest" .name) -}}
{{- end -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* Restricted Pod Security: pod level. */}}
{{- define "orders.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Restricted Pod Security: container level. */}}
{{- define "orders.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

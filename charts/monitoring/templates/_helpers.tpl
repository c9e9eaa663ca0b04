{{/* Chart name, truncated to 63 characters. */}}
{{- define "monitoring.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified prefix for resource names: the release name, or release-chart. */}}
{{- define "monitoring.fullname" -}}
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

{{- define "monitoring.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "monitoring.labels" -}}
helm.sh/chart: {{ include "monitoring.chart" . }}
app.kubernetes.io/name: {{ include "monitoring.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orders-platform
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of the objects Prometheus must select (PrometheusRule, PodMonitor). */}}
{{- define "monitoring.prometheusLabels" -}}
{{ include "monitoring.labels" . }}
{{- with .Values.prometheusSelectorLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
One alerting rule with the annotations every alert of the platform carries; call with
(dict "root" $ "alert" "Name" "expr" "…" "cfg" <map with for/severity> "summary" "…" "description" "…").
runbook_url points at the alert's heading in docs/operations.md (anchor: the name in lower case).
*/}}
{{- define "monitoring.rule" -}}
- alert: {{ .alert }}
  expr: {{ .expr | trim | toYaml | nindent 4 | trim }}
  {{- with .cfg.for }}
  for: {{ . }}
  {{- end }}
  labels:
    severity: {{ .cfg.severity }}
    {{- with .root.Values.alertLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    summary: {{ .summary | quote }}
    description: {{ .description | quote }}
    runbook_url: {{ printf "%s#%s" .root.Values.runbooks.baseURL (lower .alert) | quote }}
{{- end -}}

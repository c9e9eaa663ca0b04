{{/* Chart name, truncated to 63 characters. */}}
{{- define "tenant.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of resource names: the release name (tenant-<name>). */}}
{{- define "tenant.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{- define "tenant.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "tenant.labels" -}}
helm.sh/chart: {{ include "tenant.chart" . }}
app.kubernetes.io/name: {{ include "tenant.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orders-platform
orders-platform/tenant: {{ include "tenant.checkedName" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The tenant name, after checking that the release is where the deployer puts it. */}}
{{- define "tenant.checkedName" -}}
{{- if not .Values.tenant -}}
{{- fail "tenant: the tenant's name is required (the deployer sets it)" -}}
{{- end -}}
{{- if ne .Release.Namespace (printf "tenant-%s" .Values.tenant) -}}
{{- fail (printf "tenant %q must be installed in namespace tenant-%s, not %s" .Values.tenant .Values.tenant .Release.Namespace) -}}
{{- end -}}
{{- .Values.tenant -}}
{{- end -}}

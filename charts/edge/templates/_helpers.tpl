{{- define "edge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "edge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "edge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orders-platform
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Service annotations for the AWS Load Balancer Controller (NLB, IP targets, one EIP per AZ,
TLS listener with the ACM certificate when tls.certificateArn is set). Envoy Gateway copies
envoyService.annotations of the EnvoyProxy onto the Service it creates. */}}
{{- define "edge.serviceAnnotations" -}}
{{- $a := dict -}}
{{- if .Values.aws.enabled -}}
{{- $n := len .Values.aws.subnets -}}
{{- if lt $n 1 -}}
{{- fail "aws.subnets: set the public subnet ids (one per AZ) from the Terraform outputs" -}}
{{- end -}}
{{- if ne (len .Values.aws.eipAllocations) $n -}}
{{- fail (printf "aws.eipAllocations: need exactly one Elastic IP allocation per subnet (%d subnets, %d allocations)" $n (len .Values.aws.eipAllocations)) -}}
{{- end -}}
{{- if ne .Values.aws.scheme "internet-facing" -}}
{{- fail "aws.eipAllocations only work with aws.scheme internet-facing" -}}
{{- end -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-type" "external" -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type" "ip" -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-scheme" .Values.aws.scheme -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-subnets" (join "," .Values.aws.subnets) -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-eip-allocations" (join "," .Values.aws.eipAllocations) -}}
{{- if .Values.aws.proxyProtocol -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol" "*" -}}
{{- end -}}
{{- if .Values.aws.loadBalancerName -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-name" .Values.aws.loadBalancerName -}}
{{- end -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-attributes" (printf "load_balancing.cross_zone.enabled=%t" .Values.aws.crossZone) -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol" "TCP" -}}
{{- with .Values.tls.certificateArn -}}
{{- /* The NLB listener on tls.port becomes TLS with the ACM certificate; the target group stays TCP. */ -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-ssl-cert" . -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-ssl-ports" (toString (int $.Values.tls.port)) -}}
{{- $_ := set $a "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy" $.Values.tls.sslPolicy -}}
{{- end -}}
{{- range $k, $v := .Values.aws.extraAnnotations -}}
{{- $_ := set $a $k $v -}}
{{- end -}}
{{- end -}}
{{- range $k, $v := .Values.envoyProxy.annotations -}}
{{- $_ := set $a $k $v -}}
{{- end -}}
{{- if $a -}}
{{ toYaml $a }}
{{- end -}}
{{- end -}}

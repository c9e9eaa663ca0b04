package alertrules

import "sort"

// Metric sources the reviewed list names. The versions are those the platform runs.
const (
	SourcePrometheus = "Prometheus v3.5 (kube-prometheus-stack 77.0.0): a sample per scrape target"
	SourceKSM        = "kube-state-metrics v2.16 (kube-prometheus-stack 77.0.0): docs/metrics/workload and cluster pages"
	SourceKubelet    = "kubelet (EKS 1.3x, scraped by kube-prometheus-stack's kubelet ServiceMonitor): pkg/kubelet/metrics"
	SourceAPIServer  = "kube-apiserver (EKS, kube-prometheus-stack's apiserver ServiceMonitor, job=\"apiserver\"): client certificate histogram"
	SourceMongoDB    = "percona mongodb_exporter 0.47.0 (Bitnami image mongodb-exporter:0.47.0-debian-12-r1)"
	SourceEnvoy      = "Envoy stats of the Envoy Gateway v1.9.1 proxies (/stats/prometheus on port 19001, PodMonitor in charts/monitoring)"
)

// ThirdPartyMetrics is the reviewed list of metric names the alerts and dashboards may use
// besides the services' own (which the tests scrape from the running services): each name
// with where it comes from. Add a name here only after checking it in that source.
var ThirdPartyMetrics = map[string]string{
	// Synthetic: 1 when the last scrape of a target succeeded.
	"up": SourcePrometheus,

	// kube-state-metrics.
	"kube_pod_container_status_waiting_reason":  SourceKSM + " (pod: reason label, e.g. CrashLoopBackOff)",
	"kube_pod_container_status_restarts_total":  SourceKSM + " (pod)",
	"kube_pod_status_ready":                     SourceKSM + " (pod: condition=true|false|unknown)",
	"kube_deployment_spec_replicas":             SourceKSM + " (deployment)",
	"kube_deployment_status_replicas_available": SourceKSM + " (deployment)",
	"kube_statefulset_replicas":                 SourceKSM + " (statefulset)",
	"kube_statefulset_status_replicas_ready":    SourceKSM + " (statefulset)",
	"kube_node_status_condition":                SourceKSM + " (node: condition, status=true|false|unknown)",
	"kube_cronjob_status_last_successful_time":  SourceKSM + " (cronjob: set once a run succeeded)",

	// kubelet volume stats (per PVC: namespace, persistentvolumeclaim labels).
	"kubelet_volume_stats_available_bytes": SourceKubelet,
	"kubelet_volume_stats_capacity_bytes":  SourceKubelet,

	// kube-apiserver.
	"apiserver_client_certificate_expiration_seconds_bucket": SourceAPIServer,
	"apiserver_client_certificate_expiration_seconds_count":  SourceAPIServer,

	// MongoDB exporter (metrics.enabled in environments/<env>/values/mongodb.yaml).
	"mongodb_up": SourceMongoDB + ": exporter/general_collector.go mongodbUpMetric (ping of its member; always exported)",
	"mongodb_members_health": SourceMongoDB + ": --collector.replicasetstatus (metrics.collector.replicasetstatus), " +
		"replSetGetStatus members[].health via exporter/replset_status_collector.go and metrics.go processSlice (labels member_idx, member_state)",

	// Envoy (counters keep Envoy's names: no _total suffix is added).
	"envoy_server_live":                      SourceEnvoy + ": server.live gauge",
	"envoy_http_downstream_rq_xx":            SourceEnvoy + ": http.<prefix>.downstream_rq_<N>xx, label envoy_response_code_class",
	"envoy_http_downstream_rq_total":         SourceEnvoy + ": http.<prefix>.downstream_rq_total",
	"envoy_cluster_upstream_cx_connect_fail": SourceEnvoy + ": cluster.<name>.upstream_cx_connect_fail, label envoy_cluster_name",
	"envoy_cluster_upstream_rq_timeout":      SourceEnvoy + ": cluster.<name>.upstream_rq_timeout",
	"envoy_cluster_upstream_rq_rx_reset":     SourceEnvoy + ": cluster.<name>.upstream_rq_rx_reset",
	"envoy_cluster_membership_healthy":       SourceEnvoy + ": cluster.<name>.membership_healthy gauge",
}

// ThirdPartyNames returns the names of ThirdPartyMetrics as a set.
func ThirdPartyNames() map[string]bool {
	out := make(map[string]bool, len(ThirdPartyMetrics))
	for n := range ThirdPartyMetrics {
		out[n] = true
	}
	return out
}

// SortedThirdPartyNames lists ThirdPartyMetrics' names, sorted.
func SortedThirdPartyNames() []string {
	out := make([]string, 0, len(ThirdPartyMetrics))
	for n := range ThirdPartyMetrics {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

package chartrules

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// AWS Load Balancer Controller annotations the edge relies on.
const (
	AnnotationLBType       = "service.beta.kubernetes.io/aws-load-balancer-type"
	AnnotationTargetType   = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
	AnnotationScheme       = "service.beta.kubernetes.io/aws-load-balancer-scheme"
	AnnotationEIPs         = "service.beta.kubernetes.io/aws-load-balancer-eip-allocations"
	AnnotationSubnets      = "service.beta.kubernetes.io/aws-load-balancer-subnets"
	AnnotationProxyProto   = "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol"
	AnnotationSSLCert      = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
	AnnotationSSLPorts     = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"
	AnnotationSSLPolicy    = "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"
	awsAnnotationPrefix    = "service.beta.kubernetes.io/aws-"
	envoyServiceAnnotation = "spec.provider.kubernetes.envoyService.annotations"
)

// EdgeRequirements are what an environment asks of the edge release.
type EdgeRequirements struct {
	// AWS: the Envoy Service becomes an internet-facing NLB with IP targets and one EIP per subnet.
	AWS bool
	// HA: Envoy runs at least two replicas with a disruption budget and a zone spread.
	HA bool
	// TLS: the NLB terminates TLS with an ACM certificate on the port of the Gateway's
	// "https" listener (protocol HTTP behind the NLB); the "http" listener only
	// redirects to https with a 301 and admits no application route.
	TLS bool
}

var (
	acmCertificateARN = regexp.MustCompile(`^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// TLS 1.3 policies whose minimum is TLS 1.2 or 1.3.
	modernTLSPolicy = regexp.MustCompile(`^ELBSecurityPolicy-TLS13-1-[23]-`)
)

// EdgeRequirementsFor: every environment but local runs on AWS; prod is HA.
func EdgeRequirementsFor(env string) EdgeRequirements {
	return EdgeRequirements{AWS: env != "local", HA: strings.HasPrefix(env, "prod")}
}

// CheckEdge applies the edge policies to the edge release's objects.
func CheckEdge(objs []*unstructured.Unstructured, req EdgeRequirements) []Violation {
	c := &checker{}
	byKind := map[string][]*unstructured.Unstructured{}
	for _, u := range objs {
		byKind[u.GetKind()] = append(byKind[u.GetKind()], u)
		for _, l := range RequiredLabels {
			if u.GetLabels()[l] == "" {
				c.add(u.GetKind(), u.GetName(), "metadata.labels."+l, "missing")
			}
		}
	}
	for _, kind := range []string{"GatewayClass", "Gateway", "EnvoyProxy", "BackendTrafficPolicy", "ClientTrafficPolicy"} {
		if len(byKind[kind]) != 1 {
			c.add(kind, "-", "kind", "want exactly one, rendered %d", len(byKind[kind]))
		}
	}
	for _, ep := range byKind["EnvoyProxy"] {
		ann, _, _ := unstructured.NestedStringMap(ep.Object, "spec", "provider", "kubernetes", "envoyService", "annotations")
		if req.AWS {
			for k, want := range map[string]string{
				AnnotationLBType: "external", AnnotationTargetType: "ip", AnnotationScheme: "internet-facing",
			} {
				if ann[k] != want {
					c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+k, "%q, want %q", ann[k], want)
				}
			}
			eips, subnets := splitList(ann[AnnotationEIPs]), splitList(ann[AnnotationSubnets])
			if len(subnets) == 0 {
				c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+AnnotationSubnets, "no subnets")
			}
			if len(eips) != len(subnets) {
				c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+AnnotationEIPs, "%d Elastic IPs for %d subnets: need one per AZ", len(eips), len(subnets))
			}
		} else {
			for k := range ann {
				if strings.HasPrefix(k, awsAnnotationPrefix) {
					c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+k, "AWS annotation in a non-AWS environment")
				}
			}
		}
		if t, _, _ := unstructured.NestedString(ep.Object, "spec", "provider", "kubernetes", "envoyService", "type"); t != "LoadBalancer" {
			c.add("EnvoyProxy", ep.GetName(), "spec.provider.kubernetes.envoyService.type", "%q, want LoadBalancer", t)
		}
		if req.HA {
			min, ok, _ := unstructured.NestedInt64(ep.Object, "spec", "provider", "kubernetes", "envoyHpa", "minReplicas")
			if !ok {
				min, _, _ = unstructured.NestedInt64(ep.Object, "spec", "provider", "kubernetes", "envoyDeployment", "replicas")
			}
			if min < 2 {
				c.add("EnvoyProxy", ep.GetName(), "spec.provider.kubernetes.envoyHpa.minReplicas", "%d Envoy replicas, HA needs at least 2", min)
			}
			if _, ok, _ := unstructured.NestedMap(ep.Object, "spec", "provider", "kubernetes", "envoyPDB"); !ok {
				c.add("EnvoyProxy", ep.GetName(), "spec.provider.kubernetes.envoyPDB", "missing")
			}
			spread, _, _ := unstructured.NestedSlice(ep.Object, "spec", "provider", "kubernetes", "envoyDeployment", "pod", "topologySpreadConstraints")
			zone := false
			for _, s := range spread {
				if m, ok := s.(map[string]any); ok && m["topologyKey"] == "topology.kubernetes.io/zone" {
					zone = true
				}
			}
			if !zone {
				c.add("EnvoyProxy", ep.GetName(), "spec.provider.kubernetes.envoyDeployment.pod.topologySpreadConstraints", "no zone spread")
			}
		}
	}
	checkEdgeTLS(c, byKind, req)
	for _, btp := range byKind["BackendTrafficPolicy"] {
		rules, _, _ := unstructured.NestedSlice(btp.Object, "spec", "rateLimit", "local", "rules")
		perClient := false
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			sels, _, _ := unstructured.NestedSlice(rm, "clientSelectors")
			for _, s := range sels {
				sm, _ := s.(map[string]any)
				if t, _, _ := unstructured.NestedString(sm, "sourceCIDR", "type"); t == "Distinct" {
					perClient = true
				}
			}
		}
		if !perClient {
			c.add("BackendTrafficPolicy", btp.GetName(), "spec.rateLimit.local.rules[].clientSelectors[].sourceCIDR.type", "no local rate limit per client address (Distinct)")
		}
		if l, _, _ := unstructured.NestedFieldNoCopy(btp.Object, "spec", "requestBuffer", "limit"); l == nil {
			c.add("BackendTrafficPolicy", btp.GetName(), "spec.requestBuffer.limit", "no request body limit")
		}
		if kind, _, _ := unstructured.NestedSlice(btp.Object, "spec", "targetRefs"); len(kind) == 0 {
			c.add("BackendTrafficPolicy", btp.GetName(), "spec.targetRefs", "targets nothing")
		}
	}
	return c.out
}

// checkEdgeTLS: with TLS, the NLB's TLS listener, the Gateway's two listeners and
// the redirect agree; without, none of it is rendered.
func checkEdgeTLS(c *checker, byKind map[string][]*unstructured.Unstructured, req EdgeRequirements) {
	listeners := map[string]map[string]any{}
	var gwName string
	for _, gw := range byKind["Gateway"] {
		gwName = gw.GetName()
		ls, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
		for _, l := range ls {
			if lm, ok := l.(map[string]any); ok {
				name, _, _ := unstructured.NestedString(lm, "name")
				listeners[name] = lm
			}
		}
	}
	redirects := byKind["HTTPRoute"]
	for _, ep := range byKind["EnvoyProxy"] {
		ann, _, _ := unstructured.NestedStringMap(ep.Object, "spec", "provider", "kubernetes", "envoyService", "annotations")
		if !req.TLS {
			for _, k := range []string{AnnotationSSLCert, AnnotationSSLPorts, AnnotationSSLPolicy} {
				if _, ok := ann[k]; ok {
					c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+k, "TLS annotation in an environment without TLS")
				}
			}
			continue
		}
		if !acmCertificateARN.MatchString(ann[AnnotationSSLCert]) {
			c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+AnnotationSSLCert, "%q is not an ACM certificate ARN", ann[AnnotationSSLCert])
		}
		if !modernTLSPolicy.MatchString(ann[AnnotationSSLPolicy]) {
			c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+AnnotationSSLPolicy, "%q, want a TLS 1.2+/1.3 policy (ELBSecurityPolicy-TLS13-1-2-…)", ann[AnnotationSSLPolicy])
		}
		https, ok := listeners["https"]
		if !ok {
			c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+AnnotationSSLPorts, "TLS on the NLB but the Gateway has no listener \"https\"")
			continue
		}
		port, _, _ := unstructured.NestedInt64(https, "port")
		if ports := splitList(ann[AnnotationSSLPorts]); len(ports) != 1 || ports[0] != fmt.Sprint(port) {
			c.add("EnvoyProxy", ep.GetName(), envoyServiceAnnotation+"."+AnnotationSSLPorts, "%q, want exactly the https listener's port %d", ann[AnnotationSSLPorts], port)
		}
	}
	if !req.TLS {
		for name := range listeners {
			if name != "http" {
				c.add("Gateway", gwName, "spec.listeners["+name+"]", "listener other than http in an environment without TLS")
			}
		}
		for _, r := range redirects {
			c.add("HTTPRoute", r.GetName(), "kind", "the edge release renders routes only with TLS (the HTTPS redirect)")
		}
		return
	}
	if https, ok := listeners["https"]; !ok {
		c.add("Gateway", gwName, "spec.listeners[https]", "missing")
	} else if p, _, _ := unstructured.NestedString(https, "protocol"); p != "HTTP" {
		c.add("Gateway", gwName, "spec.listeners[https].protocol", "%q, want HTTP (the NLB has terminated TLS)", p)
	}
	if http, ok := listeners["http"]; !ok {
		c.add("Gateway", gwName, "spec.listeners[http]", "missing")
	} else if from, _, _ := unstructured.NestedString(http, "allowedRoutes", "namespaces", "from"); from != "Same" {
		c.add("Gateway", gwName, "spec.listeners[http].allowedRoutes.namespaces.from", "%q, want Same: with TLS only the redirect may use plain HTTP", from)
	}
	found := false
	for _, r := range redirects {
		if isHTTPSRedirect(r, gwName) {
			found = true
		}
	}
	if !found {
		c.add("HTTPRoute", gwName+"-https-redirect", "spec.rules[].filters[].requestRedirect", "no route on listener http that redirects every request to https with 301")
	}
}

// isHTTPSRedirect: attached to the Gateway's http listener, one rule for every path,
// a RequestRedirect to scheme https with status 301 and no backend.
func isHTTPSRedirect(r *unstructured.Unstructured, gateway string) bool {
	parents, _, _ := unstructured.NestedSlice(r.Object, "spec", "parentRefs")
	attached := false
	for _, p := range parents {
		pm, _ := p.(map[string]any)
		name, _, _ := unstructured.NestedString(pm, "name")
		section, _, _ := unstructured.NestedString(pm, "sectionName")
		attached = attached || (name == gateway && section == "http")
	}
	rules, _, _ := unstructured.NestedSlice(r.Object, "spec", "rules")
	if !attached || len(rules) != 1 {
		return false
	}
	rm, _ := rules[0].(map[string]any)
	if b, _, _ := unstructured.NestedSlice(rm, "backendRefs"); len(b) > 0 {
		return false
	}
	matches, _, _ := unstructured.NestedSlice(rm, "matches")
	for _, m := range matches {
		mm, _ := m.(map[string]any)
		typ, _, _ := unstructured.NestedString(mm, "path", "type")
		val, _, _ := unstructured.NestedString(mm, "path", "value")
		if len(mm) != 1 || typ != "PathPrefix" || val != "/" {
			return false
		}
	}
	filters, _, _ := unstructured.NestedSlice(rm, "filters")
	for _, f := range filters {
		fm, _ := f.(map[string]any)
		scheme, _, _ := unstructured.NestedString(fm, "requestRedirect", "scheme")
		code, _, _ := unstructured.NestedInt64(fm, "requestRedirect", "statusCode")
		if t, _, _ := unstructured.NestedString(fm, "type"); t == "RequestRedirect" && scheme == "https" && code == 301 {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// RouteTarget is where the gateway sends a request.
type RouteTarget struct {
	Route, Service string
	Port           int64
	Path           string
}

func (t RouteTarget) String() string {
	return fmt.Sprintf("%s:%d%s (route %s)", t.Service, t.Port, t.Path, t.Route)
}

// ResolveRoute applies the rendered HTTPRoutes to a request path with Gateway API
// semantics for PathPrefix matches (element-wise prefix, longest match wins) and
// URLRewrite ReplacePrefixMatch. ok is false when no route matches.
func ResolveRoute(objs []*unstructured.Unstructured, path string) (RouteTarget, bool, error) {
	var best RouteTarget
	bestLen := -1
	for _, u := range objs {
		if u.GetKind() != "HTTPRoute" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			matches, _, _ := unstructured.NestedSlice(rm, "matches")
			for _, m := range matches {
				mm, _ := m.(map[string]any)
				typ, _, _ := unstructured.NestedString(mm, "path", "type")
				prefix, _, _ := unstructured.NestedString(mm, "path", "value")
				if typ != "PathPrefix" {
					return best, false, fmt.Errorf("HTTPRoute/%s: path match type %q not handled", u.GetName(), typ)
				}
				if !prefixMatches(prefix, path) || len(prefix) <= bestLen {
					continue
				}
				target := RouteTarget{Route: u.GetName(), Path: path}
				filters, _, _ := unstructured.NestedSlice(rm, "filters")
				for _, f := range filters {
					fm, _ := f.(map[string]any)
					if t, _, _ := unstructured.NestedString(fm, "type"); t != "URLRewrite" {
						continue
					}
					pt, _, _ := unstructured.NestedString(fm, "urlRewrite", "path", "type")
					repl, _, _ := unstructured.NestedString(fm, "urlRewrite", "path", "replacePrefixMatch")
					if pt != "ReplacePrefixMatch" {
						return best, false, fmt.Errorf("HTTPRoute/%s: rewrite type %q not handled", u.GetName(), pt)
					}
					target.Path = replacePrefix(prefix, repl, path)
				}
				backends, _, _ := unstructured.NestedSlice(rm, "backendRefs")
				if len(backends) != 1 {
					return best, false, fmt.Errorf("HTTPRoute/%s: %d backendRefs, want 1", u.GetName(), len(backends))
				}
				bm, _ := backends[0].(map[string]any)
				target.Service, _, _ = unstructured.NestedString(bm, "name")
				target.Port, _, _ = unstructured.NestedInt64(bm, "port")
				best, bestLen = target, len(prefix)
			}
		}
	}
	return best, bestLen >= 0, nil
}

func prefixMatches(prefix, path string) bool {
	p := strings.TrimSuffix(prefix, "/")
	return p == "" || path == p || strings.HasPrefix(path, p+"/")
}

func replacePrefix(prefix, repl, path string) string {
	rest := strings.TrimPrefix(path, strings.TrimSuffix(prefix, "/"))
	out := strings.TrimSuffix(repl, "/") + rest
	if out == "" {
		return "/"
	}
	return out
}

package chartrules

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/orders-platform/orders/internal/tenant"
)

// What the deployer sets when the Terraform outputs name a domain: the edge gets the
// ACM certificate and the host name, the orders routes move to the https listener.
const (
	testCertificateARN = "arn:aws:acm:eu-central-1:123456789012:certificate/0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b"
	testHostname       = "orders.example.com"
)

func edgeTLSValues(arn, hostname string) map[string]any {
	return map[string]any{"tls": map[string]any{"certificateArn": arn}, "hostname": hostname}
}

func ordersTLSValues(hostname string) map[string]any {
	return map[string]any{"gateway": map[string]any{"sectionName": "https", "hostnames": []any{hostname}}}
}

// edgeTLSVariants are the AWS environments' edge and orders releases as the deployer
// renders them with a domain, as extra environments "<env>-tls" (for the API server test).
func edgeTLSVariants(t *testing.T, cs []renderCase) []renderCase {
	t.Helper()
	var out []renderCase
	for _, c := range cs {
		if !EdgeRequirementsFor(c.env).AWS {
			continue
		}
		switch c.release.Name {
		case "edge":
			c.values = MergeValues(c.values, edgeTLSValues(testCertificateARN, testHostname))
		case "orders":
			c.values = MergeValues(c.values, ordersTLSValues(testHostname))
		default:
			continue
		}
		c.env += "-tls"
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatal("no AWS environment to render with TLS")
	}
	return out
}

func edgeCase(t *testing.T, cs []renderCase, env string) renderCase {
	t.Helper()
	for _, c := range cs {
		if c.env == env && c.release.Name == "edge" {
			return c
		}
	}
	t.Fatalf("no edge release for environment %s", env)
	return renderCase{}
}

func listenersByName(t *testing.T, objs []*unstructured.Unstructured) map[string]map[string]any {
	t.Helper()
	ls, _, _ := unstructured.NestedSlice(firstOf(objs, "Gateway").Object, "spec", "listeners")
	out := map[string]map[string]any{}
	for _, l := range ls {
		lm := l.(map[string]any)
		out[lm["name"].(string)] = lm
	}
	return out
}

func serviceAnnotations(objs []*unstructured.Unstructured) map[string]string {
	ann, _, _ := unstructured.NestedStringMap(firstOf(objs, "EnvoyProxy").Object, "spec", "provider", "kubernetes", "envoyService", "annotations")
	return ann
}

func str(m map[string]any, path ...string) string {
	s, _, _ := unstructured.NestedString(m, path...)
	return s
}

// TestEdgeTLSRendered: without a certificate the edge is unchanged (one HTTP listener for
// the orders namespace, no TLS annotation, no route); with one, the NLB terminates TLS on
// 443 with the ACM certificate and a TLS 1.2+/1.3 policy, the Gateway gets an "https"
// listener (protocol HTTP) for the orders routes, and "http" only redirects (301).
func TestEdgeTLSRendered(t *testing.T) {
	_, cs := cases(t)
	tests := []struct {
		name, env string
		overlay   map[string]any
		tls       bool
		hostname  string
		port      int64
	}{
		{"dev without TLS", "dev", nil, false, "", 80},
		{"prod without TLS", "prod", nil, false, "", 80},
		{"dev with TLS and host name", "dev", edgeTLSValues(testCertificateARN, testHostname), true, testHostname, 443},
		{"prod with TLS and host name", "prod", edgeTLSValues(testCertificateARN, testHostname), true, testHostname, 443},
		{"prod with TLS, any host", "prod", edgeTLSValues(testCertificateARN, ""), true, "", 443},
		{"prod with TLS on 8443", "prod", MergeValues(edgeTLSValues(testCertificateARN, testHostname), map[string]any{"tls": map[string]any{"port": 8443}}), true, testHostname, 8443},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := edgeCase(t, cs, tc.env)
			c.values = MergeValues(c.values, tc.overlay)
			objs := render(t, c).All()
			req := EdgeRequirementsFor(tc.env)
			req.TLS = tc.tls
			for _, v := range CheckEdge(objs, req) {
				t.Error(v)
			}

			ann := serviceAnnotations(objs)
			// The NLB itself is the same in both cases.
			for k, want := range map[string]string{AnnotationLBType: "external", AnnotationTargetType: "ip", AnnotationProxyProto: "*"} {
				if ann[k] != want {
					t.Errorf("annotation %s = %q, want %q", k, ann[k], want)
				}
			}
			ls := listenersByName(t, objs)
			http := ls["http"]
			if http == nil {
				t.Fatalf("no listener http: %v", ls)
			}
			if p, _, _ := unstructured.NestedInt64(http, "port"); p != 80 || str(http, "protocol") != "HTTP" {
				t.Errorf("listener http: port %d protocol %q, want 80 HTTP", p, str(http, "protocol"))
			}
			if got := str(http, "hostname"); got != tc.hostname {
				t.Errorf("listener http hostname %q, want %q", got, tc.hostname)
			}
			var routes []*unstructured.Unstructured
			for _, o := range objs {
				if o.GetKind() == "HTTPRoute" {
					routes = append(routes, o)
				}
			}

			if !tc.tls {
				for _, k := range []string{AnnotationSSLCert, AnnotationSSLPorts, AnnotationSSLPolicy} {
					if v, ok := ann[k]; ok {
						t.Errorf("annotation %s = %q without TLS", k, v)
					}
				}
				if len(ls) != 1 || len(routes) != 0 {
					t.Errorf("without TLS: listeners %v and %d routes, want only http and none", ls, len(routes))
				}
				if from := str(http, "allowedRoutes", "namespaces", "from"); from != "Selector" {
					t.Errorf("without TLS the orders routes attach to http: from = %q", from)
				}
				return
			}

			wantPort := map[int64]string{443: "443", 8443: "8443"}[tc.port]
			for k, want := range map[string]string{
				AnnotationSSLCert:   testCertificateARN,
				AnnotationSSLPorts:  wantPort,
				AnnotationSSLPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
			} {
				if ann[k] != want {
					t.Errorf("annotation %s = %q, want %q", k, ann[k], want)
				}
			}
			https := ls["https"]
			if https == nil {
				t.Fatalf("no listener https: %v", ls)
			}
			if p, _, _ := unstructured.NestedInt64(https, "port"); p != tc.port || str(https, "protocol") != "HTTP" {
				t.Errorf("listener https: port %d protocol %q, want %d HTTP", p, str(https, "protocol"), tc.port)
			}
			if got := str(https, "hostname"); got != tc.hostname {
				t.Errorf("listener https hostname %q, want %q", got, tc.hostname)
			}
			// The deployer labels orders and every tenant namespace with this label.
			if sel, _, _ := unstructured.NestedStringMap(https, "allowedRoutes", "namespaces", "selector", "matchLabels"); sel[tenant.GatewayRoutesLabel] != "true" || len(sel) != 1 {
				t.Errorf("listener https must admit the namespaces labelled %s=true, selector %v", tenant.GatewayRoutesLabel, sel)
			}
			if from := str(http, "allowedRoutes", "namespaces", "from"); from != "Same" {
				t.Errorf("listener http: from = %q, want Same", from)
			}

			if len(routes) != 1 {
				t.Fatalf("%d HTTPRoutes, want the redirect only", len(routes))
			}
			r := routes[0]
			if r.GetName() != "orders-gateway-https-redirect" {
				t.Errorf("redirect route named %q", r.GetName())
			}
			parents, _, _ := unstructured.NestedSlice(r.Object, "spec", "parentRefs")
			if len(parents) != 1 || str(parents[0].(map[string]any), "sectionName") != "http" || str(parents[0].(map[string]any), "name") != "orders-gateway" {
				t.Errorf("redirect parentRefs %v, want orders-gateway section http", parents)
			}
			hosts, _, _ := unstructured.NestedStringSlice(r.Object, "spec", "hostnames")
			if (tc.hostname == "" && len(hosts) != 0) || (tc.hostname != "" && (len(hosts) != 1 || hosts[0] != tc.hostname)) {
				t.Errorf("redirect hostnames %v, want %q", hosts, tc.hostname)
			}
			rules, _, _ := unstructured.NestedSlice(r.Object, "spec", "rules")
			filters, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "filters")
			redirect, _, _ := unstructured.NestedMap(filters[0].(map[string]any), "requestRedirect")
			want := map[string]any{"scheme": "https", "statusCode": int64(301)}
			if tc.port != 443 {
				want["port"] = tc.port
			}
			if len(redirect) != len(want) {
				t.Errorf("requestRedirect %v, want %v", redirect, want)
			}
			for k, v := range want {
				if redirect[k] != v {
					t.Errorf("requestRedirect.%s = %#v, want %#v", k, redirect[k], v)
				}
			}
		})
	}
}

// TestEdgeTLSOrdersRoutesOnHTTPS: with the values the deployer sets for a domain, the
// orders routes attach to the https listener and answer the domain only.
func TestEdgeTLSOrdersRoutesOnHTTPS(t *testing.T) {
	_, cs := cases(t)
	for _, c := range edgeTLSVariants(t, cs) {
		if c.release.Name != "orders" {
			continue
		}
		t.Run(c.env, func(t *testing.T) {
			n := 0
			for _, o := range render(t, c).Objects {
				if o.GetKind() != "HTTPRoute" {
					continue
				}
				n++
				parents, _, _ := unstructured.NestedSlice(o.Object, "spec", "parentRefs")
				hosts, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "hostnames")
				if len(parents) != 1 || str(parents[0].(map[string]any), "sectionName") != "https" || len(hosts) != 1 || hosts[0] != testHostname {
					t.Errorf("HTTPRoute/%s: parentRefs %v hostnames %v, want section https and %s", o.GetName(), parents, hosts, testHostname)
				}
			}
			if n == 0 {
				t.Fatal("the orders release rendered no HTTPRoute")
			}
		})
	}
}

// TestEdgeTLSRefusals: values that would publish a broken or weak TLS endpoint are
// refused at render time with an error naming the key.
func TestEdgeTLSRefusals(t *testing.T) {
	_, cs := cases(t)
	tests := []struct {
		name, env string
		overlay   map[string]any
		want      []string
	}{
		{"not an ARN", "dev", edgeTLSValues("my-certificate", ""), []string{"/tls/certificateArn"}},
		{"IAM server certificate, not ACM", "dev", edgeTLSValues("arn:aws:iam::123456789012:server-certificate/orders", ""), []string{"/tls/certificateArn"}},
		{"ACM ARN without a certificate id", "dev", edgeTLSValues("arn:aws:acm:eu-central-1:123456789012:certificate/0a1b", ""), []string{"/tls/certificateArn"}},
		{"ACM ARN with a short account", "prod", edgeTLSValues("arn:aws:acm:eu-central-1:12345:certificate/0f1e2d3c-4b5a-4978-8a9b-0c1d2e3f4a5b", ""), []string{"/tls/certificateArn"}},
		{"host name without certificate", "prod", edgeTLSValues("", testHostname), []string{"hostname", "tls.certificateArn"}},
		{"wildcard host name", "prod", edgeTLSValues(testCertificateARN, "*.example.com"), []string{"/hostname"}},
		{"upper-case host name", "prod", edgeTLSValues(testCertificateARN, "Orders.Example.com"), []string{"/hostname"}},
		{"TLS 1.0 policy", "prod", map[string]any{"tls": map[string]any{"certificateArn": testCertificateARN, "sslPolicy": "ELBSecurityPolicy-2016-08"}}, []string{"/tls/sslPolicy"}},
		{"TLS on the HTTP port", "prod", map[string]any{"tls": map[string]any{"certificateArn": testCertificateARN, "port": 80}}, []string{"tls.port 80", "gateway.http.port"}},
		{"TLS without the AWS NLB", "local", edgeTLSValues(testCertificateARN, testHostname), []string{"tls.certificateArn", "aws.enabled"}},
		{"misspelt key", "dev", map[string]any{"tls": map[string]any{"certificateARN": testCertificateARN}}, []string{"/tls", "certificateARN"}},
		{"in-cluster certificate Secret (removed)", "dev", map[string]any{"gateway": map[string]any{"https": map[string]any{"enabled": true}}}, []string{"/gateway", "https"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := edgeCase(t, cs, tc.env)
			_, err := Render(c.dir, c.release.Name, c.release.Namespace, MergeValues(c.values, tc.overlay))
			if err == nil {
				t.Fatalf("values %v were accepted", tc.overlay)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
		})
	}
	// The same chart accepts the real thing: the refusals are about the values above.
	c := edgeCase(t, cs, "prod")
	if _, err := Render(c.dir, c.release.Name, c.release.Namespace, MergeValues(c.values, edgeTLSValues(testCertificateARN, testHostname))); err != nil {
		t.Fatalf("valid TLS values refused: %v", err)
	}
}

// TestCheckEdgeTLSCatchesViolations: CheckEdge names the object and field when the
// TLS pieces disagree.
func TestCheckEdgeTLSCatchesViolations(t *testing.T) {
	_, cs := cases(t)
	tlsCase := edgeCase(t, cs, "prod")
	tlsCase.values = MergeValues(tlsCase.values, edgeTLSValues(testCertificateARN, testHostname))
	plain := edgeCase(t, cs, "prod")

	setAnnotation := func(objs []*unstructured.Unstructured, k, v string) {
		ep := firstOf(objs, "EnvoyProxy")
		ann := serviceAnnotations(objs)
		ann[k] = v
		_ = unstructured.SetNestedStringMap(ep.Object, ann, "spec", "provider", "kubernetes", "envoyService", "annotations")
	}
	editListener := func(objs []*unstructured.Unstructured, name string, edit func(l map[string]any)) {
		gw := firstOf(objs, "Gateway")
		ls, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
		for _, l := range ls {
			if l.(map[string]any)["name"] == name {
				edit(l.(map[string]any))
			}
		}
		_ = unstructured.SetNestedSlice(gw.Object, ls, "spec", "listeners")
	}
	editRedirect := func(objs []*unstructured.Unstructured, edit func(rd map[string]any)) {
		r := firstOf(objs, "HTTPRoute")
		rules, _, _ := unstructured.NestedSlice(r.Object, "spec", "rules")
		filters, _, _ := unstructured.NestedSlice(rules[0].(map[string]any), "filters")
		edit(filters[0].(map[string]any)["requestRedirect"].(map[string]any))
		_ = unstructured.SetNestedSlice(rules[0].(map[string]any), filters, "filters")
		_ = unstructured.SetNestedSlice(r.Object, rules, "spec", "rules")
	}
	tests := []struct {
		name   string
		base   renderCase
		tls    bool
		mutate func(objs []*unstructured.Unstructured) []*unstructured.Unstructured
		want   string
	}{
		{"no redirect", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured { return without(o, "HTTPRoute") },
			"HTTPRoute/orders-gateway-https-redirect: spec.rules[].filters[].requestRedirect: no route on listener http that redirects every request to https with 301"},
		{"temporary redirect", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			editRedirect(o, func(rd map[string]any) { rd["statusCode"] = int64(302) })
			return o
		}, "no route on listener http that redirects every request to https with 301"},
		{"redirect to http", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			editRedirect(o, func(rd map[string]any) { rd["scheme"] = "http" })
			return o
		}, "no route on listener http that redirects every request to https with 301"},
		{"application routes on plain HTTP", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			editListener(o, "http", func(l map[string]any) {
				_ = unstructured.SetNestedField(l, "All", "allowedRoutes", "namespaces", "from")
			})
			return o
		}, `Gateway/orders-gateway: spec.listeners[http].allowedRoutes.namespaces.from: "All", want Same`},
		{"Envoy expects TLS the NLB already terminated", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			editListener(o, "https", func(l map[string]any) { l["protocol"] = "HTTPS" })
			return o
		}, `Gateway/orders-gateway: spec.listeners[https].protocol: "HTTPS", want HTTP`},
		{"TLS on the wrong NLB port", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			setAnnotation(o, AnnotationSSLPorts, "80")
			return o
		}, `aws-load-balancer-ssl-ports: "80", want exactly the https listener's port 443`},
		{"TLS 1.0 policy", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			setAnnotation(o, AnnotationSSLPolicy, "ELBSecurityPolicy-2016-08")
			return o
		}, `aws-load-balancer-ssl-negotiation-policy: "ELBSecurityPolicy-2016-08", want a TLS 1.2+/1.3 policy`},
		{"certificate that is not ACM", tlsCase, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured {
			setAnnotation(o, AnnotationSSLCert, "arn:aws:iam::123456789012:server-certificate/orders")
			return o
		}, "is not an ACM certificate ARN"},
		{"TLS objects where none is wanted", tlsCase, false, func(o []*unstructured.Unstructured) []*unstructured.Unstructured { return o },
			"aws-load-balancer-ssl-cert: TLS annotation in an environment without TLS"},
		{"an https listener where none is wanted", tlsCase, false, func(o []*unstructured.Unstructured) []*unstructured.Unstructured { return o },
			"Gateway/orders-gateway: spec.listeners[https]: listener other than http in an environment without TLS"},
		{"TLS wanted, plain edge rendered", plain, true, func(o []*unstructured.Unstructured) []*unstructured.Unstructured { return o },
			"Gateway/orders-gateway: spec.listeners[https]: missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs := render(t, tc.base).All()
			req := EdgeRequirementsFor("prod")
			req.TLS = tc.base.values["tls"].(map[string]any)["certificateArn"] != ""
			if vs := CheckEdge(objs, req); len(vs) > 0 {
				t.Fatalf("unmutated objects: %v", vs)
			}
			req.TLS = tc.tls
			if vs := CheckEdge(tc.mutate(objs), req); !containsViolation(vs, tc.want) {
				t.Errorf("want a violation containing %q, got %v", tc.want, vs)
			}
		})
	}
}

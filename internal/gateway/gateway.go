// Package gateway is a small HTTP gateway for local runs: path-prefix routes
// with prefix rewrite, the part of the Gateway API HTTPRoute that the orders
// charts use, so the public contract can be served without a cluster.
package gateway

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
)

// Route sends requests whose path matches PathPrefix to Backend, with the
// prefix replaced by RewritePrefix (HTTPRoute's PathPrefix match and
// URLRewrite ReplacePrefixMatch).
type Route struct {
	PathPrefix    string
	RewritePrefix string
	Backend       *url.URL
}

// matches follows Gateway API PathPrefix semantics: the prefix matches
// element by element, so /service1 matches /service1 and /service1/4 but not
// /service10.
func (r Route) matches(path string) bool {
	prefix := strings.TrimSuffix(r.PathPrefix, "/")
	if prefix == "" {
		return true
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// rewrite replaces the matched prefix.
func (r Route) rewrite(path string) string {
	prefix := strings.TrimSuffix(r.PathPrefix, "/")
	rest := strings.TrimPrefix(path, prefix)
	target := strings.TrimSuffix(r.RewritePrefix, "/")
	switch {
	case rest == "" && target == "":
		return "/"
	case rest == "":
		return target
	default:
		return target + rest
	}
}

// statusClientClosedRequest is what the gateway records for a request whose
// client left before the answer (nginx's 499); the client never sees it.
const statusClientClosedRequest = 499

// Handler routes each request to the route with the longest matching prefix
// (as Gateway API orders them) and answers 404 when none matches.
func Handler(routes []Route, logger *slog.Logger) (http.Handler, error) {
	sorted := make([]Route, len(routes))
	copy(sorted, routes)
	for i, r := range sorted {
		if !strings.HasPrefix(r.PathPrefix, "/") || (r.RewritePrefix != "" && !strings.HasPrefix(r.RewritePrefix, "/")) {
			return nil, fmt.Errorf("route %d: path prefix %q and rewrite %q must start with /", i, r.PathPrefix, r.RewritePrefix)
		}
		if r.Backend == nil || r.Backend.Host == "" {
			return nil, fmt.Errorf("route %d (%s): no backend address", i, r.PathPrefix)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i].PathPrefix) > len(sorted[j].PathPrefix) })

	proxies := make([]*httputil.ReverseProxy, len(sorted))
	for i, r := range sorted {
		proxies[i] = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(r.Backend)
				pr.Out.URL.Path = r.rewrite(pr.In.URL.Path)
				pr.Out.URL.RawPath = ""
				pr.SetXForwarded()
				if id := pr.In.Header.Get("X-Request-Id"); id != "" {
					pr.Out.Header.Set("X-Request-Id", id)
				}
			},
			ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
				// The proxy cancels the backend request when the client goes
				// away (its request context ends): the backend was reached, and
				// nobody is left to answer. Envoy logs this as downstream
				// termination (response flag DC), not as an upstream failure.
				if req.Context().Err() != nil {
					logger.Info("client went away before the answer", "route", r.PathPrefix, "path", req.URL.Path, "err", err)
					w.WriteHeader(statusClientClosedRequest)
					return
				}
				logger.Warn("backend unreachable", "route", r.PathPrefix, "backend", r.Backend.String(), "err", err)
				http.Error(w, "upstream connect error", http.StatusServiceUnavailable)
			},
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		for i, r := range sorted {
			if r.matches(req.URL.Path) {
				proxies[i].ServeHTTP(w, req)
				return
			}
		}
		http.Error(w, "no route", http.StatusNotFound)
	}), nil
}

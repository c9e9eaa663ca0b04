package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// records is a slog handler that hands every record to a channel.
type records chan slog.Record

func (r records) Enabled(context.Context, slog.Level) bool        { return true }
func (r records) Handle(_ context.Context, rec slog.Record) error { r <- rec; return nil }
func (r records) WithAttrs([]slog.Attr) slog.Handler              { return r }
func (r records) WithGroup(string) slog.Handler                   { return r }

func TestRoutesRewriteAndMatchLikeHTTPRoute(t *testing.T) {
	// Each backend echoes the method and path it was asked for.
	backend := func(name string) *url.URL {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.Method+" "+r.URL.RequestURI())
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		return u
	}
	h, err := Handler([]Route{
		{PathPrefix: "/service1", RewritePrefix: "/orders", Backend: backend("s1")},
		{PathPrefix: "/service2", RewritePrefix: "/orders", Backend: backend("s2")},
		{PathPrefix: "/service2/admin", RewritePrefix: "/", Backend: backend("admin")},
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(h)
	defer gw.Close()

	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"POST", "/service1", 200, "s1 POST /orders"},
		{"DELETE", "/service1/4", 200, "s1 DELETE /orders/4"},
		{"GET", "/service2", 200, "s2 GET /orders"},
		{"GET", "/service2/", 200, "s2 GET /orders/"},
		{"GET", "/service2?limit=3", 200, "s2 GET /orders?limit=3"},
		{"GET", "/service2/admin/x", 200, "admin GET /x"},
		{"GET", "/service2/admin", 200, "admin GET /"},
		{"GET", "/service10", 404, "no route\n"},
		{"GET", "/", 404, "no route\n"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, gw.URL+tc.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status || string(b) != tc.body {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, b, tc.status, tc.body)
			}
		})
	}
}

func TestUnreachableBackendIs503(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	u, _ := url.Parse(dead.URL)
	dead.Close()
	logs := make(records, 10)
	h, err := Handler([]Route{{PathPrefix: "/service1", RewritePrefix: "/orders", Backend: u}}, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/service1", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	if got := <-logs; got.Message != "backend unreachable" || got.Level != slog.LevelWarn {
		t.Errorf("logged %s %q, want WARN \"backend unreachable\"", got.Level, got.Message)
	}
}

// TestClientGoneIsNotBackendUnreachable: a client that gives up while the
// backend works is logged as such, not as a backend failure.
func TestClientGoneIsNotBackendUnreachable(t *testing.T) {
	reached := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(reached)
		<-r.Context().Done() // answers only when the gateway gives up on it
	}))
	defer backend.Close()
	u, _ := url.Parse(backend.URL)
	logs := make(records, 10)
	h, err := Handler([]Route{{PathPrefix: "/service1", RewritePrefix: "/orders", Backend: u}}, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(h)
	defer gw.Close()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-reached
		cancel() // the client goes away while the backend is working
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, gw.URL+"/service1/4", nil)
	if res, err := http.DefaultClient.Do(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's request: %v, %v; want it cancelled", res, err)
	}
	got := <-logs
	if got.Message != "client went away before the answer" || got.Level != slog.LevelInfo {
		t.Errorf("logged %s %q, want INFO \"client went away before the answer\"", got.Level, got.Message)
	}
}

func TestRejectsBadRoutes(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	for _, r := range []Route{
		{PathPrefix: "service1", RewritePrefix: "/orders", Backend: u},
		{PathPrefix: "/service1", RewritePrefix: "orders", Backend: u},
		{PathPrefix: "/service1", RewritePrefix: "/orders"},
	} {
		if _, err := Handler([]Route{r}, slog.New(slog.DiscardHandler)); err == nil {
			t.Errorf("Handler(%+v) accepted a bad route", r)
		}
	}
}

package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConnectTo: with -connect-to the request reaches that address while the URL's
// host (one that does not resolve) stays the Host header; without it, it fails.
func TestConnectTo(t *testing.T) {
	var gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost = r.Host
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "http://orders.invalid:" + port + "/service2"

	res, err := (&http.Client{Transport: transport("127.0.0.1")}).Get(url)
	if err != nil {
		t.Fatalf("with -connect-to: %v", err)
	}
	res.Body.Close()
	if gotHost != "orders.invalid:"+port {
		t.Errorf("Host = %q, want the URL's host", gotHost)
	}
	if _, err := (&http.Client{Transport: transport("")}).Get(url); err == nil {
		t.Error("without -connect-to a name that does not resolve was reached")
	}
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-url", "https://orders.example.com", "-connect-to", "lb.example.com"}, "-connect-to must be an IP address"},
		{[]string{"-url", "orders.example.com"}, "-url must be an http:// or https:// URL"},
	} {
		var stderr bytes.Buffer
		if code := run(tc.args, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run(%q) = %d, %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

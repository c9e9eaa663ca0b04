// Command smoke checks the orders platform's public contract against a base
// URL and prints a short report; its exit code is what a pipeline reads
// (0 all passed, 1 a check failed, 2 bad usage).
//
//	smoke -url http://<load balancer>
//	MONGODB_URL=mongodb://… smoke -url http://127.0.0.1:8080   # also check the data side
//	smoke -url https://orders.example.com -connect-to 198.51.100.1  # before DNS answers
//
// The connection string is read from the environment, never from a flag, so
// that its password stays out of process listings and shell history.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/orders-platform/orders/internal/smoke"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "public base URL, e.g. http://<load balancer> (required)")
	database := fs.String("database", "DevOpsAssignment", "database to check when MONGODB_URL is set")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	connectTo := fs.String("connect-to", "", "connect to this address instead of resolving the URL's host (TLS and Host stay the URL's), e.g. the load balancer's IP while DNS is not there yet")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if u, err := url.Parse(*base); *base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "smoke: -url must be an http:// or https:// URL with a host, got %q\n", *base)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	if *connectTo != "" && net.ParseIP(*connectTo) == nil {
		fmt.Fprintf(stderr, "smoke: -connect-to must be an IP address, got %q\n", *connectTo)
		return 2
	}
	cfg := smoke.Config{BaseURL: *base, Client: &http.Client{Timeout: 15 * time.Second, Transport: transport(*connectTo)}}
	if uri := os.Getenv("MONGODB_URL"); uri != "" {
		store, err := smoke.OpenMongo(ctx, uri, *database)
		if err != nil {
			fmt.Fprintf(stderr, "smoke: %v\n", err)
			return 1
		}
		defer store.Close(context.Background())
		cfg.Store = store
	}
	report := smoke.Run(ctx, cfg)
	report.Write(stdout)
	if report.Failed() > 0 {
		return 1
	}
	return 0
}

// transport dials connectTo (same port) for every request when it is set: the check
// then reaches the load balancer even where DNS has no record for the name yet, or a
// resolver still caches its absence; the URL's host stays the TLS name and Host header.
func transport(connectTo string) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if connectTo == "" {
		return t
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort(connectTo, port))
	}
	return t
}

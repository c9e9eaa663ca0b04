// Command smoke checks the orders platform's public contract against a base
// URL and prints a short report; its exit code is what a pipeline reads
// (0 all passed, 1 a check failed, 2 bad usage).
//
//	smoke -url http://<load balancer>
//	MONGODB_URL=mongodb://… smoke -url http://127.0.0.1:8080   # also check the data side
//
// The connection string is read from the environment, never from a flag, so
// that its password stays out of process listings and shell history.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if u, err := url.Parse(*base); *base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "smoke: -url must be an http:// or https:// URL with a host, got %q\n", *base)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	cfg := smoke.Config{BaseURL: *base, Client: &http.Client{Timeout: 15 * time.Second}}
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

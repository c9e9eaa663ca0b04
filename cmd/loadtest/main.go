// Command loadtest puts the public contract under concurrent load for a
// bounded time or number of requests, prints throughput, p50/p99 and error
// rate per operation, then verifies that every acknowledged order is listed
// exactly once. At the end of the duration (or on Ctrl-C) no new request
// starts; those in flight finish within -timeout, and one that gets no answer
// is reported as outcome unknown, never as lost. Exit code 1 when anything was
// lost or duplicated.
//
//	loadtest -url http://127.0.0.1:8080 -concurrency 16 -duration 30s
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/orders-platform/orders/internal/loadtest"
)

func main() {
	fs := flag.NewFlagSet("loadtest", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080", "public base URL (the local gateway by default)")
	concurrency := fs.Int("concurrency", 16, "concurrent clients")
	duration := fs.Duration("duration", 30*time.Second, "stop after this long")
	requests := fs.Int("requests", 0, "stop after this many requests (0: only the duration bounds the run)")
	create := fs.Int("create", 6, "weight of POST /service1")
	list := fs.Int("list", 3, "weight of GET /service2")
	del := fs.Int("delete", 1, "weight of DELETE /service1/<n>")
	timeout := fs.Duration("timeout", loadtest.DefaultRequestTimeout, "how long one request may take, also after the duration has ended")
	_ = fs.Parse(os.Args[1:])
	if *timeout <= 0 {
		fmt.Fprintln(os.Stderr, "loadtest: -timeout must be positive")
		os.Exit(2)
	}

	// Ctrl-C ends the load like the duration does: the run still lets the
	// requests in flight finish and verifies.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := loadtest.Run(ctx, loadtest.Config{
		BaseURL: *url, Concurrency: *concurrency, Duration: *duration, Requests: *requests,
		Mix:    loadtest.Mix{Create: *create, List: *list, Delete: *del},
		Client: &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}},
		Seed:   uint64(time.Now().UnixNano()),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	res.Write(os.Stdout)
	if len(res.Problems) > 0 {
		os.Exit(1)
	}
}

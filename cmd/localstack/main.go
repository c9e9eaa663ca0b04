// Command localstack runs the whole orders system on this machine without
// Docker: devdb, service1 and service2 (Node 24), and a gateway on :8080 whose
// routes are the HTTPRoutes the orders chart renders for the local
// environment, so the public paths work as through the load balancer:
//
//	curl -XPOST   http://127.0.0.1:8080/service1 -d '{}'
//	curl -XDELETE http://127.0.0.1:8080/service1/4
//	curl -XGET    http://127.0.0.1:8080/service2
//
// Ctrl-C stops everything.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/orders-platform/orders/internal/localstack"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "localstack:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("localstack", flag.ContinueOnError)
	gateway := fs.String("gateway", "127.0.0.1:8080", "address of the public gateway")
	dbAddr := fs.String("db", "127.0.0.1:27017", "address of devdb")
	data := fs.String("data", ".devdb", "directory for devdb's data (kept between runs)")
	root := fs.String("root", ".", "the repository: services/ (installed) and the orders chart whose routes the gateway serves")
	port1 := fs.Int("service1-port", 3000, "service1's own port")
	port2 := fs.Int("service2-port", 3001, "service2's own port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	node, err := localstack.FindNode()
	if err != nil {
		return err
	}
	routes, err := localstack.RoutesFromChart(*root)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	stack, err := localstack.Start(startCtx, localstack.Options{
		Node:        node,
		ServicesDir: filepath.Join(*root, "services"),
		Routes:      routes,
		DataDir:     *data,
		DBAddr:      *dbAddr,
		GatewayAddr: *gateway,
		Ports:       map[string]int{"service1": *port1, "service2": *port2},
		Logs:        os.Stdout,
		Logger:      slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, `
gateway   %[1]s
service1  %[2]s
service2  %[3]s
devdb     %[4]s (data in %[5]s)

  curl -XPOST   %[1]s/service1 -d '{}'
  curl -XDELETE %[1]s/service1/4
  curl -XGET    %[1]s/service2

Service logs are the JSON lines below. Ctrl-C stops everything.

`, stack.URL, stack.Backends["service1"], stack.Backends["service2"], stack.MongoURI, *data)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping…")
	return stack.Stop()
}

// Command devdb runs an embedded MongoDB-wire development database
// (FerretDB with the SQLite backend) and prints its connection string.
//
//	devdb -addr 127.0.0.1:27017 -data .devdb
//
// It stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/orders-platform/orders/internal/devdb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devdb:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("devdb", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:27017", "TCP address to listen on (port 0 picks a free one)")
	dataDir := fs.String("data", ".devdb", "directory for the SQLite data files")
	uriFile := fs.String("uri-file", "", "also write the connection string to this file once ready")
	verbose := fs.Bool("v", false, "log FerretDB's informational messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := devdb.Start(ctx, devdb.Options{Addr: *addr, DataDir: *dataDir, Logger: logger})
	if err != nil {
		return err
	}
	fmt.Println(srv.URI())
	if *uriFile != "" {
		if err := os.WriteFile(*uriFile, []byte(srv.URI()+"\n"), 0o600); err != nil {
			_ = srv.Stop()
			return fmt.Errorf("write %s: %w", *uriFile, err)
		}
	}
	<-ctx.Done()
	return srv.Stop()
}

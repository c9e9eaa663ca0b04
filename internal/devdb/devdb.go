// Package devdb runs an embedded MongoDB-wire server (FerretDB on SQLite) for
// local runs and tests on machines without Docker or a MongoDB binary.
package devdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Options configures a development database.
type Options struct {
	// Addr is the TCP address to listen on; port 0 picks a free port.
	Addr string
	// DataDir holds the SQLite files; it is created when missing.
	DataDir string
	// Logger receives FerretDB's logs; nil discards everything below warnings.
	Logger *slog.Logger
}

// Server is a running development database.
type Server struct {
	uri    string
	cancel context.CancelFunc
	done   chan error
}

// Start launches the server and returns once it accepts connections. The
// server runs until Stop is called or ctx is done.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.DataDir == "" {
		return nil, errors.New("devdb: a data directory is required")
	}
	if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
		return nil, fmt.Errorf("devdb: listen address %q: %w", opts.Addr, err)
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("devdb: data directory %q: %w", opts.DataDir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devdb: create data directory: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	// A fixed port is probed first: FerretDB reports a busy port only in its
	// logs. Port 0 goes to FerretDB as is, so no other process can take the
	// port between a probe and FerretDB's own listen.
	addr := opts.Addr
	if _, port, _ := net.SplitHostPort(addr); port != "0" {
		probe, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("devdb: cannot listen on %s: %w", addr, err)
		}
		if err := probe.Close(); err != nil {
			return nil, fmt.Errorf("devdb: release probe listener: %w", err)
		}
	}

	fdb, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: (&url.URL{Scheme: "file", Path: dir + "/"}).String(),
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("devdb: start FerretDB: %w", err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	s := &Server{cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- fdb.Run(runCtx) }()

	// MongoDBURI blocks until the listener is up; wait for it with a deadline.
	uri := make(chan string, 1)
	go func() { uri <- fdb.MongoDBURI() }()
	select {
	case s.uri = <-uri:
	case err := <-s.done:
		cancel()
		return nil, fmt.Errorf("devdb: FerretDB stopped during start-up: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		return nil, errors.New("devdb: FerretDB did not start listening within 30s")
	}
	u, err := url.Parse(s.uri)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("devdb: FerretDB gave an unreadable URI %q: %w", s.uri, err)
	}
	if err := waitForTCP(u.Host, 10*time.Second); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// URI is the MongoDB connection string of the server.
func (s *Server) URI() string { return s.uri }

// Stop closes the listener and all connections and waits for FerretDB to exit.
func (s *Server) Stop() error {
	s.cancel()
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		return errors.New("devdb: FerretDB did not stop within 30s")
	}
}

func waitForTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("devdb: %s not reachable after %s: %w", addr, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

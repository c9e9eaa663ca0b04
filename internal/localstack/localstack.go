// Package localstack runs the whole orders system on one machine without
// Docker: devdb, both Node services as real processes, and the gateway that
// maps the public paths onto them, as the load balancer does in a cluster.
package localstack

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/orders-platform/orders/internal/devdb"
	"github.com/orders-platform/orders/internal/gateway"
)

// Services are the services the stack runs, by name, with the folder under
// the services directory that holds each.
var Services = []string{"service1", "service2"}

// RouteSpec is a gateway route whose backend is one of the stack's services.
type RouteSpec struct {
	PathPrefix    string
	RewritePrefix string
	Service       string
}

// ContractRoutes are the routes of the public contract.
var ContractRoutes = []RouteSpec{
	{PathPrefix: "/service1", RewritePrefix: "/orders", Service: "service1"},
	{PathPrefix: "/service2", RewritePrefix: "/orders", Service: "service2"},
}

// Options configures a stack. Zero ports and addresses pick free ones.
type Options struct {
	Node        string // Node 24 binary
	ServicesDir string // the services/ npm workspace, installed
	DataDir     string // devdb's data
	DBAddr      string
	GatewayAddr string
	Ports       map[string]int // service name → port
	Routes      []RouteSpec
	Env         []string  // extra environment for the services, e.g. MONGODB_DB=…
	Logs        io.Writer // the services' JSON log lines; nil discards them
	Logger      *slog.Logger
}

// Stack is a running local system.
type Stack struct {
	URL      string            // the gateway, e.g. http://127.0.0.1:8080
	MongoURI string            // devdb
	Backends map[string]string // service name → its own base URL

	db      *devdb.Server
	procs   []*exec.Cmd
	waits   []chan error
	gateway *http.Server
}

// Start brings the stack up and returns once every service is ready.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	if opts.Routes == nil {
		opts.Routes = ContractRoutes
	}
	if _, err := os.Stat(filepath.Join(opts.ServicesDir, "node_modules")); err != nil {
		return nil, fmt.Errorf("localstack: %s has no node_modules: run npm ci there (make does)", opts.ServicesDir)
	}
	s := &Stack{Backends: map[string]string{}}
	fail := func(err error) (*Stack, error) {
		_ = s.Stop()
		return nil, err
	}

	// The database lives until Stop, not until the start-up deadline.
	db, err := devdb.Start(context.WithoutCancel(ctx), devdb.Options{
		Addr:    opts.DBAddr,
		DataDir: opts.DataDir,
		// FerretDB warns about every closed connection; only its errors matter here.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return nil, err
	}
	s.db, s.MongoURI = db, db.URI()

	logs := &lockedWriter{w: opts.Logs}
	for _, name := range Services {
		base, err := s.startService(ctx, opts, name, logs)
		if err != nil {
			return fail(err)
		}
		s.Backends[name] = base
	}

	routes := make([]gateway.Route, 0, len(opts.Routes))
	for _, r := range opts.Routes {
		backend, ok := s.Backends[r.Service]
		if !ok {
			return fail(fmt.Errorf("localstack: route %s names service %q, which the stack does not run", r.PathPrefix, r.Service))
		}
		u, _ := url.Parse(backend)
		routes = append(routes, gateway.Route{PathPrefix: r.PathPrefix, RewritePrefix: r.RewritePrefix, Backend: u})
	}
	handler, err := gateway.Handler(routes, opts.Logger)
	if err != nil {
		return fail(fmt.Errorf("localstack: %w", err))
	}
	addr := opts.GatewayAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(fmt.Errorf("localstack: gateway cannot listen on %s: %w", addr, err))
	}
	s.gateway = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.gateway.Serve(ln) }()
	s.URL = "http://" + ln.Addr().String()

	for name, base := range s.Backends {
		if err := waitReady(ctx, base, 30*time.Second); err != nil {
			return fail(fmt.Errorf("localstack: %s: %w", name, err))
		}
	}
	return s, nil
}

// startService runs `node index.js` for one service and returns its base URL
// once it logs the port it listens on.
func (s *Stack) startService(ctx context.Context, opts Options, name string, logs io.Writer) (string, error) {
	cmd := exec.Command(opts.Node, "index.js")
	cmd.Dir = filepath.Join(opts.ServicesDir, name)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"MONGODB_URL=" + s.MongoURI,
		fmt.Sprintf("PORT=%d", opts.Ports[name]),
	}, opts.Env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("localstack: start %s with %s: %w", name, opts.Node, err)
	}
	s.procs = append(s.procs, cmd)
	done := make(chan error, 1)
	s.waits = append(s.waits, done)

	port := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			var entry struct {
				Msg  string `json:"msg"`
				Port int    `json:"port"`
			}
			if json.Unmarshal(line, &entry) == nil && entry.Msg == "listening" {
				select {
				case port <- entry.Port:
				default:
				}
			}
			fmt.Fprintf(logs, "%s\n", line)
		}
		done <- cmd.Wait()
	}()

	select {
	case p := <-port:
		return fmt.Sprintf("http://127.0.0.1:%d", p), nil
	case err := <-done:
		done <- err
		return "", fmt.Errorf("localstack: %s exited before listening: %v", name, err)
	case <-time.After(30 * time.Second):
		return "", fmt.Errorf("localstack: %s did not listen within 30s", name)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func waitReady(ctx context.Context, base string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// StopDatabase stops devdb while the services keep running, as when MongoDB
// becomes unreachable (tests of what the services answer then).
func (s *Stack) StopDatabase() error {
	if s.db == nil {
		return nil
	}
	err := s.db.Stop()
	s.db = nil
	return err
}

// Stop shuts the gateway, the services (SIGTERM, as Kubernetes does) and devdb down.
func (s *Stack) Stop() error {
	var errs []error
	if s.gateway != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, s.gateway.Shutdown(ctx))
		cancel()
	}
	for i, cmd := range s.procs {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-s.waits[i]:
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err))
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			errs = append(errs, fmt.Errorf("%s in %s did not stop within 15s", strings.Join(cmd.Args, " "), cmd.Dir))
		}
	}
	if s.db != nil {
		errs = append(errs, s.db.Stop())
	}
	return errors.Join(errs...)
}

// lockedWriter lets several services' log copiers share one writer line by line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// FindNode returns the Node 24 binary: $ORDERS_NODE when set, else the node on
// PATH if it is version 24.
func FindNode() (string, error) {
	if p := os.Getenv("ORDERS_NODE"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("no node on PATH and ORDERS_NODE is unset: Node 24 is needed (scripts/install-node.sh installs it)")
	}
	out, err := exec.Command(p, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", p, err)
	}
	if v := strings.TrimSpace(string(out)); !strings.HasPrefix(v, "v24.") {
		return "", fmt.Errorf("%s is %s, Node 24 is needed: set ORDERS_NODE or put Node 24 first on PATH", p, v)
	}
	return p, nil
}

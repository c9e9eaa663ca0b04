// Package kubeapi starts a real Kubernetes API server for tests: kine (the etcd API
// on SQLite) and kube-apiserver, both built from pinned Go modules by
// test/tools/install-kube.sh into the tools cache (see test/toolcache).
//
// The API server listens on a free loopback port with generated serving
// certificates, accepts a static bearer token for an admin user in
// system:masters, and enforces the real admission chain (PodSecurity,
// ServiceAccount, …). Nothing reconciles: there is no controller-manager,
// scheduler or kubelet unless a caller starts them through Options.AfterStart
// (the Cluster carries every file such components need: kubeconfig, CA, service
// account keys, the binary directory).
//
// A test that needs workloads to run starts them from the WithWorkloads hook
// (controllers.go): kube-controller-manager and kube-scheduler from the same tools
// directory, and kwok (test/tools/install-kwok.sh) with fake Nodes in two zones,
// on which pods become Running and Ready:
//
//	kubeapi.Start(t, kubeapi.Options{AfterStart: []func(testing.TB, *kubeapi.Cluster){
//		kubeapi.WithWorkloads(nil),
//	}})
//
// Start installs the CRDs the charts use — Gateway API, Envoy Gateway and the
// Prometheus Operator — from the Go module cache (go mod download), never from
// the network at test time beyond the module proxy.
package kubeapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/orders-platform/orders/test/toolcache"
)

// Pinned tool versions; they must match test/tools/kube/go.mod and test/tools/kine/go.mod
// (test/tools/install-kube.sh checks that).
const (
	KubeVersion = "v1.37.2"
	KineVersion = "v0.17.5"
)

// AdminUser is the user name behind Cluster.Token; it is in system:masters.
const AdminUser = "kubeapi-admin"

// Options tunes Start. The zero value starts kine and kube-apiserver and installs DefaultCRDs.
type Options struct {
	// CRDs to install after the server is ready. nil means DefaultCRDs(); use
	// an empty non-nil slice to install none.
	CRDs []CRDSource
	// ExtraAPIServerArgs are appended to the kube-apiserver command line.
	ExtraAPIServerArgs []string
	// AfterStart hooks run in order once the server is ready and the CRDs are
	// established: the place to start kube-controller-manager, kube-scheduler or
	// kwok with Cluster.StartProcess.
	AfterStart []func(tb testing.TB, c *Cluster)
	// ReadyTimeout bounds the wait for /readyz (default 90s).
	ReadyTimeout time.Duration
}

// Cluster is a running API server.
type Cluster struct {
	// Config reaches the API server as the admin user.
	Config *rest.Config
	// URL is https://127.0.0.1:<port>.
	URL string
	// Token is the admin bearer token.
	Token string
	// Dir holds certificates, keys, the kubeconfig, data and logs.
	Dir string
	// BinDir is the directory of kube-apiserver, kube-controller-manager and kube-scheduler.
	BinDir string
	// CAFile and CAKeyFile are the cluster CA (it signed the serving certificate
	// and is the API server's --client-ca-file).
	CAFile, CAKeyFile string
	// ServiceAccountKeyFile is the private key that signs service account tokens
	// (kube-controller-manager --service-account-private-key-file).
	ServiceAccountKeyFile string
	// KubeconfigFile is a kubeconfig for the admin user.
	KubeconfigFile string
	// Timings of the start: kine ready, API server ready, CRDs established.
	KineReady, APIServerReady, CRDsReady time.Duration

	mu    sync.Mutex
	procs []*process
}

type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

// Start builds nothing: it looks the binaries up in the tools cache (skipping the
// test with a hint, or failing under ORDERS_REQUIRE_TOOLS=1, when they are
// missing), starts kine and kube-apiserver, waits for /readyz, installs CRDs and
// registers a cleanup that stops both.
func Start(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	begin := time.Now()
	apiserver := toolcache.Path(tb, "kube", KubeVersion, "kube-apiserver")
	kine := toolcache.Path(tb, "kine", KineVersion, "kine")

	c := &Cluster{Dir: tb.TempDir(), BinDir: filepath.Dir(apiserver)}
	tb.Cleanup(c.stopAll)

	pki, err := writePKI(c.Dir)
	if err != nil {
		tb.Fatalf("kubeapi: certificates: %v", err)
	}
	c.CAFile, c.CAKeyFile, c.ServiceAccountKeyFile = pki.caCert, pki.caKey, pki.saKey

	// kine
	kinePort, metricsPort := freePort(tb), freePort(tb)
	kineAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(kinePort))
	c.StartProcess(tb, "kine", kine,
		"--listen-address", kineAddr,
		"--metrics-bind-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(metricsPort)),
		"--endpoint", "sqlite://"+filepath.Join(c.Dir, "kine.db")+"?_journal=WAL&cache=shared&_busy_timeout=30000",
	)
	if err := waitTCP(kineAddr, 30*time.Second, c.exited("kine")); err != nil {
		tb.Fatalf("kubeapi: kine did not listen on %s: %v\n%s", kineAddr, err, c.LogTail("kine", 40))
	}
	c.KineReady = time.Since(begin)

	// kube-apiserver
	c.Token = randomToken()
	tokens := filepath.Join(c.Dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(fmt.Sprintf("%s,%s,%s,\"system:masters\"\n", c.Token, AdminUser, AdminUser)), 0o600); err != nil {
		tb.Fatal(err)
	}
	port := freePort(tb)
	c.URL = "https://127.0.0.1:" + strconv.Itoa(port)
	args := []string{
		"--etcd-servers=http://" + kineAddr,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// A loopback advertise address is refused by the endpoint reconciler of the
		// default/kubernetes Service; nothing in a test reaches the API through it.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + pki.servingCert,
		"--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.caCert,
		"--token-auth-file=" + tokens,
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pki.saPub,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=false",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--v=1",
	}
	args = append(args, opts.ExtraAPIServerArgs...)
	c.StartProcess(tb, "kube-apiserver", apiserver, args...)

	c.Config = &rest.Config{
		Host:            c.URL,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: pki.caCert},
		QPS:             200,
		Burst:           400,
		Timeout:         60 * time.Second,
	}
	ready := opts.ReadyTimeout
	if ready == 0 {
		ready = 90 * time.Second
	}
	if err := c.waitReady(ready); err != nil {
		tb.Fatalf("kubeapi: kube-apiserver not ready: %v\n--- kube-apiserver log ---\n%s\n--- kine log ---\n%s",
			err, c.LogTail("kube-apiserver", 60), c.LogTail("kine", 20))
	}
	c.APIServerReady = time.Since(begin)
	c.KubeconfigFile = filepath.Join(c.Dir, "kubeconfig")
	if err := os.WriteFile(c.KubeconfigFile, c.kubeconfig(), 0o600); err != nil {
		tb.Fatal(err)
	}

	crds := opts.CRDs
	if crds == nil {
		crds = DefaultCRDs()
	}
	if len(crds) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if _, err := InstallCRDs(ctx, c.Config, crds); err != nil {
			tb.Fatalf("kubeapi: CRDs: %v", err)
		}
	}
	c.CRDsReady = time.Since(begin)
	tb.Logf("kubeapi: kine ready in %s, kube-apiserver %s ready in %s, CRDs established in %s",
		c.KineReady.Round(time.Millisecond), KubeVersion, c.APIServerReady.Round(time.Millisecond), c.CRDsReady.Round(time.Millisecond))

	for _, hook := range opts.AfterStart {
		hook(tb, c)
	}
	return c
}

// StartProcess starts a binary whose output goes to <Dir>/<name>.log and which is
// stopped (SIGTERM, then SIGKILL) when the test ends, in reverse start order.
func (c *Cluster) StartProcess(tb testing.TB, name, path string, args ...string) {
	tb.Helper()
	logPath := filepath.Join(c.Dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = c.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		tb.Fatalf("kubeapi: start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
}

// LogTail returns the last n lines of a started process's log.
func (c *Cluster) LogTail(name string, n int) string {
	b, err := os.ReadFile(filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (c *Cluster) exited(name string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if p.name == name {
			return p.done
		}
	}
	return nil
}

func (c *Cluster) stopAll() {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
}

func (c *Cluster) waitReady(timeout time.Duration) error {
	caPEM, err := os.ReadFile(c.Config.TLSClientConfig.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(timeout)
	exited := c.exited("kube-apiserver")
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("kube-apiserver exited")
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, c.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+c.Token)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from /readyz within %s (last: %s)", timeout, last)
}

func (c *Cluster) kubeconfig() []byte {
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubeapi
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: kubeapi
  context:
    cluster: kubeapi
    user: %s
current-context: kubeapi
`, c.URL, c.CAFile, AdminUser, c.Token, AdminUser))
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitTCP(addr string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited")
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timeout after %s", timeout)
}

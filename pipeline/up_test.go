package pipeline

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"dagger.io/dagger"
)

// k3sOnStub builds the local cluster's service on the engine stub and returns
// the query chain that defines it.
func k3sOnStub(t *testing.T) (*Pipeline, *engineStub, []call) {
	t.Helper()
	p, stub := openOnStub(t)
	tarballs := map[string]*dagger.File{}
	for _, s := range Services {
		tarballs[s] = p.dag.Directory().File(s + ".tar")
	}
	if _, err := p.k3sService("abc123", tarballs).ID(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p, stub, stub.chain(t, "asService")
}

// Service.Start waits until every exposed port answers, retrying for up to 15
// minutes (startWithRuntime and portHealthChecker.Check, core/service.go and
// core/healthcheck.go@v0.21.8; backoff's default elapsed time), unless the port
// was exposed with experimentalSkipHealthcheck. up starts k3s, then installs
// the releases: a port that answers only after that step must skip the check,
// or up waits 15 minutes for itself and fails.
func TestK3sHealthChecksOnlyPortsUpAtStart(t *testing.T) {
	_, _, chain := k3sOnStub(t)
	upAtStart := map[int]string{6443: "the API server: the cluster is usable once it answers"}
	servedLater := map[int]string{80: "ServiceLB serves the gateway's LoadBalancer Service only after the release step installs the edge chart"}
	seen := map[int]bool{}
	for _, c := range chain {
		if c.name != "withExposedPort" {
			continue
		}
		port, err := strconv.Atoi(str(c.args["port"]))
		if err != nil {
			t.Fatalf("withExposedPort without a port: %v", c.args)
		}
		seen[port] = true
		skip := str(c.args["experimentalSkipHealthcheck"]) == "true"
		switch {
		case servedLater[port] != "" && !skip:
			t.Errorf("k3s exposes port %d with the health check: Start waits for it, but %s, after Start; up deadlocks", port, servedLater[port])
		case upAtStart[port] != "" && skip:
			t.Errorf("k3s exposes port %d without the health check: Start would return before %s answers", port, upAtStart[port])
		case upAtStart[port] == "" && servedLater[port] == "":
			t.Errorf("k3s exposes port %d: say whether it answers when k3s starts or only later", port)
		}
	}
	for port := range servedLater {
		if !seen[port] {
			t.Errorf("k3s does not expose port %d: up --ports=8080:80 has nothing to forward", port)
		}
	}
	for port := range upAtStart {
		if !seen[port] {
			t.Errorf("k3s does not expose port %d: Start would not wait for the cluster", port)
		}
	}
}

// k3s sets up cgroup v2 only as PID 1 (k3s-io/k3s#4085); under Dagger a
// service's first process is Dagger's init, so the service starts k3s through
// the entrypoint script that does it, as a file of this repository.
func TestK3sStartsThroughTheEntrypoint(t *testing.T) {
	_, _, chain := k3sOnStub(t)
	var file, service *call
	for i, c := range chain {
		switch {
		case c.name == "withNewFile" && str(c.args["path"]) == k3sEntrypointPath:
			file = &chain[i]
		case c.name == "asService":
			service = &chain[i]
		}
	}
	if file == nil {
		t.Fatalf("the k3s container has no %s", k3sEntrypointPath)
	}
	if got := str(file.args["contents"]); got != k3sEntrypoint {
		t.Errorf("%s is not pipeline/%s as committed", k3sEntrypointPath, k3sEntrypointFile)
	}
	if got := str(file.args["permissions"]); got != "493" { // 0o755
		t.Errorf("%s permissions = %s, want 0755", k3sEntrypointPath, got)
	}
	args := service.args["args"]
	if args == nil || len(args.Children) < 2 || str(args.Children[0].Value) != k3sEntrypointPath || str(args.Children[1].Value) != "server" {
		t.Errorf("the service runs %s, want %s server …", str(args), k3sEntrypointPath)
	}
	if str(service.args["insecureRootCapabilities"]) != "true" {
		t.Error("k3s needs insecureRootCapabilities (it manages cgroups, mounts and iptables)")
	}
}

// up is called again to start again: its steps that act on the new cluster
// carry the run's id, so the engine never answers them from its cache (the
// install and the smoke test of a second up would otherwise be skipped).
func TestUpStepsAreNeverAnsweredFromCache(t *testing.T) {
	p, stub := openOnStub(t)
	k3s := p.dag.Container().From(K3sImage).AsService()
	release, err := p.k3sRelease(k3s, DeployerRequest{Action: DeployerApply, Env: LocalEnv, Root: srcDir, Kubeconfig: "/work/kubeconfig",
		Images: map[string]string{"service1": "orders/service1:abc", "service2": "orders/service2:abc"}, Timeout: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	for what, c := range map[string]*dagger.Container{"release": release, "smoke": p.k3sSmoke(k3s)} {
		if _, err := c.ID(context.Background()); err != nil {
			t.Fatal(err)
		}
		chain := stub.chain(t, "withServiceBinding")
		busted, lastExec := -1, -1
		for i, c := range chain {
			if c.name == "withEnvVariable" && str(c.args["name"]) == runIDVariable && str(c.args["value"]) == p.runID {
				busted = i
			}
			if c.name == "withExec" {
				lastExec = i
			}
		}
		// The release container ends with the deployer's exec; smoke's exec is
		// added by p.smoke, after everything here.
		if busted < 0 || (what == "release" && busted > lastExec) {
			t.Errorf("up's %s step has no %s=<run id> before it runs: a second up takes it from the cache", what, runIDVariable)
		}
		stub.mu.Lock()
		stub.queries = nil
		stub.mu.Unlock()
	}
}

// The entrypoint passes shellcheck (the Debian package; make tools installs it).
func TestK3sEntrypointShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("ORDERS_REQUIRE_TOOLS") == "1" {
			t.Fatal("shellcheck is not installed (ORDERS_REQUIRE_TOOLS=1: run make tools)")
		}
		t.Skip("shellcheck is not installed: run make tools")
	}
	if out, err := exec.Command(sc, "--shell=sh", "--severity=style", k3sEntrypointFile).CombinedOutput(); err != nil {
		t.Errorf("shellcheck %s: %v\n%s", k3sEntrypointFile, err, out)
	}
}

// The parts of the entrypoint that need no privileges, run here: on a cgroup
// v2 tree (a directory shaped like /sys/fs/cgroup) it moves the root's
// processes to init/ and enables every controller for the children; it clears
// the previous run's server state and kubeconfig and keeps the image store;
// it starts k3s server with the arguments given and imports each service's
// image under the chart's local name. k3s itself needs privileges: a stand-in
// on PATH records what it is asked.
func TestK3sEntrypointUnprivileged(t *testing.T) {
	dir := t.TempDir()
	cg, data, images, bin := filepath.Join(dir, "cgroup"), filepath.Join(dir, "k3s"), filepath.Join(dir, "images"), filepath.Join(dir, "bin")
	kubeconfig := filepath.Join(dir, "config", "k3s.yaml")
	write := func(path, content string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(cg, "cgroup.controllers"), "cpuset cpu io memory pids\n", 0o644)
	write(filepath.Join(cg, "cgroup.procs"), "1\n7\n42\n", 0o644)
	write(filepath.Join(cg, "cgroup.subtree_control"), "", 0o644)
	write(filepath.Join(data, "server", "tls", "server-ca.crt"), "old", 0o644)
	write(filepath.Join(data, "server", "db", "state.db"), "old", 0o644)
	write(filepath.Join(data, "agent", "containerd", "content"), "images", 0o644)
	write(kubeconfig, "old", 0o644)
	for _, s := range Services {
		write(filepath.Join(images, s+".tar"), "tar", 0o644)
	}
	log := filepath.Join(dir, "k3s.log")
	write(filepath.Join(bin, "k3s"), "#!/bin/sh\necho \"$*\" >> "+log+"\n", 0o755)

	cmd := exec.Command("sh", k3sEntrypointFile, "server", "--disable=traefik")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "ORDERS_CGROUP_ROOT="+cg, "ORDERS_K3S_DATA="+data,
		"ORDERS_K3S_KUBECONFIG="+kubeconfig, "ORDERS_K3S_IMAGES="+images, "ORDERS_IMAGE_TAG=abc123")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", k3sEntrypointFile, err, out)
	}
	read := func(path string) string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
	if got := read(filepath.Join(cg, "init", "cgroup.procs")); got != "1\n7\n42\n" {
		t.Errorf("init/cgroup.procs = %q, want every process of the root cgroup", got)
	}
	if got := strings.TrimSpace(read(filepath.Join(cg, "cgroup.subtree_control"))); got != "+cpuset +cpu +io +memory +pids" {
		t.Errorf("cgroup.subtree_control = %q, want every controller enabled", got)
	}
	for _, gone := range []string{filepath.Join(data, "server"), kubeconfig} {
		if _, err := os.Stat(gone); err == nil {
			t.Errorf("%s survived the start: k3s would reuse the previous cluster's state", gone)
		}
	}
	if read(filepath.Join(data, "agent", "containerd", "content")) != "images" {
		t.Error("the image store was cleared: every start would pull the images again")
	}
	calls := strings.Split(strings.TrimSpace(read(log)), "\n")
	if !slices.Contains(calls, "server --disable=traefik") {
		t.Errorf("k3s was started as %q, want the entrypoint's arguments", calls)
	}
	for _, s := range Services {
		want := "ctr -n k8s.io images import --index-name docker.io/" + LocalImage(s, "abc123") + " " + filepath.Join(images, s+".tar")
		if !slices.Contains(calls, want) {
			t.Errorf("%s was not imported as the orders chart's local image; k3s calls: %q", s, calls)
		}
	}

	// Without the tag, nothing starts.
	cmd = exec.Command("sh", k3sEntrypointFile, "server")
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "ORDERS_CGROUP_ROOT="+filepath.Join(dir, "none"),
		"ORDERS_K3S_DATA="+data, "ORDERS_K3S_KUBECONFIG="+kubeconfig, "ORDERS_K3S_IMAGES="+images)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "ORDERS_IMAGE_TAG") {
		t.Errorf("started without ORDERS_IMAGE_TAG: %v %s", err, out)
	}
}

package pipeline

import (
	"context"
	_ "embed"
	"fmt"

	"dagger.io/dagger"
)

// k3sEntrypointFile starts k3s under Dagger: cgroup v2 set-up, stale state
// cleared, images imported (see the script's header).
const k3sEntrypointFile = "k3s-entrypoint.sh"

// k3sEntrypointPath is where it is in the k3s container.
const k3sEntrypointPath = "/usr/local/bin/orders-k3s-entrypoint"

//go:embed k3s-entrypoint.sh
var k3sEntrypoint string

// LocalEnv is the environment `up` deploys.
const LocalEnv = "local"

// k3sConfigVolume holds the kubeconfig k3s writes, shared with the deployer.
const k3sConfigVolume = "orders-k3s-config"

// k3sService is the local cluster with the service images to import. It starts
// through the entrypoint script (cgroup v2 under Dagger's init, stale state
// cleared). Start health-checks 6443 only: the gateway's port 80 answers once
// the release step has installed the edge, after Start, so it skips the check
// (core/healthcheck.go@v0.21.8 would retry it for 15 minutes).
func (p *Pipeline) k3sService(tag string, tarballs map[string]*dagger.File) *dagger.Service {
	c := p.dag.Container().From(K3sImage).
		WithNewFile(k3sEntrypointPath, k3sEntrypoint, dagger.ContainerWithNewFileOpts{Permissions: 0o755}).
		WithMountedCache("/var/lib/rancher/k3s", p.dag.CacheVolume("orders-k3s-data")).
		WithMountedCache("/k3s-config", p.dag.CacheVolume(k3sConfigVolume)).
		WithMountedTemp("/var/lib/kubelet").
		WithMountedTemp("/var/log").
		WithEnvVariable("ORDERS_IMAGE_TAG", tag).
		WithEnvVariable(runIDVariable, p.runID).
		WithExposedPort(6443).
		WithExposedPort(80, dagger.ContainerWithExposedPortOpts{ExperimentalSkipHealthcheck: true})
	for _, s := range Services {
		c = c.WithFile("/images/"+s+".tar", tarballs[s])
	}
	return c.AsService(dagger.ContainerAsServiceOpts{
		Args: []string{k3sEntrypointPath, "server", "--disable=traefik", "--disable=metrics-server", "--tls-san=k3s",
			"--write-kubeconfig=/k3s-config/k3s.yaml", "--write-kubeconfig-mode=644"},
		InsecureRootCapabilities: true,
	})
}

// k3sRelease is the deployer installing the releases on the local cluster once
// k3s has written its kubeconfig.
func (p *Pipeline) k3sRelease(k3s *dagger.Service, req DeployerRequest) (*dagger.Container, error) {
	args, err := req.Args()
	if err != nil {
		return nil, err
	}
	waitConfig := "until [ -s /k3s-config/k3s.yaml ]; do sleep 1; done; mkdir -p /work; sed 's#https://127.0.0.1:6443#https://k3s:6443#' /k3s-config/k3s.yaml > " + req.Kubeconfig
	return p.deployer().
		WithEnvVariable(runIDVariable, p.runID).
		WithMountedCache("/k3s-config", p.dag.CacheVolume(k3sConfigVolume)).
		WithServiceBinding("k3s", k3s).
		WithExec([]string{"sh", "-c", waitConfig}).
		WithExec(args), nil
}

// k3sSmoke is the contract checker against the local cluster's gateway.
func (p *Pipeline) k3sSmoke(k3s *dagger.Service) *dagger.Container {
	return p.goTool("smoke").WithEnvVariable(runIDVariable, p.runID).WithServiceBinding("k3s", k3s)
}

// Up runs the whole system on k3s as a Dagger service: the images built from
// source and imported into k3s, the releases installed by the deployer with the
// local environment, smoke-tested through the gateway. The returned service
// exposes the gateway on port 80 (`up --ports=8080:80`).
func (p *Pipeline) Up(ctx context.Context, skipSmoke bool) (*dagger.Service, error) {
	env, err := p.environment(ctx, LocalEnv)
	if err != nil {
		return nil, err
	}
	steps, err := Plan(env, ModeUp, StepOptions{SkipSmoke: skipSmoke})
	if err != nil {
		return nil, err
	}
	tag, err := p.gitCommit(ctx)
	if err != nil {
		// A source without .git still runs locally.
		tag = "local"
	}
	platform, err := p.dag.DefaultPlatform(ctx)
	if err != nil {
		return nil, fmt.Errorf("up: engine platform: %w", err)
	}
	var k3s *dagger.Service
	for _, st := range steps {
		if !st.Runs() {
			p.progress("%s", st)
			continue
		}
		switch st.Step {
		case StepBuild:
			images, err := p.buildAll(ctx, Services, []dagger.Platform{platform})
			if err != nil {
				return nil, fmt.Errorf("up failed at step build: %w", err)
			}
			tarballs := map[string]*dagger.File{}
			for _, s := range Services {
				tarballs[s] = images[s][0].AsTarball()
			}
			k3s = p.k3sService(tag, tarballs)
		case StepCluster:
			p.progress("start k3s (%s)", K3sImage)
			if _, err := k3s.Start(ctx); err != nil {
				return nil, fmt.Errorf("up failed at step cluster: %w", err)
			}
		case StepRelease:
			images := map[string]string{}
			for _, s := range Services {
				images[s] = LocalImage(s, tag)
			}
			req := DeployerRequest{Action: DeployerApply, Env: LocalEnv, Root: srcDir, Kubeconfig: "/work/kubeconfig", Images: images, Timeout: "10m"}
			release, err := p.k3sRelease(k3s, req)
			if err != nil {
				return nil, err
			}
			p.progress("helm releases --env=local")
			out, err := stdout(ctx, "deployer --env=local", release)
			if err != nil {
				return nil, fmt.Errorf("up failed at step release: %w", err)
			}
			fmt.Fprint(p.log, out)
		case StepSmoke:
			if err := p.smoke(ctx, p.k3sSmoke(k3s), "5m", "-url", "http://k3s"); err != nil {
				return nil, fmt.Errorf("up failed at step smoke: %w", err)
			}
		default:
			return nil, fmt.Errorf("up: unexpected step %s", st.Step)
		}
	}
	return k3s, nil
}

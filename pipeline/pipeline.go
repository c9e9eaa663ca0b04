package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/orders-platform/orders/internal/attest"
	"github.com/orders-platform/orders/internal/environments"
)

// runIDVariable carries Pipeline.runID into the containers of steps that read
// or change live state, so the engine never answers them from its cache.
const runIDVariable = "ORDERS_PIPELINE_RUN"

// srcDir is where the repository is mounted in every container.
const srcDir = "/src"

// Inputs are what the Dagger module hands over, by ID, from its function's arguments.
type Inputs struct {
	// SourceID is the repository (the module's +defaultPath="/").
	SourceID string
	// AWS credentials: IDs of Dagger secrets; empty when not given.
	AWSAccessKeyID, AWSSecretAccessKey, AWSSessionToken string
	// Commit is the git commit the images are tagged with; empty means
	// `git rev-parse HEAD` of the source.
	Commit string
	// Log receives progress lines (never secrets). Nil means standard error.
	Log io.Writer
}

// Pipeline runs the pipeline's steps on one Dagger session.
type Pipeline struct {
	dag    *dagger.Client
	src    *dagger.Directory
	aws    awsSecrets
	commit string
	log    io.Writer
	// runID differs on every run: commands that read or change live state
	// carry it, so the engine never answers them from its cache.
	runID string
	// trust is the Sigstore trust root, fetched once a run when needed.
	trust *attest.Trust
}

// Open connects to the running Dagger session (inside a module function the
// session comes from the environment) and loads the inputs by ID.
func Open(ctx context.Context, in Inputs) (*Pipeline, error) {
	dag, err := dagger.Connect(ctx, dagger.WithLogOutput(io.Discard))
	if err != nil {
		return nil, fmt.Errorf("connect to the Dagger session: %w", err)
	}
	if in.SourceID == "" {
		dag.Close()
		return nil, errors.New("no source directory")
	}
	p := &Pipeline{
		dag:    dag,
		src:    dag.LoadDirectoryFromID(dagger.DirectoryID(in.SourceID)),
		commit: in.Commit,
		log:    in.Log,
		runID:  time.Now().UTC().Format(time.RFC3339Nano),
	}
	if p.log == nil {
		p.log = os.Stderr
	}
	load := func(id string) *dagger.Secret {
		if id == "" {
			return nil
		}
		return dag.LoadSecretFromID(dagger.SecretID(id))
	}
	p.aws = awsSecrets{
		keyID:  load(in.AWSAccessKeyID),
		secret: load(in.AWSSecretAccessKey),
		token:  load(in.AWSSessionToken),
	}
	return p, nil
}

// Close ends the connection.
func (p *Pipeline) Close() error { return p.dag.Close() }

// progress prints one line of progress.
func (p *Pipeline) progress(format string, args ...any) {
	fmt.Fprintf(p.log, "==> "+format+"\n", args...)
}

// environment loads and validates an environment from the source, before
// anything changes.
func (p *Pipeline) environment(ctx context.Context, name string) (*environments.Environment, error) {
	tmp, err := os.MkdirTemp("", "orders-env-")
	if err != nil {
		return nil, fmt.Errorf("load environment: %w", err)
	}
	defer os.RemoveAll(tmp)
	if _, err := p.src.Directory(environments.Dir).Export(ctx, tmp+"/"+environments.Dir); err != nil {
		return nil, fmt.Errorf("load environment: export %s/: %w", environments.Dir, err)
	}
	return environments.Load(os.DirFS(tmp), name)
}

// gitCommit is the commit the images are tagged with.
func (p *Pipeline) gitCommit(ctx context.Context) (string, error) {
	c := p.commit
	if c == "" {
		out, err := p.dag.Container().From(GitImage).
			WithMountedDirectory(srcDir, p.src).WithWorkdir(srcDir).
			WithExec([]string{"git", "-c", "safe.directory=*", "rev-parse", "HEAD"}).Stdout(ctx)
		if err != nil {
			return "", fmt.Errorf("cannot read the git commit of the source (no .git?): pass --commit=$(git rev-parse HEAD): %w", err)
		}
		c = out
	}
	return ImageTag(c)
}

// goContainer has the repository, Go's caches and the Go toolchain.
func (p *Pipeline) goContainer() *dagger.Container {
	return p.dag.Container().From(GoImage).
		WithMountedCache("/go/pkg/mod", p.dag.CacheVolume("orders-go-mod")).
		WithMountedCache("/root/.cache/go-build", p.dag.CacheVolume("orders-go-build")).
		WithMountedDirectory(srcDir, p.src).
		WithWorkdir(srcDir)
}

// goTool builds one of the repository's commands (cmd/<name>) into a container
// that has the repository at /src, and returns that container.
func (p *Pipeline) goTool(name string) *dagger.Container {
	return p.goContainer().
		WithEnvVariable("CGO_ENABLED", "0").
		WithExec([]string{"go", "build", "-o", "/usr/local/bin/" + name, "./cmd/" + name})
}

// stdout runs a container to completion and returns its output, with what
// failed in the error.
func stdout(ctx context.Context, what string, c *dagger.Container) (string, error) {
	out, err := c.Stdout(ctx)
	if err != nil {
		var exec *dagger.ExecError
		if errors.As(err, &exec) {
			return "", fmt.Errorf("%s failed (exit code %d): %s", what, exec.ExitCode, lastLines(exec.Stderr+exec.Stdout, 20))
		}
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// lastLines keeps the end of a long output.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

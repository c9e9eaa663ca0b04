// The orders platform's pipeline: test, check, build, sbom, publish, plan,
// provision, deploy, diff, smoke, up, db-tunnel, backup, restore, remove-tenant
// and destroy.
//
// This module is a thin adapter. Every function hands its arguments, by ID, to
// the library github.com/orders-platform/orders/pipeline (written on
// the published SDK dagger.io/dagger and unit-tested with go test), which does
// the work. No logic lives here.
package main

import (
	"context"

	"dagger/orders/internal/dagger"

	"github.com/orders-platform/orders/pipeline"
)

// Orders is the pipeline of the orders platform.
type Orders struct {
	// +private
	Source *dagger.Directory
	// +private
	AwsAccessKeyID *dagger.Secret
	// +private
	AwsSecretAccessKey *dagger.Secret
	// +private
	AwsSessionToken *dagger.Secret
	// +private
	Commit string
	// +private
	StateBucket string
}

// New takes what every function shares: the repository and, for the functions that reach AWS, the credentials as
// secrets (never printed). Example: dagger call --aws-access-key-id=env://AWS_ACCESS_KEY_ID
// --aws-secret-access-key=env://AWS_SECRET_ACCESS_KEY --aws-session-token=env://AWS_SESSION_TOKEN deploy --env=dev
func New(
	// The repository.
	// +defaultPath="/"
	source *dagger.Directory,
	// AWS access key id, e.g. env://AWS_ACCESS_KEY_ID (plan, provision, publish, deploy, diff, db-tunnel, backup,
	// restore, remove-tenant, destroy).
	// +optional
	awsAccessKeyID *dagger.Secret,
	// AWS secret access key, e.g. env://AWS_SECRET_ACCESS_KEY.
	// +optional
	awsSecretAccessKey *dagger.Secret,
	// AWS session token of temporary credentials, e.g. env://AWS_SESSION_TOKEN.
	// +optional
	awsSessionToken *dagger.Secret,
	// Git commit the images are tagged with (default: git rev-parse HEAD of the source).
	// +optional
	commit string,
	// Terraform state bucket (default: orders-tfstate-<account>-<region>, as terraform/bootstrap names it).
	// +optional
	stateBucket string,
) *Orders {
	return &Orders{Source: source, AwsAccessKeyID: awsAccessKeyID, AwsSecretAccessKey: awsSecretAccessKey,
		AwsSessionToken: awsSessionToken, Commit: commit, StateBucket: stateBucket}
}

// open hands the module's inputs to the library by ID.
func (m *Orders) open(ctx context.Context) (*pipeline.Pipeline, error) {
	src, err := m.Source.ID(ctx)
	if err != nil {
		return nil, err
	}
	in := pipeline.Inputs{SourceID: string(src), Commit: m.Commit}
	for dst, secret := range map[*string]*dagger.Secret{
		&in.AWSAccessKeyID: m.AwsAccessKeyID, &in.AWSSecretAccessKey: m.AwsSecretAccessKey, &in.AWSSessionToken: m.AwsSessionToken,
	} {
		if secret != nil {
			id, err := secret.ID(ctx)
			if err != nil {
				return nil, err
			}
			*dst = string(id)
		}
	}
	return pipeline.Open(ctx, in)
}

// run opens the pipeline, calls f and closes it.
func run[T any](ctx context.Context, m *Orders, f func(*pipeline.Pipeline) (T, error)) (T, error) {
	p, err := m.open(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer p.Close()
	return f(p)
}

// Run every test suite in containers: both services against a real MongoDB, the Go tests (devdb, smoke on the
// local stack, charts on a real Kubernetes API server, Terraform checks, workflow lint).
func (m *Orders) Test(ctx context.Context) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Test(ctx) })
}

// Run the static checks: gofmt and go vet, helm lint and render with the chart policies, terraform fmt and
// validate, the Trivy configuration scan (HIGH/CRITICAL fail) and actionlint.
func (m *Orders) Check(ctx context.Context) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Check(ctx) })
}

// Build an image from its Dockerfile (services/<service>/Dockerfile, cmd/backup/Dockerfile) for linux/amd64 and
// linux/arm64; returns the multi-platform OCI tarball (e.g. `dagger call build --service=service1 export
// --path=service1.tar`).
func (m *Orders) Build(
	ctx context.Context,
	// service1, service2 or backup
	service string,
) (*dagger.File, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (*dagger.File, error) {
		f, err := p.Build(ctx, service)
		if err != nil {
			return nil, err
		}
		id, err := f.ID(ctx)
		return dag.LoadFileFromID(dagger.FileID(id)), err
	})
}

// The CycloneDX SBOM of an image built from the source (linux/amd64), written by Trivy:
// `dagger call sbom --service=backup export --path=backup.cdx.json`. deploy returns the SBOMs of the images it
// deploys, as sbom/<image>-<commit>.cdx.json.
func (m *Orders) Sbom(
	ctx context.Context,
	// service1, service2 or backup
	service string,
) (*dagger.File, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (*dagger.File, error) {
		f, err := p.SBOM(ctx, service)
		if err != nil {
			return nil, err
		}
		id, err := f.ID(ctx)
		return dag.LoadFileFromID(dagger.FileID(id)), err
	})
}

// Build the images (service1, service2, backup) for linux/amd64 and linux/arm64, scan them (HIGH/CRITICAL stop it),
// log in to the environment's ECR through the ECR API and push them tagged with the git commit, once (a commit already
// pushed is reused); prints each image by digest, then "release: …" for deploy --release. Returns that text
// (release.txt) and a CycloneDX SBOM of each image (sbom/): `dagger call … publish --env=dev export --path=publish`.
// Needs AWS credentials.
// +cache="never"
func (m *Orders) Publish(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
	// only this image (service1, service2 or backup); default all three
	// +optional
	service string,
	// HIGH/CRITICAL vulnerabilities (CVE or GHSA ids) accepted for this publish
	// +optional
	acceptVulnerabilities []string,
) (*dagger.Directory, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (*dagger.Directory, error) {
		d, err := p.Publish(ctx, env, m.StateBucket, service, acceptVulnerabilities)
		if err != nil {
			return nil, err
		}
		id, err := d.ID(ctx)
		return dag.LoadDirectoryFromID(dagger.DirectoryID(id)), err
	})
}

// Check in seconds, creating nothing, every precondition of a deploy of the environment: the caller's identity and
// the state bucket, the bootstrap, the caller's EKS access entry (or the one it will get), its egress address
// against the API's allowed ranges, the Elastic IP and vCPU quotas, the hosted zone of a domain, the region
// everywhere. One line per check; fails with each failed precondition and its fix. plan, provision, deploy and
// destroy run it first. Needs AWS credentials.
// +cache="never"
func (m *Orders) Preflight(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
	// URL that answers a GET with the caller's public address as plain text
	// +optional
	// +default="https://checkip.amazonaws.com"
	egressEchoURL string,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Preflight(ctx, env, m.StateBucket, egressEchoURL) })
}

// Show what Terraform would change for the environment (its own state key); nothing changes. Needs AWS credentials.
// +cache="never"
func (m *Orders) Plan(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
	// fail when the plan has changes (drift)
	// +optional
	failOnDrift bool,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Plan(ctx, env, m.StateBucket, failOnDrift) })
}

// Apply terraform/platform for the environment and print its outputs. Needs AWS credentials.
// +cache="never"
func (m *Orders) Provision(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Provision(ctx, env, m.StateBucket) })
}

// Deploy an environment: provision, mirror the pinned third-party images into ECR, scan and publish service1,
// service2 and backup (a commit already in ECR is reused), write a CycloneDX SBOM of each, install the Helm releases
// with the Terraform outputs and image digests, smoke-test through the load balancer. With --release: the images of
// that publish instead, by digest, never built (copied into this environment's ECR when published elsewhere). With --tenant: only that
// tenant, onto the existing environment (no Terraform apply, no mirroring), smoke-tested at <url>/<tenant>. On
// failure says what failed and what was rolled back. Returns the report (report.txt, also printed) and the SBOMs
// (sbom/): `dagger call … deploy --env=dev export --path=deploy-dev`. Needs AWS credentials.
// +cache="never"
func (m *Orders) Deploy(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
	// deploy only this tenant (a namespace of the environment); default the whole environment
	// +optional
	tenant string,
	// HIGH/CRITICAL vulnerabilities (CVE or GHSA ids) accepted for this deploy
	// +optional
	acceptVulnerabilities []string,
	// deploy onto the infrastructure as it is, without terraform apply
	// +optional
	skipProvision bool,
	// skip the smoke test
	// +optional
	skipSmoke bool,
	// bound on the releases, rollback included
	// +optional
	// +default="15m"
	timeout string,
	// the images of one publish (its last line, after "release: "): deployed by those digests, copied into this
	// environment's repositories when they are elsewhere, never built; refused if not in the registry, never scanned, or
	// (prod) without deploy.yml's attestations; prod refuses a deploy without it
	// +optional
	release string,
) (*dagger.Directory, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (*dagger.Directory, error) {
		d, err := p.Deploy(ctx, pipeline.DeployOptions{Env: env, StateBucket: m.StateBucket, AcceptVulnerabilities: acceptVulnerabilities,
			StepOptions: pipeline.StepOptions{SkipProvision: skipProvision, SkipSmoke: skipSmoke, Tenant: tenant}, Timeout: timeout, Release: release})
		if err != nil {
			return nil, err
		}
		id, err := d.ID(ctx)
		return dag.LoadDirectoryFromID(dagger.DirectoryID(id)), err
	})
}

// Show what deploy would change, without changing it: the Terraform plan, and for each Helm release the
// difference between the manifests it would apply and what is live. Needs AWS credentials.
// +cache="never"
func (m *Orders) Diff(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Diff(ctx, env, m.StateBucket) })
}

// Check the public contract (POST /service1, DELETE /service1/<n>, GET /service2) against any endpoint.
// +cache="never"
func (m *Orders) Smoke(
	ctx context.Context,
	// base URL, e.g. http://<load balancer>
	url string,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Smoke(ctx, url) })
}

// Run the whole system on k3s: images built from source and imported, the releases installed with the local
// environment and smoke-tested. Returns the gateway: `dagger call up up --ports=8080:80`, then curl
// http://localhost:8080/service2.
// +cache="never"
func (m *Orders) Up(
	ctx context.Context,
	// skip the smoke test
	// +optional
	skipSmoke bool,
) (*dagger.Service, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (*dagger.Service, error) {
		s, err := p.Up(ctx, skipSmoke)
		if err != nil {
			return nil, err
		}
		id, err := s.ID(ctx)
		return dag.LoadServiceFromID(dagger.ServiceID(id)), err
	})
}

// DbTunnel, not DBTunnel: the engine would name that command dbtunnel (core/typedef.go@v0.21.8).

// An authenticated tunnel to the environment's MongoDB, through EKS with your AWS credentials:
// `dagger call db-tunnel --env=dev up --ports=27017:27017`. Needs AWS credentials.
// +cache="never"
func (m *Orders) DbTunnel(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
) (*dagger.Service, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (*dagger.Service, error) {
		s, err := p.DBTunnel(ctx, env, m.StateBucket)
		if err != nil {
			return nil, err
		}
		id, err := s.ID(ctx)
		return dag.LoadServiceFromID(dagger.ServiceID(id)), err
	})
}

// Back up the environment's MongoDB now, with the scheduled backup job's image and role, to its backup bucket;
// prints the backup's key (restore --from takes it). Needs AWS credentials.
// +cache="never"
func (m *Orders) Backup(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Backup(ctx, env, m.StateBucket) })
}

// Restore one backup into the environment's MongoDB: drops the live collections and writes the backup's, so it
// refuses without --replace (orders after the backup are lost). See docs/disaster-recovery.md. Needs AWS
// credentials.
// +cache="never"
func (m *Orders) Restore(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
	// the backup: s3://<bucket>/<key>, a key in the environment's backup bucket, or a file name under its prefix
	from string,
	// confirm that the live data is replaced (required)
	// +optional
	replace bool,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Restore(ctx, env, from, replace, m.StateBucket) })
}

// Remove one tenant from the environment: its releases, its MongoDB user and database (not backed up), its
// namespace; the environment and other tenants stay. Refuses unless --confirm repeats the tenant's name.
// Needs AWS credentials.
// +cache="never"
func (m *Orders) RemoveTenant(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
	// the tenant deployed with deploy --tenant
	tenant string,
	// the tenant's name again: its database is dropped
	confirm string,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) {
		return p.RemoveTenant(ctx, env, tenant, confirm, m.StateBucket)
	})
}

// Uninstall the releases, then destroy the environment's infrastructure (cluster, database volumes, backups).
// Refuses unless --confirm repeats the environment's name. Needs AWS credentials.
// +cache="never"
func (m *Orders) Destroy(
	ctx context.Context,
	// environment: a folder under environments/ (dev, prod, …)
	env string,
	// the environment's name again
	// +optional
	confirm string,
) (string, error) {
	return run(ctx, m, func(p *pipeline.Pipeline) (string, error) { return p.Destroy(ctx, env, confirm, m.StateBucket) })
}

package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/orders-platform/orders/internal/charts"
	"github.com/orders-platform/orders/internal/environments"
	"github.com/orders-platform/orders/internal/tfoutputs"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := charts.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	digest1 = "sha256:" + strings.Repeat("a1", 32)
	digest2 = "sha256:" + strings.Repeat("b2", 32)
	digest3 = "sha256:" + strings.Repeat("c3", 32)
)

// fakeOutputs are Terraform outputs of an environment with azs public subnets.
func fakeOutputs(env string, azs int) *tfoutputs.Outputs {
	reg := "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
	o := &tfoutputs.Outputs{
		Environment: env, Region: "eu-central-1", ClusterName: "orders-" + env, VPCID: "vpc-0123",
		ECRRegistry:            reg,
		AWSLBControllerRoleARN: "arn:aws:iam::123456789012:role/orders-" + env + "-alb",
		ECRRepositoryURLs: map[string]string{
			"service1": reg + "/orders-" + env + "/service1", "service2": reg + "/orders-" + env + "/service2",
			"mirror/mongodb": reg + "/orders-" + env + "/mirror/mongodb", "mirror/mongodb-exporter": reg + "/orders-" + env + "/mirror/mongodb-exporter",
			"backup":               reg + "/orders-" + env + "/backup",
			"mirror/envoy-gateway": reg + "/orders-" + env + "/mirror/envoy-gateway", "mirror/envoy": reg + "/orders-" + env + "/mirror/envoy",
			"mirror/envoy-ratelimit": reg + "/orders-" + env + "/mirror/envoy-ratelimit",
		},
		BackupBucket: "orders-" + env + "-mongodb-backups-123456789012-eu-central-1",
	}
	// Every add-on's mirrors, as terraform/platform creates them.
	for _, a := range charts.AddonMirrors {
		for _, m := range a.Images {
			o.ECRRepositoryURLs[m.ECRRepository] = reg + "/orders-" + env + "/" + m.ECRRepository
		}
	}
	for i := 0; i < azs; i++ {
		o.PublicSubnetIDs = append(o.PublicSubnetIDs, fmt.Sprintf("subnet-0a1b2c3d4e5f6070%d", i))
		o.NLBEIPAllocationIDs = append(o.NLBEIPAllocationIDs, fmt.Sprintf("eipalloc-0f1e2d3c4b5a6978%d", i))
	}
	return o
}

func awsInputs(env string, azs int) Inputs {
	return Inputs{Env: env, Outputs: fakeOutputs(env, azs), Images: map[string]Image{"service1": {Digest: digest1}, "service2": {Digest: digest2}, BackupImage: {Digest: digest3}}}
}

// addonsOf are the add-ons charts/addons.yaml installs in env, in order (other
// areas add add-ons; the platform's own order is what these tests pin).
func addonsOf(t *testing.T, env string) []string {
	t.Helper()
	addons, err := ReadAddons(filepath.Join(repoRoot(t), "charts", "addons.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := environments.Load(os.DirFS(repoRoot(t)), env)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addons {
		if a.In(e) {
			out = append(out, a.Name)
		}
	}
	return out
}

// monitoringIn is ["monitoring"] where the monitoring release exists (its values
// file) and the kube-prometheus-stack add-on it needs is installed.
func monitoringIn(t *testing.T, env string, active bool) []string {
	t.Helper()
	if _, err := os.Stat(charts.ValuesFile(repoRoot(t), env, "monitoring")); err != nil {
		return nil
	}
	if active && !slices.Contains(addonsOf(t, env), "kube-prometheus-stack") {
		return nil
	}
	return []string{"monitoring"}
}

// activeAddonsOf are env's add-ons that run with the fake outputs (no domain:
// external-dns is skipped).
func activeAddonsOf(t *testing.T, env string, domain bool) []string {
	var out []string
	for _, a := range addonsOf(t, env) {
		if a == "external-dns" && !domain {
			continue
		}
		out = append(out, a)
	}
	return out
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func names(steps []Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.Name)
	}
	return out
}

func TestPlanOrderAndSkips(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name       string
		in         Inputs
		wantOrder  []string
		wantActive []string
	}{
		{
			// No cluster or backup values: those releases are not part of local at all.
			name:       "local",
			in:         Inputs{Env: "local"},
			wantOrder:  concat(addonsOf(t, "local"), []string{"edge", "mongodb", "orders"}, monitoringIn(t, "local", false)),
			wantActive: concat(activeAddonsOf(t, "local", false), []string{"edge", "mongodb", "orders"}, monitoringIn(t, "local", true)),
		},
		{
			name:       "local as tested on this machine",
			in:         Inputs{Env: "local", SkipAddons: true, Skip: []string{"mongodb"}},
			wantOrder:  concat(addonsOf(t, "local"), []string{"edge", "mongodb", "orders"}, monitoringIn(t, "local", false)),
			wantActive: concat([]string{"edge", "orders"}, monitoringIn(t, "local", false)),
		},
		{
			// cluster (the gp3 StorageClass) before the add-ons, whose Prometheus claims a gp3 volume.
			name:       "dev",
			in:         awsInputs("dev", 2),
			wantOrder:  concat([]string{"cluster"}, addonsOf(t, "dev"), []string{"edge", "mongodb", "db-access", "backup", "orders"}, monitoringIn(t, "dev", false)),
			wantActive: concat([]string{"cluster"}, activeAddonsOf(t, "dev", false), []string{"edge", "mongodb", "db-access", "backup", "orders"}, monitoringIn(t, "dev", true)),
		},
		{
			name:       "dev without a backup image",
			in:         func() Inputs { in := awsInputs("dev", 2); delete(in.Images, BackupImage); return in }(),
			wantOrder:  concat([]string{"cluster"}, addonsOf(t, "dev"), []string{"edge", "mongodb", "db-access", "backup", "orders"}, monitoringIn(t, "dev", false)),
			wantActive: concat([]string{"cluster"}, activeAddonsOf(t, "dev", false), []string{"edge", "mongodb", "db-access", "orders"}, monitoringIn(t, "dev", true)),
		},
		{
			name:       "prod",
			in:         awsInputs("prod", 3),
			wantOrder:  concat([]string{"cluster"}, addonsOf(t, "prod"), []string{"edge", "mongodb", "db-access", "backup", "orders"}, monitoringIn(t, "prod", false)),
			wantActive: concat([]string{"cluster"}, activeAddonsOf(t, "prod", false), []string{"edge", "mongodb", "db-access", "backup", "orders"}, monitoringIn(t, "prod", true)),
		},
		{
			// The cluster has the add-ons: monitoring runs wherever it has values.
			name:       "prod without add-ons",
			in:         func() Inputs { in := awsInputs("prod", 3); in.SkipAddons = true; return in }(),
			wantOrder:  concat([]string{"cluster"}, addonsOf(t, "prod"), []string{"edge", "mongodb", "db-access", "backup", "orders"}, monitoringIn(t, "prod", false)),
			wantActive: concat([]string{"cluster", "edge", "mongodb", "db-access", "backup", "orders"}, monitoringIn(t, "prod", false)),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := BuildPlan(root, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(p.Steps); !reflect.DeepEqual(got, tc.wantOrder) {
				t.Errorf("order %v, want %v", got, tc.wantOrder)
			}
			if got := names(p.Active()); !reflect.DeepEqual(got, tc.wantActive) {
				t.Errorf("active %v, want %v", got, tc.wantActive)
			}
			for _, s := range p.Steps {
				if s.Timeout <= 0 {
					t.Errorf("%s has no timeout", s.Name)
				}
				switch s.Kind {
				case KindLocal:
					if _, err := os.Stat(filepath.Join(s.ChartDir, "Chart.yaml")); err != nil {
						t.Errorf("%s: %v", s.Name, err)
					}
				default:
					if s.Chart.Repository == "" || s.Chart.Version == "" {
						t.Errorf("%s: remote chart not pinned: %+v", s.Name, s.Chart)
					}
				}
			}
			if !strings.Contains(p.String(), "skipped") && len(tc.wantActive) != len(tc.wantOrder) {
				t.Errorf("the printed plan does not show what is skipped:\n%s", p)
			}
		})
	}
}

func get(t *testing.T, v map[string]any, path ...string) any {
	t.Helper()
	var cur any = v
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: not a map at %q", strings.Join(path, "."), k)
		}
		cur = m[k]
	}
	return cur
}

func TestPlanDeployTimeValues(t *testing.T) {
	root := repoRoot(t)
	p, err := BuildPlan(root, awsInputs("prod", 3))
	if err != nil {
		t.Fatal(err)
	}
	step := func(name string) Step {
		s, ok := p.Step(name)
		if !ok {
			t.Fatalf("no step %s", name)
		}
		return s
	}
	reg := "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
	for _, tc := range []struct {
		release string
		path    []string
		want    any
	}{
		{"aws-load-balancer-controller", []string{"clusterName"}, "orders-prod"},
		{"aws-load-balancer-controller", []string{"region"}, "eu-central-1"},
		{"aws-load-balancer-controller", []string{"vpcId"}, "vpc-0123"},
		// Pod Identity, not IRSA: an eks.amazonaws.com/role-arn annotation would make the
		// controller try web identity against an IAM OIDC provider the platform does not have.
		{"aws-load-balancer-controller", []string{"serviceAccount", "annotations"}, nil},
		{"aws-load-balancer-controller", []string{"serviceAccount", "name"}, "aws-load-balancer-controller"},
		{"aws-load-balancer-controller", []string{"replicaCount"}, float64(2)}, // static, from charts/addons.yaml
		{"edge", []string{"aws", "subnets"}, []any{"subnet-0a1b2c3d4e5f60700", "subnet-0a1b2c3d4e5f60701", "subnet-0a1b2c3d4e5f60702"}},
		{"edge", []string{"aws", "eipAllocations"}, []any{"eipalloc-0f1e2d3c4b5a69780", "eipalloc-0f1e2d3c4b5a69781", "eipalloc-0f1e2d3c4b5a69782"}},
		{"edge", []string{"envoyProxy", "autoscaling", "minReplicas"}, float64(3)}, // from environments/prod
		{"orders", []string{"imageRegistry"}, reg},
		{"orders", []string{"services", "service1", "image", "repository"}, "orders-prod/service1"},
		{"orders", []string{"services", "service1", "image", "digest"}, digest1},
		{"orders", []string{"services", "service2", "image", "digest"}, digest2},
		{"mongodb", []string{"image", "registry"}, reg},
		{"mongodb", []string{"image", "repository"}, "orders-prod/mirror/mongodb"},
		{"mongodb", []string{"image", "tag"}, "8.0.13-debian-12-r0"},
		{"mongodb", []string{"metrics", "image", "registry"}, reg},
		{"mongodb", []string{"metrics", "image", "repository"}, "orders-prod/mirror/mongodb-exporter"},
		{"backup", []string{"image", "registry"}, reg},
		{"backup", []string{"image", "repository"}, "orders-prod/backup"},
		{"backup", []string{"image", "digest"}, digest3},
		{"backup", []string{"s3", "bucket"}, "orders-prod-mongodb-backups-123456789012-eu-central-1"},
		{"backup", []string{"s3", "prefix"}, "prod"}, // from environments/prod
		{"backup", []string{"aws", "region"}, "eu-central-1"},
		{"cluster", []string{"storageClass", "reclaimPolicy"}, "Retain"}, // from environments/prod
		// No domain in the outputs: no TLS listener, routes on the HTTP listener for any host.
		{"edge", []string{"tls", "certificateArn"}, ""},
		{"edge", []string{"hostname"}, ""},
		{"orders", []string{"gateway"}, nil},
	} {
		t.Run(tc.release+"/"+strings.Join(tc.path, "."), func(t *testing.T) {
			if got := get(t, step(tc.release).Values, tc.path...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
	if p.Mongo.ReplicaSet != "rs0" || p.Mongo.Members != 3 {
		t.Errorf("prod MongoDB topology %+v, want replica set rs0 of 3", p.Mongo)
	}
}

// The deploy-time values must be what the charts accept: dev and prod plans render.
func TestPlansRender(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		env string
		azs int
	}{{"dev", 2}, {"prod", 3}, {"local", 0}} {
		t.Run(tc.env, func(t *testing.T) {
			in := awsInputs(tc.env, tc.azs)
			if tc.env == "local" {
				in = Inputs{Env: "local", Images: map[string]Image{"service1": {Tag: "abc"}, "service2": {Tag: "abc"}}}
			}
			p, err := BuildPlan(root, in)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Steps {
				if s.Kind != KindLocal {
					continue
				}
				ch, err := loader.Load(s.ChartDir)
				if err != nil {
					t.Fatal(err)
				}
				rel, err := renderChart(ch, s.Name, s.Namespace, s.Values)
				if err != nil {
					t.Errorf("%s does not render: %v", s.Name, err)
					continue
				}
				if s.Name == "orders" && tc.env == "prod" && !strings.Contains(rel.Manifest, "image: \"123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-prod/service1@"+digest1+"\"") {
					t.Errorf("prod orders does not pull service1 by digest from ECR")
				}
			}
		})
	}
}

func TestPlanErrors(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name string
		in   Inputs
		want []string
	}{
		{"unknown environment", Inputs{Env: "staging"}, []string{`unknown environment "staging" (known: dev, local, prod; an environment is a folder under environments/)`}},
		{"bad digest", Inputs{Env: "local", Images: map[string]Image{"service1": {Digest: "sha256:1234"}}}, []string{`image digest of service1: "sha256:1234"`}},
		{"latest", Inputs{Env: "local", Images: map[string]Image{"service2": {Tag: "latest"}}}, []string{"never \"latest\""}},
		{"unknown service", Inputs{Env: "local", Images: map[string]Image{"service3": {Tag: "abc"}}}, []string{`unknown service "service3"`}},
		{"unknown skip", Inputs{Env: "local", Skip: []string{"mongo"}}, []string{"cannot skip unknown release(s) mongo", "releases: "}},
		{"extra values for a release not deployed", Inputs{Env: "local", ExtraValues: map[string]map[string]any{"kube-prometheus-stack": {}}}, []string{`extra values for release "kube-prometheus-stack"`}},
		{"dev add-ons without Terraform outputs", Inputs{Env: "dev"}, []string{"add-on aws-load-balancer-controller needs the Terraform outputs"}},
		{"unknown image", Inputs{Env: "local", Images: map[string]Image{"backupp": {Tag: "abc"}}}, []string{`unknown service "backupp"`, "optional images: backup"}},
		{"backup image outside the ECR registry", func() Inputs {
			in := awsInputs("dev", 2)
			in.Images[BackupImage] = Image{Repository: "example.com/backup", Tag: "abc"}
			return in
		}(), []string{`image of backup: repository "example.com/backup" is not in the environment's ECR registry`}},
		{"no backup repository in the outputs", func() Inputs {
			in := awsInputs("dev", 2)
			delete(in.Outputs.ECRRepositoryURLs, "backup")
			return in
		}(), []string{`image of backup: no ECR repository "backup"`}},
		{"repository missing from outputs", func() Inputs {
			in := awsInputs("dev", 2)
			delete(in.Outputs.ECRRepositoryURLs, "mirror/mongodb")
			return in
		}(), []string{`no ECR repository "mirror/mongodb"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildPlan(root, tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	var ue *UnknownEnvironmentError
	if _, err := BuildPlan(root, Inputs{Env: "nope"}); !errors.As(err, &ue) || strings.Contains(err.Error(), "\n") {
		t.Errorf("an unknown environment must be a one-line *UnknownEnvironmentError, got %v", err)
	}
}

func TestReadAddons(t *testing.T) {
	root := repoRoot(t)
	if _, err := ReadAddons(filepath.Join(root, "charts", "addons.yaml")); err != nil {
		t.Fatalf("charts/addons.yaml: %v", err)
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unpinned", "addons:\n- {name: a, namespace: n, environments: [dev], timeout: 1m, chart: {repository: https://x, name: a}}\n", "pin every chart"},
		{"no chart name", "addons:\n- {name: a, namespace: n, environments: [dev], timeout: 1m, chart: {repository: https://x, version: 1.0.0}}\n", "chart.name is required"},
		{"bad timeout", "addons:\n- {name: a, namespace: n, environments: [dev], timeout: soon, chart: {repository: oci://x/a, version: 1.0.0}}\n", "timeout"},
		{"duplicate", "addons:\n- {name: a, namespace: n, environments: [dev], timeout: 1m, chart: {repository: oci://x/a, version: 1}}\n- {name: a, namespace: n, environments: [dev], timeout: 1m, chart: {repository: oci://x/a, version: 1}}\n", "duplicate"},
		{"unknown field", "addons:\n- {name: a, namespce: n}\n", "namespce"},
		{"no environments", "addons:\n- {name: a, namespace: n, timeout: 1m, chart: {repository: oci://x/a, version: 1}}\n", "set allAWS: true or list environments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "addons.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadAddons(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestMongoURL(t *testing.T) {
	password := "p@ss:w/rd?&%#"
	for _, tc := range []struct {
		name string
		top  MongoTopology
		want string
	}{
		{"standalone", MongoTopology{Namespace: "mongodb", Members: 1, User: "orders", Database: "DevOpsAssignment"},
			"@mongodb.mongodb.svc.cluster.local:27017/DevOpsAssignment?authSource=DevOpsAssignment"},
		{"replica set", MongoTopology{Namespace: "mongodb", ReplicaSet: "rs0", Members: 3, User: "orders", Database: "DevOpsAssignment"},
			"@mongodb-0.mongodb-headless.mongodb.svc.cluster.local:27017,mongodb-1.mongodb-headless.mongodb.svc.cluster.local:27017,mongodb-2.mongodb-headless.mongodb.svc.cluster.local:27017/DevOpsAssignment?replicaSet=rs0&authSource=DevOpsAssignment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.top.URL(password)
			if !strings.HasPrefix(u, "mongodb://orders:") || !strings.HasSuffix(u, tc.want) {
				t.Errorf("URL shape wrong: ...%s", u[strings.Index(u, "@"):])
			}
			// The password survives URL encoding.
			userinfo := strings.TrimPrefix(u[:strings.LastIndex(u, "@")], "mongodb://")
			parsed, err := url.Parse("mongodb://" + userinfo + "@host/")
			if err != nil {
				t.Fatal(err)
			}
			if pw, _ := parsed.User.Password(); pw != password || parsed.User.Username() != "orders" {
				t.Errorf("password not round-tripped through the URL")
			}
		})
	}
	for _, tc := range []struct {
		env  string
		want MongoTopology
	}{
		{"local", MongoTopology{Namespace: "mongodb", Members: 1, User: "orders", Database: "DevOpsAssignment"}},
		{"prod", MongoTopology{Namespace: "mongodb", ReplicaSet: "rs0", Members: 3, User: "orders", Database: "DevOpsAssignment"}},
	} {
		in := Inputs{Env: tc.env}
		if tc.env == "prod" {
			in = awsInputs("prod", 3)
		}
		p, err := BuildPlan(repoRoot(t), in)
		if err != nil {
			t.Fatal(err)
		}
		if p.Mongo != tc.want {
			t.Errorf("%s: topology %+v, want %+v", tc.env, p.Mongo, tc.want)
		}
	}
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	n := 0
	file := func(body string) string {
		n++
		p := filepath.Join(dir, fmt.Sprintf("creds-%d.yaml", n))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name    string
		file    string
		env     map[string]string
		want    Credentials
		wantErr string
	}{
		{"from the environment", "", map[string]string{EnvRootPassword: "r", EnvAppPassword: "a"}, Credentials{RootPassword: "r", AppPassword: "a"}, ""},
		{"none (local generates)", "", nil, Credentials{}, ""},
		{"half", "", map[string]string{EnvAppPassword: "a"}, Credentials{}, "both the root and the application password"},
		{"from a file", file("rootPassword: r1\nappPassword: a1\n"), map[string]string{EnvRootPassword: "ignored", EnvAppPassword: "ignored"}, Credentials{RootPassword: "r1", AppPassword: "a1"}, ""},
		{"file with a typo", file("rootPasword: s3cret-value\n"), nil, Credentials{}, "not a map with rootPassword and appPassword"},
		{"missing file", filepath.Join(dir, "none.yaml"), nil, Credentials{}, "credentials file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadCredentials(tc.file, env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret-value") {
					t.Errorf("the error repeats the file's content")
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %v %v", got.RootPassword+"/"+got.AppPassword, err)
			}
		})
	}
	if s := (Credentials{RootPassword: "x1", AppPassword: "y2"}); strings.Contains(s.String(), "x1") || strings.Contains(s.GoString(), "y2") {
		t.Error("Credentials print their passwords")
	}
}

func TestParseImage(t *testing.T) {
	ecr := "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/service1"
	for _, tc := range []struct {
		ref     string
		want    Image
		wantErr string
	}{
		{ref: digest1, want: Image{Digest: digest1}},
		{ref: "3f2c9d1", want: Image{Tag: "3f2c9d1"}},
		{ref: ecr + "@" + digest1, want: Image{Repository: ecr, Digest: digest1}},
		{ref: ecr + ":3f2c9d1", want: Image{Repository: ecr, Tag: "3f2c9d1"}},
		{ref: ecr + ":3f2c9d1@" + digest1, want: Image{Repository: ecr, Tag: "3f2c9d1", Digest: digest1}},
		{ref: "localhost:5000/orders/service1:abc", want: Image{Repository: "localhost:5000/orders/service1", Tag: "abc"}},
		{ref: "orders/service1", want: Image{Repository: "orders/service1"}},
		{ref: "@" + digest1, wantErr: "no repository"},
		{ref: "", wantErr: "empty"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			got, err := ParseImage(tc.ref)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v %v, want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestImageRepositories(t *testing.T) {
	root := repoRoot(t)
	ecr := "123456789012.dkr.ecr.eu-central-1.amazonaws.com"
	for _, tc := range []struct {
		name         string
		in           Inputs
		wantRegistry any
		wantRepo     any
		wantErr      string
	}{
		{"full ECR references", func() Inputs {
			in := awsInputs("dev", 2)
			in.Images = map[string]Image{"service1": {Repository: ecr + "/orders-dev/service1", Digest: digest1}, "service2": {Repository: ecr + "/orders-dev/service2", Digest: digest2}}
			return in
		}(), ecr, "orders-dev/service1", ""},
		{"a reference outside the environment's registry", func() Inputs {
			in := awsInputs("dev", 2)
			in.Images = map[string]Image{"service1": {Repository: "example.com/orders-dev/service1", Digest: digest1}}
			return in
		}(), nil, nil, `is not in the environment's ECR registry`},
		{"local image names", Inputs{Env: "local", Images: map[string]Image{"service1": {Repository: "orders/service1", Tag: "abc"}, "service2": {Tag: "abc"}}}, nil, "orders/service1", ""},
		{"a local registry", Inputs{Env: "local", Images: map[string]Image{"service1": {Repository: "localhost:5000/o/service1", Tag: "abc"}, "service2": {Repository: "localhost:5000/o/service2", Tag: "abc"}}}, "localhost:5000", "o/service1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := BuildPlan(root, tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, _ := p.Step("orders")
			if got := s.Values["imageRegistry"]; got != tc.wantRegistry {
				t.Errorf("imageRegistry %#v, want %#v", got, tc.wantRegistry)
			}
			if got := get(t, s.Values, "services", "service1", "image", "repository"); got != tc.wantRepo {
				t.Errorf("repository %#v, want %#v", got, tc.wantRepo)
			}
		})
	}
}

func TestProdAppliesDigestsOnly(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name    string
		images  map[string]Image
		wantErr string
	}{
		{"no images (uninstall, diff)", nil, "environment prod deploys images by digest: no digest for service1, service2"},
		{"tags", map[string]Image{"service1": {Tag: "abc"}, "service2": {Digest: digest2}}, "no digest for service1"},
		{"digests, no backup image", map[string]Image{"service1": {Digest: digest1}, "service2": {Digest: digest2}}, ""},
		{"digests", map[string]Image{"service1": {Digest: digest1}, "service2": {Digest: digest2}, BackupImage: {Digest: digest3}}, ""},
		{"a backup image by tag", map[string]Image{"service1": {Digest: digest1}, "service2": {Digest: digest2}, BackupImage: {Tag: "abc"}}, "no digest for backup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := awsInputs("prod", 3)
			in.Images = tc.images
			p, err := BuildPlan(root, in)
			if err != nil {
				t.Fatalf("a prod plan without digests must still build (for diff and uninstall): %v", err)
			}
			err = p.CheckApply()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckApply: %v, want %q", err, tc.wantErr)
			}
			// Deploy refuses before it even looks for a cluster.
			if _, err := (&Deployer{}).Deploy(context.Background(), p, Credentials{}); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Deploy: %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// With a domain in the Terraform outputs the edge terminates TLS with its
// certificate, the routes answer only that name on the HTTPS listener, and
// external-dns runs; the add-ons get the cluster's name and region.
func TestPlanDomainAndAddonValues(t *testing.T) {
	root := repoRoot(t)
	in := awsInputs("dev", 2)
	in.Outputs.DomainName = "orders.example.com"
	in.Outputs.EdgeCertificateARN = "arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	in.Outputs.Route53ZoneID = "Z0123456789"
	p, err := BuildPlan(root, in)
	if err != nil {
		t.Fatal(err)
	}
	edge, _ := p.Step("edge")
	orders, _ := p.Step("orders")
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"edge tls.certificateArn", get(t, edge.Values, "tls", "certificateArn"), "arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
		{"edge hostname", get(t, edge.Values, "hostname"), "orders.example.com"},
		{"orders gateway.sectionName", get(t, orders.Values, "gateway", "sectionName"), "https"},
		{"orders gateway.hostnames", get(t, orders.Values, "gateway", "hostnames"), []any{"orders.example.com"}},
		{"orders gateway.name (chart default kept)", get(t, orders.Values, "gateway", "name"), nil},
		{"orders helm test through the https listener", get(t, orders.Values, "tests", "gatewayURL"), OrdersTestGatewayURL + ":443"},
		{"orders helm test Host", get(t, orders.Values, "tests", "host"), "orders.example.com"},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
	// The charts accept them.
	for _, s := range []Step{edge, orders} {
		ch, err := loader.Load(s.ChartDir)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := renderChart(ch, s.Name, s.Namespace, s.Values)
		if err != nil {
			t.Errorf("%s with a domain does not render: %v", s.Name, err)
			continue
		}
		if !strings.Contains(rel.Manifest, "orders.example.com") {
			t.Errorf("%s with a domain: the host name is not in the manifest", s.Name)
		}
	}

	for _, tc := range []struct {
		name, addon string
		domain      bool
		skipAddons  bool
		noOutputs   bool
		noMirror    bool
		want        map[string]any
		wantSkip    string
		wantErr     string
	}{
		{name: "cluster-autoscaler", addon: "cluster-autoscaler",
			want: map[string]any{"autoDiscovery": map[string]any{"clusterName": "orders-dev"}, "awsRegion": "eu-central-1",
				"image": map[string]any{"repository": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/cluster-autoscaler"}}},
		{name: "external-dns with a domain", addon: "external-dns", domain: true,
			want: map[string]any{"domainFilters": []any{"orders.example.com"}, "txtOwnerId": "orders-dev",
				"image": map[string]any{"repository": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/external-dns"}}},
		{name: "external-dns without a domain", addon: "external-dns", wantSkip: "no domain_name in Terraform outputs",
			want: map[string]any{"image": map[string]any{"repository": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/external-dns"}}},
		{name: "aws-load-balancer-controller", addon: "aws-load-balancer-controller",
			want: map[string]any{"clusterName": "orders-dev", "region": "eu-central-1", "vpcId": "vpc-0123",
				"image": map[string]any{"repository": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/aws-load-balancer-controller"}}},
		{name: "an add-on with only its image from the mirror", addon: "metrics-server",
			want: map[string]any{"image": map[string]any{"repository": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/metrics-server"}}},
		{name: "an add-on whose chart takes registry and repository apart", addon: "kube-prometheus-stack", noMirror: true,
			wantErr: `add-on kube-prometheus-stack: mirror of quay.io/prometheus/prometheus:v3.5.0: no ECR repository "mirror/prometheus"`},
		{name: "an add-on off AWS: the chart's own images", addon: "metrics-server", noOutputs: true, want: map[string]any{}},
		{name: "cluster-autoscaler without outputs", addon: "cluster-autoscaler", noOutputs: true, wantErr: "add-on cluster-autoscaler needs the Terraform outputs (cluster name, region) of environment dev"},
		{name: "external-dns without outputs, add-ons skipped", addon: "external-dns", noOutputs: true, skipAddons: true, want: map[string]any{}},
		{name: "envoy-gateway from the ECR mirrors, by their immutable tags", addon: "envoy-gateway",
			want: map[string]any{"global": map[string]any{"images": map[string]any{
				"envoyGateway": map[string]any{"image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/envoy-gateway:v1.9.1"},
				"envoyProxy":   map[string]any{"image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/envoy:distroless-v1.39.1"},
				"ratelimit":    map[string]any{"image": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-dev/mirror/envoy-ratelimit:8fe6ea42"},
			}}}},
		{name: "envoy-gateway off AWS: the chart's own images", addon: "envoy-gateway", noOutputs: true, want: map[string]any{}},
		{name: "envoy-gateway without its mirror repository", addon: "envoy-gateway", noMirror: true,
			wantErr: `add-on envoy-gateway: mirror of docker.io/envoyproxy/envoy:distroless-v1.39.1@sha256:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := awsInputs("dev", 2)
			in.SkipAddons = tc.skipAddons
			if tc.domain {
				in.Outputs.DomainName = "orders.example.com"
			}
			if tc.noMirror {
				delete(in.Outputs.ECRRepositoryURLs, "mirror/envoy")
				delete(in.Outputs.ECRRepositoryURLs, "mirror/prometheus")
			}
			if tc.noOutputs {
				in.Outputs = nil
			}
			got, skip, err := addonDeployValues(tc.addon, in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) || skip != tc.wantSkip {
				t.Errorf("got %#v skip %q, want %#v skip %q", got, skip, tc.want, tc.wantSkip)
			}
		})
	}
}

// scratchRoot copies the files BuildPlan reads into a scratch repository root.
func scratchRoot(t *testing.T) string {
	t.Helper()
	src, dst := repoRoot(t), t.TempDir()
	for _, dir := range []string{"environments", "charts/mongodb"} {
		err := filepath.WalkDir(filepath.Join(src, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, path)
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Add-ons of its own: what the platform's order depends on, not what
	// charts/addons.yaml holds today.
	addons := `addons:
  - {name: kube-prometheus-stack, namespace: monitoring, environments: [prod], timeout: 10m, chart: {repository: https://charts.example, name: kube-prometheus-stack, version: 1.0.0}}
  - {name: envoy-gateway, namespace: envoy-gateway-system, environments: [local, dev, prod], timeout: 5m, chart: {repository: oci://charts.example/gateway-helm, version: 1.0.0}}
`
	if err := os.WriteFile(filepath.Join(dst, "charts", "addons.yaml"), []byte(addons), 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

// The platform's releases come from charts.Releases in PlatformOrder: a release
// marked OnlyWithValues exists where its values file does; monitoring needs the
// kube-prometheus-stack add-on's CRDs; a new chart missing from PlatformOrder
// still deploys, last.
func TestPlanGenericReleases(t *testing.T) {
	root := scratchRoot(t)
	saved := charts.Releases
	t.Cleanup(func() { charts.Releases = saved })
	charts.Releases = nil
	for _, r := range saved {
		if r.Name != "monitoring" {
			charts.Releases = append(charts.Releases, r)
		}
	}
	charts.Releases = append(charts.Releases,
		charts.Release{Name: "extra", Chart: "charts/extra", Namespace: "extra", OnlyWithValues: true},
		charts.Release{Name: "monitoring", Chart: "charts/monitoring", Namespace: "monitoring", OnlyWithValues: true})
	for _, env := range []string{"dev", "prod", "local"} {
		for _, rel := range []string{"monitoring", "extra"} {
			if err := os.WriteFile(charts.ValuesFile(root, env, rel), []byte("{}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Remove(charts.ValuesFile(root, "dev", "cluster")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		in         Inputs
		wantOrder  []string
		wantActive []string
		wantSkip   map[string]string
	}{
		{
			name:       "prod: monitoring after orders, where kube-prometheus-stack runs",
			in:         awsInputs("prod", 3),
			wantOrder:  []string{"cluster", "edge", "mongodb", "db-access", "backup", "orders", "monitoring", "extra"},
			wantActive: []string{"cluster", "edge", "mongodb", "db-access", "backup", "orders", "monitoring", "extra"},
		},
		{
			name:       "dev: no cluster values, no kube-prometheus-stack",
			in:         awsInputs("dev", 2),
			wantOrder:  []string{"edge", "mongodb", "db-access", "backup", "orders", "monitoring", "extra"},
			wantActive: []string{"edge", "mongodb", "db-access", "backup", "orders", "extra"},
			wantSkip:   map[string]string{"monitoring": "needs add-on kube-prometheus-stack (its CRDs), which environment dev does not install"},
		},
		{
			name:       "local: no backup values; skipping monitoring by name works",
			in:         Inputs{Env: "local", Skip: []string{"monitoring"}},
			wantOrder:  []string{"edge", "mongodb", "orders", "monitoring", "extra"},
			wantActive: []string{"edge", "mongodb", "orders", "extra"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := BuildPlan(root, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			var order, active []string
			for _, s := range p.Steps {
				if s.Kind == KindAddon {
					continue
				}
				order = append(order, s.Name)
				if s.Skip == "" {
					active = append(active, s.Name)
				}
				if want, ok := tc.wantSkip[s.Name]; ok && s.Skip != want {
					t.Errorf("%s skipped %q, want %q", s.Name, s.Skip, want)
				}
				if s.Kind == KindLocal && s.ChartDir != filepath.Join(root, "charts", s.Name) {
					t.Errorf("%s: chart dir %s", s.Name, s.ChartDir)
				}
			}
			if !reflect.DeepEqual(order, tc.wantOrder) {
				t.Errorf("order %v, want %v", order, tc.wantOrder)
			}
			if !reflect.DeepEqual(active, tc.wantActive) {
				t.Errorf("active %v, want %v", active, tc.wantActive)
			}
		})
	}
}

// TestAddonScopeAndEnvironmentValues: an allAWS add-on reaches an environment folder
// added by copying (no edit of charts/addons.yaml), environments/<env>/values/<add-on>.yaml
// overrides its values there only, and a broken override or an add-on without a scope
// is refused by name.
func TestAddonScopeAndEnvironmentValues(t *testing.T) {
	root := scratchRoot(t)
	addons := `addons:
  - {name: metrics, namespace: kube-system, allAWS: true, timeout: 1m, chart: {repository: https://charts.example, name: metrics, version: 1.0.0}, values: {replicas: 1, storage: {size: 10Gi, class: gp3}}}
  - {name: only-local, namespace: tools, environments: [local], timeout: 1m, chart: {repository: https://charts.example, name: tools, version: 1.0.0}}
`
	write := func(rel, text string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("charts/addons.yaml", addons)
	// A new environment made by copying dev's folder, as docs/environments.md says.
	err := filepath.WalkDir(filepath.Join(root, "environments", "dev"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(root, "environments", "dev"), path)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b = []byte(strings.ReplaceAll(string(b), `"dev"`, `"staging"`))
		b = []byte(strings.ReplaceAll(string(b), "platform/dev/", "platform/staging/"))
		write(filepath.Join("environments", "staging", rel), string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	write("environments/prod/values/metrics.yaml", "storage: {size: 50Gi}\n")

	addonsIn := func(env string) map[string]map[string]any {
		t.Helper()
		p, err := BuildPlan(root, awsOrLocal(env))
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		out := map[string]map[string]any{}
		for _, s := range p.Steps {
			if s.Kind == KindAddon {
				out[s.Name] = s.Values
			}
		}
		return out
	}
	for _, tc := range []struct {
		env  string
		want map[string]map[string]any
	}{
		{"staging", map[string]map[string]any{"metrics": {"replicas": float64(1), "storage": map[string]any{"size": "10Gi", "class": "gp3"}}}},
		{"dev", map[string]map[string]any{"metrics": {"replicas": float64(1), "storage": map[string]any{"size": "10Gi", "class": "gp3"}}}},
		{"prod", map[string]map[string]any{"metrics": {"replicas": float64(1), "storage": map[string]any{"size": "50Gi", "class": "gp3"}}}},
		{"local", map[string]map[string]any{"only-local": nil}},
	} {
		got := addonsIn(tc.env)
		if len(got) != len(tc.want) {
			t.Errorf("%s: add-ons %v, want %v", tc.env, got, tc.want)
			continue
		}
		for name, want := range tc.want {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: add-on %s missing (got %v)", tc.env, name, got)
				continue
			}
			if want != nil && fmt.Sprint(asJSONValue(g)) != fmt.Sprint(asJSONValue(want)) {
				t.Errorf("%s: %s values %v, want %v", tc.env, name, g, want)
			}
		}
	}

	write("environments/prod/values/metrics.yaml", "storage: [unclosed\n")
	if _, err := BuildPlan(root, awsOrLocal("prod")); err == nil || !strings.Contains(err.Error(), "values of add-on metrics for environment prod") {
		t.Errorf("broken add-on values: err = %v, want one naming the add-on and the environment", err)
	}

	write("charts/addons.yaml", "addons:\n  - {name: nowhere, namespace: x, timeout: 1m, chart: {repository: https://charts.example, name: x, version: 1.0.0}}\n")
	if _, err := ReadAddons(filepath.Join(root, "charts", "addons.yaml")); err == nil || !strings.Contains(err.Error(), "(nowhere): set allAWS: true or list environments") {
		t.Errorf("add-on without scope: err = %v", err)
	}
}

// awsOrLocal are the inputs of an AWS environment, or of local.
func awsOrLocal(env string) Inputs {
	if env == "local" {
		return Inputs{Env: env}
	}
	return awsInputs(env, 2)
}

// asJSONValue makes nested maps print the same whatever their Go map type.
func asJSONValue(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// The envoy-gateway add-on installs the Envoy Gateway release whose images are mirrored.
func TestEnvoyGatewayAddonMatchesMirroredImages(t *testing.T) {
	addons, err := ReadAddons(filepath.Join(repoRoot(t), "charts", "addons.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addons {
		if a.Name == "envoy-gateway" {
			if a.Chart.Version != charts.EnvoyGatewayVersion {
				t.Errorf("charts/addons.yaml installs envoy-gateway %s, the mirrored images are of %s (internal/charts/mirrors.go)", a.Chart.Version, charts.EnvoyGatewayVersion)
			}
			return
		}
	}
	t.Error("charts/addons.yaml has no envoy-gateway add-on")
}

// The helm test follows the edge's TLS port, and the Go default is the chart's.
func TestHelmTestGatewayURL(t *testing.T) {
	in := awsInputs("prod", 3)
	in.Outputs.DomainName = "orders.example.com"
	in.Outputs.EdgeCertificateARN = "arn:aws:acm:eu-central-1:123456789012:certificate/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	in.ExtraValues = map[string]map[string]any{"edge": {"tls": map[string]any{"port": 8443}}}
	p, err := BuildPlan(repoRoot(t), in)
	if err != nil {
		t.Fatal(err)
	}
	orders, _ := p.Step("orders")
	if got := get(t, orders.Values, "tests", "gatewayURL"); got != OrdersTestGatewayURL+":8443" {
		t.Errorf("tests.gatewayURL = %v, want the https listener's port 8443", got)
	}
	in.ExtraValues = map[string]map[string]any{"edge": {"tls": map[string]any{"port": "many"}}}
	if _, err := BuildPlan(repoRoot(t), in); err == nil || !strings.Contains(err.Error(), "tls.port") {
		t.Errorf("a non-numeric tls.port: err = %v", err)
	}

	ch, err := loader.Load(filepath.Join(repoRoot(t), "charts", "orders"))
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, ch.Values, "tests", "gatewayURL"); got != OrdersTestGatewayURL {
		t.Errorf("charts/orders tests.gatewayURL = %v, OrdersTestGatewayURL = %s", got, OrdersTestGatewayURL)
	}
}

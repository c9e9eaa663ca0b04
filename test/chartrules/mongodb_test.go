package chartrules

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/orders-platform/orders/internal/tfvars"
)

var regenMongoDBKeys = flag.String("mongodb-chart-values", "",
	"path to the upstream Bitnami mongodb chart's values.yaml: rewrite charts/mongodb/values-keys-<version>.tsv from it")

func mongoDBFiles(t *testing.T) (root string, up *MongoDBUpstream, keys ChartKeys) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	up, err = ReadMongoDBUpstream(filepath.Join(root, "charts/mongodb/upstream.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(root, "charts/mongodb", "values-keys-"+up.Chart.Version+".tsv")
	if *regenMongoDBKeys != "" {
		vals, err := ReadValues(*regenMongoDBKeys)
		if err != nil {
			t.Fatal(err)
		}
		derived := DeriveChartKeys(vals)
		paths := make([]string, 0, len(derived))
		for p := range derived {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		var b strings.Builder
		fmt.Fprintf(&b, "# Key paths of the Bitnami mongodb chart %s values.yaml, with the type of each default\n", up.Chart.Version)
		b.WriteString("# (map: fixed keys listed below it; freemap: any keys; list: any items). Derived from the\n")
		b.WriteString("# chart's values.yaml; regenerate when upgrading the chart (see charts/README.md).\n")
		for _, p := range paths {
			fmt.Fprintf(&b, "%s\t%s\n", p, derived[p])
		}
		if err := os.WriteFile(keyFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keys, err = ReadChartKeys(keyFile)
	if err != nil {
		t.Fatalf("%v (the key list of the pinned chart version must exist)", err)
	}
	if len(keys) < 100 {
		t.Fatalf("%s lists only %d keys", keyFile, len(keys))
	}
	return root, up, keys
}

// CheckMongoDBValues applies the platform's rules to the Bitnami chart values of an environment.
func checkMongoDBValues(env string, v map[string]any, up *MongoDBUpstream) []string {
	var p []string
	want := func(path string, cond bool, format string, args ...any) {
		if !cond {
			p = append(p, path+": "+fmt.Sprintf(format, args...))
		}
	}
	eq := func(path string, expected any) {
		got := get(v, path)
		want(path, fmt.Sprint(got) == fmt.Sprint(expected), "%v, want %v", got, expected)
	}
	eq("auth.enabled", true)
	want("auth.existingSecret", get(v, "auth.existingSecret") != nil && get(v, "auth.existingSecret") != "", "must name the Secret the deployer creates")
	for _, secret := range []string{"auth.rootPassword", "auth.passwords", "auth.password", "auth.replicaSetKey", "metrics.password"} {
		want(secret, get(v, secret) == nil, "no password in values files")
	}
	users, _ := get(v, "auth.usernames").([]any)
	dbs, _ := get(v, "auth.databases").([]any)
	want("auth.usernames", len(users) == 1, "want exactly the application user, got %v", users)
	want("auth.databases", len(dbs) == len(users) && len(dbs) > 0, "one database per user, got %v", dbs)
	for i, d := range dbs {
		want(fmt.Sprintf("auth.databases[%d]", i), d == "DevOpsAssignment", "%v: the application user is limited to DevOpsAssignment", d)
	}
	eq("global.security.allowInsecureImages", true)
	// Prometheus scrapes the exporter through the ServiceMonitor: with a NetworkPolicy
	// on, the monitoring namespace must be admitted on the exporter's port (9216).
	if get(v, "metrics.serviceMonitor.enabled") == true && get(v, "networkPolicy.enabled") == true {
		want("networkPolicy.extraIngress", admitsMonitoring(get(v, "networkPolicy.extraIngress"), 9216),
			"the ServiceMonitor is on, but no rule admits namespace monitoring on port 9216 (Prometheus could not scrape the exporter)")
	}

	images, ecrRepos := map[string]string{}, map[string]string{}
	for _, img := range up.Images {
		images[img.Name] = img.Repository + ":" + img.Tag
		ecrRepos[img.Name] = img.ECRRepository
	}
	checkImage := func(prefix, name string) {
		repo, _ := get(v, prefix+".repository").(string)
		tag, _ := get(v, prefix+".tag").(string)
		want(prefix+".tag", tag != "" && tag != "latest", "%q is not pinned", tag)
		wantRepo, wantTag, _ := strings.Cut(images[name], ":")
		want(prefix+".tag", tag == wantTag, "%q is not the pinned tag %q of charts/mongodb/upstream.yaml", tag, wantTag)
		want(prefix+".repository", repo == wantRepo || strings.HasSuffix(repo, "/"+ecrRepos[name]), "%q is neither %s nor its ECR mirror", repo, wantRepo)
	}
	checkImage("image", "mongodb")

	eq("resourcesPreset", "none")
	for _, r := range []string{"resources.requests.cpu", "resources.requests.memory", "resources.limits.memory"} {
		want(r, get(v, r) != nil, "missing")
	}
	eq("podSecurityContext.enabled", true)
	eq("containerSecurityContext.enabled", true)
	eq("containerSecurityContext.runAsNonRoot", true)
	eq("containerSecurityContext.readOnlyRootFilesystem", true)
	eq("containerSecurityContext.allowPrivilegeEscalation", false)
	eq("containerSecurityContext.privileged", false)
	eq("containerSecurityContext.seccompProfile.type", "RuntimeDefault")
	want("containerSecurityContext.capabilities.drop", fmt.Sprint(get(v, "containerSecurityContext.capabilities.drop")) == "[ALL]", "must be [ALL]")
	eq("automountServiceAccountToken", false)
	eq("networkPolicy.enabled", true)
	eq("networkPolicy.allowExternal", false)
	eq("persistence.enabled", true)

	if env != "local" {
		eq("persistence.storageClass", "gp3")
		eq("metrics.enabled", true)
		checkImage("metrics.image", "mongodb-exporter")
		for _, r := range []string{"metrics.resources.requests.cpu", "metrics.resources.requests.memory", "metrics.resources.limits.memory"} {
			want(r, get(v, r) != nil, "missing")
		}
	}
	if strings.HasPrefix(env, "prod") {
		eq("architecture", "replicaset")
		n, _ := get(v, "replicaCount").(float64)
		want("replicaCount", n >= 3, "%v: a replica set across three zones needs 3 members", get(v, "replicaCount"))
		eq("arbiter.enabled", false)
		eq("pdb.create", true)
		eq("metrics.serviceMonitor.enabled", true)
		zone := false
		tsc, _ := get(v, "topologySpreadConstraints").([]any)
		for _, c := range tsc {
			cm, _ := c.(map[string]any)
			if cm["topologyKey"] == "topology.kubernetes.io/zone" && cm["whenUnsatisfiable"] == "DoNotSchedule" {
				zone = true
			}
		}
		want("topologySpreadConstraints", zone, "no DoNotSchedule spread across topology.kubernetes.io/zone")
	}
	sort.Strings(p)
	return p
}

func TestMongoDBValues(t *testing.T) {
	root, up, keys := mongoDBFiles(t)
	if up.Chart.Name != "mongodb" || !strings.HasPrefix(up.Chart.Repository, "oci://") || up.Chart.Version == "" {
		t.Errorf("charts/mongodb/upstream.yaml: chart %+v is not a pinned OCI chart", up.Chart)
	}
	// What the deployer adds for AWS environments: each image from its ECR mirror.
	ecr := map[string]any{}
	for _, img := range up.Images {
		if !strings.HasSuffix(img.Source, "/"+img.Repository+":"+img.Tag) || img.Tag == "latest" {
			t.Errorf("charts/mongodb/upstream.yaml: image %s: source %s does not match %s:%s", img.Name, img.Source, img.Repository, img.Tag)
		}
		if img.ECRRepository == "" {
			t.Errorf("charts/mongodb/upstream.yaml: image %s has no ecrRepository", img.Name)
		}
		for _, leaf := range []string{"registry", "repository", "tag"} {
			if keys[img.ValuesPath+"."+leaf] != "string" {
				t.Errorf("charts/mongodb/upstream.yaml: image %s: the chart has no string value %s.%s", img.Name, img.ValuesPath, leaf)
			}
		}
		overlay := map[string]any{
			"registry":   "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
			"repository": "orders-dev/" + img.ECRRepository,
		}
		parts := strings.Split(img.ValuesPath, ".")
		for i := len(parts) - 1; i >= 0; i-- {
			overlay = map[string]any{parts[i]: overlay}
		}
		ecr = MergeValues(ecr, overlay)
	}
	envs, err := Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		t.Run(env, func(t *testing.T) {
			v, err := ReadValues(ValuesFile(root, env, "mongodb"))
			if err != nil {
				t.Fatal(err)
			}
			if env != "local" {
				v = MergeValues(v, ecr)
			}
			for _, p := range keys.CheckKeys(v) {
				t.Errorf("environments/%s/values/mongodb.yaml: %s", env, p)
			}
			for _, p := range checkMongoDBValues(env, v, up) {
				t.Errorf("environments/%s/values/mongodb.yaml: %s", env, p)
			}
		})
	}
}

// TestMongoDBValuesCatchMistakes proves the MongoDB checks fail, naming the key.
func TestMongoDBValuesCatchMistakes(t *testing.T) {
	root, up, keys := mongoDBFiles(t)
	v, err := ReadValues(ValuesFile(root, "prod", "mongodb"))
	if err != nil {
		t.Fatal(err)
	}
	bad := MergeValues(v, map[string]any{
		"persistance":   map[string]any{"size": "1Gi"},
		"auth":          map[string]any{"enabled": "yes", "databases": []any{"admin"}, "rootPassword": "hunter2"},
		"metrics":       map[string]any{"enabled": map[string]any{"x": 1}},
		"image":         map[string]any{"tag": "latest"},
		"replicaCount":  1,
		"networkPolicy": map[string]any{"extraIngress": []any{map[string]any{"ports": []any{map[string]any{"port": 27017}}}}},
	})
	got := strings.Join(append(keys.CheckKeys(bad), checkMongoDBValues("prod", bad, up)...), "\n")
	for _, want := range []string{
		"persistance: no such key",
		"auth.enabled: the chart expects a bool, got string",
		"metrics.enabled: the chart expects a bool, got map",
		"auth.databases[0]: admin",
		"auth.rootPassword: no password in values files",
		`image.tag: "latest" is not pinned`,
		"replicaCount: 1",
		"networkPolicy.extraIngress: the ServiceMonitor is on, but no rule admits namespace monitoring on port 9216",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want a problem containing %q, got:\n%s", want, got)
		}
	}
}

// TestMirrorRepositoriesExistInTerraform: every image the pipeline mirrors for
// MongoDB needs its ECR repository, which terraform/platform creates from each AWS
// environment's ecr_repositories (its tfvars, else the default).
func TestMirrorRepositoriesExistInTerraform(t *testing.T) {
	root, up, _ := mongoDBFiles(t)
	envs, err := Environments(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range envs {
		if _, err := os.Stat(filepath.Join(root, "environments", env, "terraform.tfvars")); err != nil {
			continue // not on AWS: no ECR
		}
		repos := environmentStrings(t, root, env, "ecr_repositories")
		for _, img := range up.Images {
			if !slices.Contains(repos, img.ECRRepository) {
				t.Errorf("charts/mongodb/upstream.yaml: image %s is mirrored to %q, which %s's ecr_repositories (%v) does not create", img.Name, img.ECRRepository, env, repos)
			}
		}
	}
}

// admitsMonitoring tells whether NetworkPolicy ingress rules admit namespace
// monitoring on port.
func admitsMonitoring(rules any, port int) bool {
	list, _ := rules.([]any)
	for _, r := range list {
		rule, _ := r.(map[string]any)
		portOK, fromOK := false, false
		ports, _ := rule["ports"].([]any)
		for _, pp := range ports {
			if m, _ := pp.(map[string]any); fmt.Sprint(m["port"]) == fmt.Sprint(port) {
				portOK = true
			}
		}
		froms, _ := rule["from"].([]any)
		for _, f := range froms {
			m, _ := f.(map[string]any)
			ns, _ := m["namespaceSelector"].(map[string]any)
			labels, _ := ns["matchLabels"].(map[string]any)
			if labels["kubernetes.io/metadata.name"] == "monitoring" {
				fromOK = true
			}
		}
		if portOK && fromOK {
			return true
		}
	}
	return false
}

// environmentStrings is a list(string) variable of terraform/platform as environment
// env sets it (its terraform.tfvars, else the default).
func environmentStrings(t *testing.T, root, env, variable string) []string {
	t.Helper()
	v, found, err := tfvars.EnvironmentValue(root, env, variable)
	if err != nil || !found || !v.CanIterateElements() {
		t.Fatalf("environment %s: no list %s in its terraform.tfvars or terraform/platform/variables.tf: %v", env, variable, err)
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return out
}

package kubeapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
)

// Pinned CRD sources. Gateway API matches the version Envoy Gateway v1.9.1 is built against.
const (
	GatewayAPIModule          = "sigs.k8s.io/gateway-api"
	GatewayAPIVersion         = "v1.6.1"
	EnvoyGatewayModule        = "github.com/envoyproxy/gateway"
	EnvoyGatewayVersion       = "v1.9.1"
	PrometheusOperatorModule  = "github.com/prometheus-operator/prometheus-operator"
	PrometheusOperatorVersion = "v0.85.0"
)

// CRDSource is a directory of CRD manifests inside a Go module version.
type CRDSource struct {
	Module, Version string
	// Dir is the directory inside the module; every *.yaml file in it is read.
	Dir string
	// Files, when set, limits the files read to these base names.
	Files []string
	// HelmGuarded marks files wrapped in a single `{{- if … }}` … `{{- end }}`
	// guard (Envoy Gateway's gateway-crds-helm chart); the guard lines are dropped
	// and any other template action is an error.
	HelmGuarded bool
}

// DefaultCRDs are the CRDs the charts in this repository use: Gateway API
// (standard channel), Envoy Gateway's policy and EnvoyProxy CRDs, and the
// Prometheus Operator's.
func DefaultCRDs() []CRDSource {
	return []CRDSource{
		{Module: GatewayAPIModule, Version: GatewayAPIVersion, Dir: "config/crd/standard"},
		{Module: EnvoyGatewayModule, Version: EnvoyGatewayVersion, Dir: "charts/gateway-crds-helm/templates/generated", HelmGuarded: true},
		{Module: PrometheusOperatorModule, Version: PrometheusOperatorVersion, Dir: "example/prometheus-operator-crd"},
	}
}

// ModuleDir returns the module cache directory of module@version, downloading it
// through the Go module proxy when it is not cached yet.
func ModuleDir(ctx context.Context, module, version string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not found: %w", err)
	}
	cmd := exec.CommandContext(ctx, gobin, "mod", "download", "-json", module+"@"+version)
	// Outside any module, so that no go.mod or go.sum is touched.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil && err == nil {
		err = jerr
	}
	if err != nil || info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s %s", module, version, err, info.Error, strings.TrimSpace(stderr.String()))
	}
	return info.Dir, nil
}

// ReadCRDs reads the CustomResourceDefinitions of a source; documents of any other kind are skipped.
func ReadCRDs(ctx context.Context, src CRDSource) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	modDir, err := ModuleDir(ctx, src.Module, src.Version)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(modDir, filepath.FromSlash(src.Dir))
	names := src.Files
	if len(names) == 0 {
		matches, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			names = append(names, filepath.Base(m))
		}
		sort.Strings(names)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.yaml in %s", dir)
	}
	var crds []*apiextensionsv1.CustomResourceDefinition
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		if src.HelmGuarded {
			if data, err = stripHelmGuard(data); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 1<<20)
		for {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := dec.Decode(&crd); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, fmt.Errorf("%s@%s %s/%s: %w", src.Module, src.Version, src.Dir, name, err)
			}
			if crd.Kind != "CustomResourceDefinition" {
				continue
			}
			crds = append(crds, &crd)
		}
	}
	return crds, nil
}

func stripHelmGuard(data []byte) ([]byte, error) {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") &&
			(strings.Contains(t, " if ") || strings.Contains(t, "end")) {
			continue
		}
		if strings.Contains(line, "{{") {
			return nil, fmt.Errorf("unexpected template action: %q", line)
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes(), sc.Err()
}

// InstallCRDs creates the CRDs of every source (existing ones are left alone)
// and waits until all are Established. It returns the names installed.
func InstallCRDs(ctx context.Context, cfg *rest.Config, srcs []CRDSource) ([]string, error) {
	client, err := apiextensionsclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, src := range srcs {
		crds, err := ReadCRDs(ctx, src)
		if err != nil {
			return names, err
		}
		for _, crd := range crds {
			crd.ResourceVersion = ""
			_, err := client.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{FieldValidation: "Strict"})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return names, fmt.Errorf("create CRD %s: %w", crd.Name, err)
			}
			names = append(names, crd.Name)
		}
	}
	for _, name := range names {
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			crd, err := client.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range crd.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return names, fmt.Errorf("CRD %s not established: %w", name, err)
		}
	}
	return names, nil
}

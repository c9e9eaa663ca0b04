package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// KubeconfigConfig loads a client configuration from a kubeconfig: path (empty:
// $KUBECONFIG, then ~/.kube/config) and context (empty: the current context). A
// context that does not exist is an error naming the contexts there are.
func KubeconfigConfig(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	where := path
	if where == "" {
		where = strings.Join(rules.GetLoadingPrecedence(), string(os.PathListSeparator))
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", where, err)
	}
	available := contextNames(raw)
	name := context
	if name == "" {
		name = raw.CurrentContext
	}
	switch {
	case len(available) == 0:
		return nil, fmt.Errorf("kubeconfig %s has no contexts", where)
	case name == "":
		return nil, fmt.Errorf("kubeconfig %s has no current context: choose one with --context (available: %s)", where, strings.Join(available, ", "))
	case raw.Contexts[name] == nil:
		return nil, fmt.Errorf("context %q not found in kubeconfig %s (available: %s)", name, where, strings.Join(available, ", "))
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s, context %s: %w", where, name, err)
	}
	return cfg, nil
}

func contextNames(c clientcmdapi.Config) []string {
	names := make([]string, 0, len(c.Contexts))
	for n := range c.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CheckReachable asks the API server for its version within timeout; the error says
// which server could not be reached and why.
func CheckReachable(ctx context.Context, cfg *rest.Config, timeout time.Duration) (string, error) {
	c := rest.CopyConfig(cfg)
	c.Timeout = timeout
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return "", fmt.Errorf("Kubernetes API at %s: %w", cfg.Host, err)
	}
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := dc.ServerVersion()
		if err != nil {
			ch <- result{err: err}
			return
		}
		ch <- result{v: v.GitVersion}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return "", fmt.Errorf("cannot reach the Kubernetes API at %s: %w", cfg.Host, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		return "", fmt.Errorf("cannot reach the Kubernetes API at %s: %w", cfg.Host, ctx.Err())
	}
}

// restGetter is a genericclioptions.RESTClientGetter over a rest.Config, so Helm works
// the same with a kubeconfig and with EKS credentials (no kubeconfig file).
type restGetter struct {
	cfg       *rest.Config
	namespace string
	discovery discovery.CachedDiscoveryInterface
}

func newRESTGetter(cfg *rest.Config, namespace string) (*restGetter, error) {
	c := rest.CopyConfig(cfg)
	if c.QPS == 0 {
		c.QPS, c.Burst = 50, 100
	}
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("discovery client for %s: %w", cfg.Host, err)
	}
	return &restGetter{cfg: c, namespace: namespace, discovery: memory.NewMemCacheClient(dc)}, nil
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	m := restmapper.NewDeferredDiscoveryRESTMapper(g.discovery)
	return restmapper.NewShortcutExpander(m, g.discovery, func(string) {}), nil
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(*clientcmdapi.NewConfig(), &clientcmd.ConfigOverrides{
		Context: clientcmdapi.Context{Namespace: g.namespace},
	})
}

var errNoCluster = errors.New("no cluster access configured: give a kubeconfig (--kubeconfig/--context) or an EKS cluster (--eks-cluster and --region, or --terraform-outputs)")

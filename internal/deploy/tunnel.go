package deploy

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// MongoNamespace is the namespace of the mongodb release.
const MongoNamespace = "mongodb"

// MongoDB's Services as the Bitnami chart names them: the standalone Service,
// and the headless Service of a replica set.
var mongoServices = []string{"mongodb", "mongodb-headless"}

const mongoPort = 27017

// MongoDBPod is a Ready pod behind the MongoDB Service in namespace, the
// first by name (mongodb-0 of a replica set).
func MongoDBPod(ctx context.Context, kube kubernetes.Interface, namespace string) (string, error) {
	var svc *corev1.Service
	for _, name := range mongoServices {
		s, err := kube.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			svc = s
			break
		}
	}
	if svc == nil || len(svc.Spec.Selector) == 0 {
		return "", fmt.Errorf("no MongoDB Service (%s) with a selector in namespace %s: is the mongodb release installed?", strings.Join(mongoServices, " or "), namespace)
	}
	pods, err := kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return "", fmt.Errorf("list the pods of Service %s/%s: %w", namespace, svc.Name, err)
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	var seen []string
	for _, p := range pods.Items {
		if podReady(&p) {
			return p.Name, nil
		}
		seen = append(seen, fmt.Sprintf("%s (%s, not ready)", p.Name, p.Status.Phase))
	}
	if len(seen) == 0 {
		seen = []string{"none"}
	}
	return "", fmt.Errorf("no ready MongoDB pod behind Service %s/%s; pods: %s", namespace, svc.Name, strings.Join(seen, ", "))
}

// Tunnel forwards listen (host:port) to MongoDB's port in a Ready MongoDB pod
// through the Kubernetes API (port-forward), until ctx is done. Access is the
// caller's Kubernetes identity (on EKS: the AWS role's access entry); MongoDB
// then asks for its own user and password. With a replica set, connect with
// directConnection=true (the tunnel reaches one member).
func Tunnel(ctx context.Context, cfg *rest.Config, namespace, listen string, out, errOut io.Writer) error {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("tunnel: listen address %q: %w", listen, err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("tunnel: %w", err)
	}
	pod, err := MongoDBPod(ctx, kube, namespace)
	if err != nil {
		return fmt.Errorf("tunnel: %w", err)
	}
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		return fmt.Errorf("tunnel: %w", err)
	}
	url := kube.CoreV1().RESTClient().Post().Resource("pods").Namespace(namespace).Name(pod).SubResource("portforward").URL()
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, http.MethodPost, url)
	ready := make(chan struct{})
	fw, err := portforward.NewOnAddressesWithContext(ctx, dialer, []string{host}, []string{fmt.Sprintf("%s:%d", port, mongoPort)}, ready, out, errOut)
	if err != nil {
		return fmt.Errorf("tunnel to %s/%s: %w", namespace, pod, err)
	}
	go func() {
		<-ready
		fmt.Fprintf(out, "MongoDB of pod %s/%s on %s (Ctrl-C to close); connect with mongodb://<user>:<password>@%s/?directConnection=true&authSource=<database>\n", namespace, pod, listen, listen)
	}()
	if err := fw.ForwardPorts(); err != nil {
		return fmt.Errorf("tunnel to %s/%s: %w", namespace, pod, err)
	}
	return nil
}

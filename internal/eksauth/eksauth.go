// Package eksauth reaches an EKS cluster's Kubernetes API with nothing but AWS
// credentials: the endpoint and CA from the EKS API (DescribeCluster), and
// bearer tokens that are STS GetCallerIdentity URLs presigned for the cluster,
// as aws-iam-authenticator makes them. No aws CLI, no kubeconfig file.
package eksauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"k8s.io/client-go/rest"
)

const (
	tokenPrefix = "k8s-aws-v1."
	// clusterHeader binds a token to one cluster: it is signed into the URL.
	clusterHeader = "x-k8s-aws-id"
	// EKS accepts a token for 15 minutes after it was signed; use it for less.
	tokenLifetime = 14 * time.Minute
	refreshBefore = time.Minute
)

// Token is a bearer token for one cluster.
type Token struct {
	Value  string
	Expiry time.Time
}

// TokenSource makes tokens for a cluster with the STS client's credentials.
type TokenSource struct {
	presign *sts.PresignClient
	cluster string
	now     func() time.Time
}

// NewTokenSource makes tokens for cluster. now is the clock used for signing;
// nil means time.Now.
func NewTokenSource(client *sts.Client, cluster string, now func() time.Time) *TokenSource {
	if now == nil {
		now = time.Now
	}
	presign := sts.NewPresignClient(client, func(o *sts.PresignOptions) {
		o.Presigner = clockedPresigner{signer: v4.NewSigner(), now: now}
		o.ClientOptions = append(o.ClientOptions, func(so *sts.Options) {
			so.APIOptions = append(so.APIOptions,
				smithyhttp.SetHeaderValue(clusterHeader, cluster),
				setQuery("X-Amz-Expires", "60"),
			)
		})
	})
	return &TokenSource{presign: presign, cluster: cluster, now: now}
}

// Token presigns a GetCallerIdentity request for the cluster.
func (ts *TokenSource) Token(ctx context.Context) (Token, error) {
	signedAt := ts.now()
	req, err := ts.presign.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Token{}, fmt.Errorf("presign an STS GetCallerIdentity for EKS cluster %q: %w", ts.cluster, err)
	}
	return Token{
		Value:  tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(req.URL)),
		Expiry: signedAt.Add(tokenLifetime),
	}, nil
}

// DescribeClusterAPI is the part of the EKS client this package uses.
type DescribeClusterAPI interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, optFns ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
}

// RESTConfig looks the cluster up and returns a client configuration for its
// API server that sends a fresh token with every request.
func RESTConfig(ctx context.Context, api DescribeClusterAPI, tokens *TokenSource) (*rest.Config, error) {
	name := tokens.cluster
	out, err := api.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	var notFound *ekstypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return nil, fmt.Errorf("EKS cluster %q does not exist in this account and region (is the environment provisioned, and the region right?)", name)
	case err != nil:
		return nil, fmt.Errorf("describe EKS cluster %q: %w", name, err)
	}
	c := out.Cluster
	if c == nil {
		return nil, fmt.Errorf("describe EKS cluster %q: empty answer", name)
	}
	if c.Status != ekstypes.ClusterStatusActive {
		return nil, fmt.Errorf("EKS cluster %q is %s, not ACTIVE", name, c.Status)
	}
	if aws.ToString(c.Endpoint) == "" || c.CertificateAuthority == nil || aws.ToString(c.CertificateAuthority.Data) == "" {
		return nil, fmt.Errorf("EKS cluster %q has no endpoint or certificate authority yet", name)
	}
	ca, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
	if err != nil {
		return nil, fmt.Errorf("EKS cluster %q: certificate authority is not base64: %w", name, err)
	}
	cache := &tokenCache{source: tokens}
	return &rest.Config{
		Host:            aws.ToString(c.Endpoint),
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
			return bearer{next: rt, tokens: cache}
		},
	}, nil
}

// tokenCache reuses a token until shortly before it expires.
type tokenCache struct {
	source *TokenSource
	mu     sync.Mutex
	token  Token
}

func (c *tokenCache) get(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token.Value == "" || c.source.now().After(c.token.Expiry.Add(-refreshBefore)) {
		t, err := c.source.Token(ctx)
		if err != nil {
			return "", err
		}
		c.token = t
	}
	return c.token.Value, nil
}

type bearer struct {
	next   http.RoundTripper
	tokens *tokenCache
}

func (b bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	token, err := b.tokens.get(req.Context())
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+token)
	return b.next.RoundTrip(req)
}

// clockedPresigner signs with its own clock, so tokens can be checked with a fixed one.
type clockedPresigner struct {
	signer *v4.Signer
	now    func() time.Time
}

func (p clockedPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.now(), optFns...)
}

// setQuery adds a query parameter to the request before it is signed.
func setQuery(key, value string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("eksauth.setQuery."+key,
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					q := req.URL.Query()
					q.Set(key, value)
					req.URL.RawQuery = q.Encode()
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	}
}

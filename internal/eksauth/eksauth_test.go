package eksauth

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"k8s.io/client-go/rest"

	"github.com/orders-platform/orders/test/awsstub"
)

var signedAt = time.Date(2026, 11, 26, 23, 30, 5, 0, time.UTC)

func stsClient() *sts.Client {
	return sts.New(sts.Options{
		Region:      "eu-central-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""),
	})
}

func decode(t *testing.T, token string) *url.URL {
	t.Helper()
	rest, ok := strings.CutPrefix(token, "k8s-aws-v1.")
	if !ok {
		t.Fatalf("token %q lacks the k8s-aws-v1. prefix", token)
	}
	if strings.ContainsAny(rest, "+/=") {
		t.Fatalf("token is not unpadded base64url: %q", rest)
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		t.Fatalf("token is not base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatalf("token does not hold a URL: %v", err)
	}
	return u
}

func TestTokenIsAPresignedGetCallerIdentityForTheCluster(t *testing.T) {
	ts := NewTokenSource(stsClient(), "orders-dev", func() time.Time { return signedAt })
	tok, err := ts.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := signedAt.Add(14 * time.Minute); !tok.Expiry.Equal(want) {
		t.Errorf("expiry %s, want %s", tok.Expiry, want)
	}
	u := decode(t, tok.Value)
	if u.Scheme != "https" || u.Host != "sts.eu-central-1.amazonaws.com" || (u.Path != "/" && u.Path != "") {
		t.Errorf("URL %s, want https://sts.eu-central-1.amazonaws.com/", u)
	}
	q := u.Query()
	for key, want := range map[string]string{
		"Action":           "GetCallerIdentity",
		"Version":          "2011-06-15",
		"X-Amz-Algorithm":  "AWS4-HMAC-SHA256",
		"X-Amz-Credential": "AKIDEXAMPLE/20261126/eu-central-1/sts/aws4_request",
		"X-Amz-Date":       "20261126T233005Z",
		"X-Amz-Expires":    "60",
	} {
		if got := q.Get(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	if !slices.Contains(signed, "host") || !slices.Contains(signed, "x-k8s-aws-id") {
		t.Errorf("signed headers %v must include host and x-k8s-aws-id", signed)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(q.Get("X-Amz-Signature")) {
		t.Errorf("signature %q is not 64 hex digits", q.Get("X-Amz-Signature"))
	}
	if strings.Contains(tok.Value, "wJalrXUtnFEMI") || strings.Contains(u.String(), "wJalrXUtnFEMI") {
		t.Error("the secret key leaked into the token")
	}
}

func TestTokenIsBoundToClusterAndClock(t *testing.T) {
	sig := func(cluster string, at time.Time) string {
		tok, err := NewTokenSource(stsClient(), cluster, func() time.Time { return at }).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return decode(t, tok.Value).Query().Get("X-Amz-Signature")
	}
	base := sig("orders-dev", signedAt)
	if again := sig("orders-dev", signedAt); again != base {
		t.Errorf("same cluster, key and time gave different signatures: %s, %s", base, again)
	}
	if other := sig("orders-prod", signedAt); other == base {
		t.Error("a token for another cluster has the same signature: the cluster header is not signed")
	}
	if later := sig("orders-dev", signedAt.Add(time.Second)); later == base {
		t.Error("a token signed later has the same signature: the clock is not used")
	}
}

// stubEKS answers the EKS API through awsstub: the SDK builds, signs and
// parses as usual; only the network round trip is replaced.
func stubEKS(t *testing.T, status int, header http.Header, body string, seen *[]string) *eks.Client {
	t.Helper()
	return eks.New(eks.Options{
		Region:      "eu-central-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		APIOptions: []func(*middleware.Stack) error{awsstub.Responder(func(req *smithyhttp.Request) (int, http.Header, string) {
			*seen = append(*seen, req.Method+" "+req.URL.Path)
			if !strings.HasPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
				t.Errorf("request to EKS is not signed: %q", req.Header.Get("Authorization"))
			}
			h := header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("Content-Type", "application/json")
			return status, h, body
		})},
	})
}

func clusterJSON(endpoint, caPEM, status string) string {
	return fmt.Sprintf(`{"cluster":{"name":"orders-dev","endpoint":%q,"status":%q,"certificateAuthority":{"data":%q}}}`,
		endpoint, status, base64.StdEncoding.EncodeToString([]byte(caPEM)))
}

func TestRESTConfigReachesTheAPIServerWithATokenAndItsCA(t *testing.T) {
	var auth []string
	apiserver := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		io.WriteString(w, `{"major":"1","minor":"35","gitVersion":"v1.35.0-eks"}`)
	}))
	defer apiserver.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: apiserver.Certificate().Raw}))

	var seen []string
	client := stubEKS(t, 200, nil, clusterJSON(apiserver.URL, caPEM, "ACTIVE"), &seen)
	tokens := NewTokenSource(stsClient(), "orders-dev", func() time.Time { return signedAt })
	cfg, err := RESTConfig(context.Background(), client, tokens)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "GET /clusters/orders-dev" {
		t.Fatalf("EKS requests %v, want one GET /clusters/orders-dev", seen)
	}
	if cfg.Host != apiserver.URL {
		t.Errorf("host %q, want %q", cfg.Host, apiserver.URL)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.CAData) {
		t.Fatal("CAData is not the PEM the cluster gave")
	}

	// The real client-go transport, TLS verified against the cluster's CA.
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		res, err := httpClient.Get(apiserver.URL + "/version")
		if err != nil {
			t.Fatalf("GET /version through the config: %v", err)
		}
		res.Body.Close()
	}
	if len(auth) != 2 || !strings.HasPrefix(auth[0], "Bearer k8s-aws-v1.") || auth[0] != auth[1] {
		t.Fatalf("Authorization headers %q: want the same bearer token twice (cached)", auth)
	}
}

func TestRESTConfigRefusesClustersItCannotUse(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string
	}{
		{"missing", 404, http.Header{"X-Amzn-Errortype": {"ResourceNotFoundException"}}, `{"message":"No cluster found for name: orders-dev."}`,
			`EKS cluster "orders-dev" does not exist in this account and region`},
		{"still creating", 200, nil, clusterJSON("", "", "CREATING"), `EKS cluster "orders-dev" is CREATING, not ACTIVE`},
		{"no CA yet", 200, nil, `{"cluster":{"name":"orders-dev","endpoint":"https://x","status":"ACTIVE"}}`, "no endpoint or certificate authority"},
		{"access denied", 403, http.Header{"X-Amzn-Errortype": {"AccessDeniedException"}}, `{"message":"not authorized"}`,
			`describe EKS cluster "orders-dev"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			_, err := RESTConfig(context.Background(), stubEKS(t, tc.status, tc.header, tc.body, &seen),
				NewTokenSource(stsClient(), "orders-dev", nil))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCachedTokenIsRenewedBeforeItExpires(t *testing.T) {
	now := signedAt
	cache := &tokenCache{source: NewTokenSource(stsClient(), "orders-dev", func() time.Time { return now })}
	first, err := cache.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(12 * time.Minute)
	if same, _ := cache.get(context.Background()); same != first {
		t.Error("token renewed 12 minutes in, while still valid for 2 more")
	}
	now = now.Add(90 * time.Second)
	if renewed, _ := cache.get(context.Background()); renewed == first {
		t.Error("token not renewed within a minute of its expiry")
	}
}

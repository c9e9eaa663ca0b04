package deploy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orders-platform/orders/internal/tfoutputs"
	"github.com/orders-platform/orders/test/awsstub"
)

// stubSecrets answers GetSecretValue by secret id, through awsstub.
func stubSecrets(t *testing.T, answers map[string]string) *secretsmanager.Client {
	t.Helper()
	return secretsmanager.New(secretsmanager.Options{
		Region:      "eu-central-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		APIOptions: []func(*middleware.Stack) error{awsstub.Responder(func(req *smithyhttp.Request) (int, http.Header, string) {
			if got := req.Header.Get("X-Amz-Target"); got != "secretsmanager.GetSecretValue" {
				t.Errorf("X-Amz-Target %q, want secretsmanager.GetSecretValue", got)
			}
			body, _ := io.ReadAll(req.GetStream())
			header := http.Header{"Content-Type": {"application/x-amz-json-1.1"}}
			for id, secret := range answers {
				if strings.Contains(string(body), `"SecretId":"`+id+`"`) {
					return 200, header, `{"ARN":"` + id + `","Name":"x","SecretString":` + secret + `}`
				}
			}
			return 400, header, `{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}`
		})},
	})
}

func TestCredentialsFromSecretsManager(t *testing.T) {
	const rootARN = "arn:aws:secretsmanager:eu-central-1:000000000000:secret:orders-dev/mongodb/root-AbCdEf"
	const appARN = "arn:aws:secretsmanager:eu-central-1:000000000000:secret:orders-dev/mongodb/app-GhIjKl"
	outputs := &tfoutputs.Outputs{MongoDBRootSecretARN: rootARN, MongoDBAppSecretARN: appARN}
	good := map[string]string{
		rootARN: `"{\"username\":\"root\",\"password\":\"r00tPassw0rd\",\"database\":\"admin\"}"`,
		appARN:  `"{\"username\":\"orders\",\"password\":\"appPassw0rd\",\"database\":\"DevOpsAssignment\"}"`,
	}
	creds, err := CredentialsFromSecretsManager(context.Background(), stubSecrets(t, good), outputs)
	if err != nil {
		t.Fatal(err)
	}
	if creds.RootPassword != "r00tPassw0rd" || creds.AppPassword != "appPassw0rd" {
		t.Fatalf("passwords not read from the secrets' JSON")
	}

	tests := []struct {
		name    string
		answers map[string]string
		outputs *tfoutputs.Outputs
		want    string
	}{
		{"no outputs", good, nil, "name no MongoDB secrets"},
		{"missing secret", map[string]string{rootARN: good[rootARN]}, outputs, "read MongoDB secret " + appARN},
		{"not JSON", map[string]string{rootARN: `"hunter2-not-json"`, appARN: good[appARN]}, outputs, "is not JSON with a non-empty \"password\""},
		{"no password", map[string]string{rootARN: `"{\"username\":\"root\"}"`, appARN: good[appARN]}, outputs, "is not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CredentialsFromSecretsManager(context.Background(), stubSecrets(t, tc.answers), tc.outputs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
			for _, secret := range []string{"r00tPassw0rd", "appPassw0rd", "hunter2"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q reveals a secret", err)
				}
			}
		})
	}
}

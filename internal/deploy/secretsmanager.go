package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orders-platform/orders/internal/tfoutputs"
)

// SecretValueAPI is the part of the Secrets Manager client the deployer uses.
type SecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// CredentialsFromSecretsManager reads the MongoDB passwords that terraform/platform
// generated, from the secrets its outputs name (JSON: username, password, database).
// The passwords go from Secrets Manager straight into the cluster's Secrets: they
// never pass through the pipeline, a file or a flag.
func CredentialsFromSecretsManager(ctx context.Context, api SecretValueAPI, out *tfoutputs.Outputs) (Credentials, error) {
	if out == nil || out.MongoDBRootSecretARN == "" || out.MongoDBAppSecretARN == "" {
		return Credentials{}, errors.New("the Terraform outputs name no MongoDB secrets (mongodb_root_secret_arn, mongodb_app_secret_arn)")
	}
	root, err := secretPassword(ctx, api, out.MongoDBRootSecretARN)
	if err != nil {
		return Credentials{}, err
	}
	app, err := secretPassword(ctx, api, out.MongoDBAppSecretARN)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{RootPassword: root, AppPassword: app}, nil
}

func secretPassword(ctx context.Context, api SecretValueAPI, arn string) (string, error) {
	res, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read MongoDB secret %s from Secrets Manager: %w", arn, err)
	}
	var v struct {
		Password string `json:"password"`
	}
	// The error of a failed decode can quote the secret: never wrap it.
	if json.Unmarshal([]byte(aws.ToString(res.SecretString)), &v) != nil || v.Password == "" {
		return "", fmt.Errorf("MongoDB secret %s is not JSON with a non-empty \"password\"", arn)
	}
	return v.Password, nil
}

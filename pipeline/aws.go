package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"dagger.io/dagger"
)

// awsSecrets are the AWS credentials, as Dagger secrets: they reach containers
// as secret variables and the pipeline's own API calls in memory, never logs.
type awsSecrets struct {
	keyID, secret, token *dagger.Secret
}

// CredentialsError is the one-line error of a function that needs AWS
// credentials and was given none (or half of them).
func CredentialsError(function string, haveKeyID, haveSecret bool) error {
	if haveKeyID && haveSecret {
		return nil
	}
	return fmt.Errorf("%s needs AWS credentials: pass --aws-access-key-id=env://AWS_ACCESS_KEY_ID --aws-secret-access-key=env://AWS_SECRET_ACCESS_KEY (and --aws-session-token=env://AWS_SESSION_TOKEN for temporary credentials)", function)
}

func (a awsSecrets) require(function string) error {
	return CredentialsError(function, a.keyID != nil, a.secret != nil)
}

// withAWS gives a container the credentials and region as environment variables.
func (a awsSecrets) withAWS(c *dagger.Container, region string) *dagger.Container {
	c = c.WithSecretVariable("AWS_ACCESS_KEY_ID", a.keyID).
		WithSecretVariable("AWS_SECRET_ACCESS_KEY", a.secret).
		WithEnvVariable("AWS_REGION", region)
	if a.token != nil {
		c = c.WithSecretVariable("AWS_SESSION_TOKEN", a.token)
	}
	return c
}

// config is an AWS SDK configuration with the credentials, for the pipeline's
// own API calls (ECR login, the caller's account).
func (a awsSecrets) config(ctx context.Context, region string) (aws.Config, error) {
	plain := func(s *dagger.Secret) (string, error) {
		if s == nil {
			return "", nil
		}
		return s.Plaintext(ctx)
	}
	id, err := plain(a.keyID)
	if err != nil {
		return aws.Config{}, fmt.Errorf("read AWS credentials: %w", err)
	}
	key, err := plain(a.secret)
	if err != nil {
		return aws.Config{}, fmt.Errorf("read AWS credentials: %w", err)
	}
	token, err := plain(a.token)
	if err != nil {
		return aws.Config{}, fmt.Errorf("read AWS credentials: %w", err)
	}
	if id == "" || key == "" {
		return aws.Config{}, errors.New("AWS credentials are empty")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, key, token)),
	}, nil
}

// account is the AWS account of the credentials (STS GetCallerIdentity).
func account(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("AWS credentials rejected (sts:GetCallerIdentity): %w", err)
	}
	return aws.ToString(out.Account), nil
}

// ecrClient is the ECR API client of the login and the image look-ups.
func ecrClient(cfg aws.Config) *ecr.Client { return ecr.NewFromConfig(cfg) }

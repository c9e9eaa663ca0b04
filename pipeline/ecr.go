package pipeline

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// ECRAuthAPI is the part of the ECR client the login uses.
type ECRAuthAPI interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

// RegistryAuth is what `docker login` would be given for an ECR registry.
type RegistryAuth struct {
	Registry string // host, e.g. 123456789012.dkr.ecr.eu-central-1.amazonaws.com
	Username string // always AWS
	Password string // valid for 12 hours; never printed
}

// ECRLogin gets a registry login from the ECR API (GetAuthorizationToken): the
// token is base64 of "AWS:<password>". registry is the expected host (the
// Terraform output ecr_registry); the token must be for it.
func ECRLogin(ctx context.Context, api ECRAuthAPI, registry string) (RegistryAuth, error) {
	res, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return RegistryAuth{}, fmt.Errorf("ECR login: %w", err)
	}
	if len(res.AuthorizationData) == 0 {
		return RegistryAuth{}, errors.New("ECR login: GetAuthorizationToken returned no authorization data")
	}
	d := res.AuthorizationData[0]
	if d.AuthorizationToken == nil {
		return RegistryAuth{}, errors.New("ECR login: GetAuthorizationToken returned no token")
	}
	raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
	if err != nil {
		return RegistryAuth{}, fmt.Errorf("ECR login: token is not base64: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok || user == "" || pass == "" {
		return RegistryAuth{}, errors.New("ECR login: token is not <user>:<password>")
	}
	host := registry
	if d.ProxyEndpoint != nil {
		u, err := url.Parse(*d.ProxyEndpoint)
		if err != nil || u.Host == "" {
			return RegistryAuth{}, fmt.Errorf("ECR login: bad proxy endpoint %q", *d.ProxyEndpoint)
		}
		if registry != "" && u.Host != registry {
			return RegistryAuth{}, fmt.Errorf("ECR login: token is for %s, the environment's registry is %s (credentials of another account or region?)", u.Host, registry)
		}
		host = u.Host
	}
	if host == "" {
		return RegistryAuth{}, errors.New("ECR login: no registry")
	}
	return RegistryAuth{Registry: host, Username: user, Password: pass}, nil
}

// ECRImagesAPI is the part of the ECR client that looks up a pushed image.
type ECRImagesAPI interface {
	DescribeImages(ctx context.Context, in *ecr.DescribeImagesInput, optFns ...func(*ecr.Options)) (*ecr.DescribeImagesOutput, error)
}

// FindImage looks up the image tagged tag in the repository (its URL, as in
// ecr_repository_urls). Tags are immutable, so a commit already pushed is
// reused by its digest rather than pushed again (which ECR would refuse);
// found is false when the tag does not exist.
func FindImage(ctx context.Context, api ECRImagesAPI, repositoryURL, tag string) (ref ImageRef, found bool, err error) {
	name, err := RepositoryName(repositoryURL)
	if err != nil {
		return ImageRef{}, false, err
	}
	res, err := api.DescribeImages(ctx, &ecr.DescribeImagesInput{
		RepositoryName: &name,
		ImageIds:       []ecrtypes.ImageIdentifier{{ImageTag: &tag}},
	})
	var notFound *ecrtypes.ImageNotFoundException
	if errors.As(err, &notFound) {
		return ImageRef{}, false, nil
	}
	if err != nil {
		return ImageRef{}, false, fmt.Errorf("look up %s:%s in ECR: %w", repositoryURL, tag, err)
	}
	if len(res.ImageDetails) == 0 {
		return ImageRef{}, false, nil
	}
	digest := aws.ToString(res.ImageDetails[0].ImageDigest)
	if !digestRe.MatchString(digest) {
		return ImageRef{}, false, fmt.Errorf("ECR image %s:%s has digest %q, not sha256:<64 hex>", repositoryURL, tag, digest)
	}
	return ImageRef{Repository: repositoryURL, Tag: tag, Digest: digest}, true, nil
}

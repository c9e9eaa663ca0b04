package deploy

import (
	"context"
	"errors"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"k8s.io/client-go/rest"

	"github.com/orders-platform/orders/internal/eksauth"
)

// EKSConfig reaches an EKS cluster with the default AWS credential chain (environment,
// web identity from GitHub OIDC, profile, instance role): endpoint and CA from
// DescribeCluster, bearer tokens presigned with STS (internal/eksauth). No aws CLI,
// no kubeconfig file.
func EKSConfig(ctx context.Context, cluster, region string) (*rest.Config, error) {
	if cluster == "" || region == "" {
		return nil, errors.New("EKS access needs the cluster name and the region (--eks-cluster and --region, or --terraform-outputs)")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("AWS credentials for EKS cluster %s: %w", cluster, err)
	}
	tokens := eksauth.NewTokenSource(sts.NewFromConfig(awsCfg), cluster, nil)
	cfg, err := eksauth.RESTConfig(ctx, eks.NewFromConfig(awsCfg), tokens)
	if err != nil {
		return nil, fmt.Errorf("EKS cluster %s in %s: %w", cluster, region, err)
	}
	return cfg, nil
}

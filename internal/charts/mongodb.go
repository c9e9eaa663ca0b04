package charts

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// MongoDBUpstream is charts/mongodb/upstream.yaml: the pinned Bitnami chart and the
// images the pipeline mirrors.
type MongoDBUpstream struct {
	Chart struct {
		Name, Repository, Version, AppVersion string
	} `json:"chart"`
	Images []struct {
		Name, Source, Repository, Tag string
		// ECRRepository is the short name of the private mirror repository
		// (a key of Terraform's ecr_repository_urls output).
		ECRRepository string `json:"ecrRepository"`
		// ValuesPath is where the chart takes this image (registry, repository, tag).
		ValuesPath string `json:"valuesPath"`
		// Platforms are the platforms upstream publishes it for (as verified); the
		// mirror copies the nodes' (MirrorPlatforms).
		Platforms []string `json:"platforms"`
	} `json:"images"`
}

// ReadMongoDBUpstream reads charts/mongodb/upstream.yaml.
func ReadMongoDBUpstream(path string) (*MongoDBUpstream, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var u MongoDBUpstream
	if err := yaml.UnmarshalStrict(b, &u); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &u, nil
}

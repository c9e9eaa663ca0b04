// Package pipeline is the orders platform's CI/CD pipeline, written against the
// published Dagger Go SDK (dagger.io/dagger). The Dagger module in ci/ is a thin
// adapter over it: each of its functions opens a Pipeline on the running Dagger
// session and calls the method of the same name.
//
// The logic that needs no engine (environments, image tags and digests, the
// Terraform commands and outputs, the deployer's arguments, the order of the
// steps and what is skipped, ECR login and image look-up, the vulnerability
// gate, SBOM names and checks, tenant names, destroy's confirmation) lives in
// plain functions of this package and is unit-tested;
// the methods of Pipeline only wire those into containers.
package pipeline

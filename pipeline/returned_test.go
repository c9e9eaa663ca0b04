package pipeline

import (
	"context"
	"strings"
	"testing"
)

// What deploy returns to its caller must not descend from a secret the
// function made with SetSecret (the ECR password): the engine has to pass such
// a secret back with the result, which regressed before (dagger/dagger#10776).
// The SBOM of an image pulled with that password goes into the result as bytes.
func TestReturnedFilesDoNotDescendFromFunctionSecrets(t *testing.T) {
	p, stub := openOnStub(t)
	ctx := context.Background()
	password := p.dag.SetSecret("ecr-password-dev", "not-a-real-password")
	sbom := p.dag.Container().From("registry.example/orders/service1@sha256:0").
		WithRegistryAuth("registry.example", "AWS", password).
		File("/sbom.cdx.json")

	result, err := withReturnedFile(ctx, p.dag.Directory(), SBOMDir+"/service1.cdx.json", sbom)
	if err != nil {
		t.Fatal(err)
	}
	id, err := result.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lineage := stub.lineage(string(id))
	if len(lineage) == 0 {
		t.Fatalf("the stub answered no query for the result's id %s", id)
	}
	for _, q := range lineage {
		if strings.Contains(q, "setSecret") {
			t.Errorf("the returned directory descends from a function-local secret:\n%s", q)
		}
	}
	// The check itself can fail: the file as it is does descend from the secret.
	fileID, err := sbom.ID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(stub.lineage(string(fileID)), "\n"), "setSecret") {
		t.Fatalf("lineage does not follow ids: the SBOM file's lineage misses setSecret")
	}
}

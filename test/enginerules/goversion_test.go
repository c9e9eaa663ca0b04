package enginerules

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// EngineGo is the newest Go that every v0.21.8 engine accepts in a module's
// go.mod. The code generator refuses a go line newer than its own Go
// (goVersion = runtime.Version(), cmd/codegen/generator/go/generator.go; the
// check in bootstrapMod, cmd/codegen/generator/go/generate_module.go, both at
// v0.21.8). The codegen binary is built by the engine's Go toolchain module with
// its default version "1.26", the Wolfi package go-1.26 resolved when the
// release was built (toolchains/go/main.go, toolchains/engine-dev/build/builder.go
// CodegenBinary, at v0.21.8): the patch is not pinned in the source. What is
// pinned is the floor: github.com/dagger/dagger's go.mod at v0.21.8 says
// go 1.26.1, and a go command builds a module only with a Go at least that new.
// So 1.26.1 is the highest go line that no v0.21.8 engine can refuse.
const EngineGo = "1.26.1"

// moduleGoMods are the go.mod files the module builds with: its own (source
// folder) and the root module it replaces (ci/go.mod: replace … => ../).
var moduleGoMods = []string{"ci/go.mod", "go.mod"}

func TestGoVersionsAtMostTheEngines(t *testing.T) {
	for _, f := range moduleGoMods {
		data, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		mod, err := modfile.ParseLax(f, data, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if mod.Go == nil {
			t.Errorf("%s has no go line; the engine's codegen refuses that (\"go.mod has no go directive\")", f)
			continue
		}
		if err := atMostEngineGo(mod.Go.Version); err != "" {
			t.Errorf("%s: go %s: %s", f, mod.Go.Version, err)
		}
		if mod.Toolchain != nil {
			if err := atMostEngineGo(mod.Toolchain.Name[len("go"):]); err != "" {
				t.Errorf("%s: toolchain %s: %s", f, mod.Toolchain.Name, err)
			}
		}
	}
}

// atMostEngineGo compares as the codegen does (semver on "v"+version).
func atMostEngineGo(v string) string {
	if semver.Compare("v"+v, "v"+EngineGo) > 0 {
		return "newer than " + EngineGo + ", the Go of the v0.21.8 engine's code generator: it fails with " +
			"\"existing go.mod has unsupported version\" before any function runs"
	}
	return ""
}

func TestAtMostEngineGo(t *testing.T) {
	for v, ok := range map[string]bool{"1.26.1": true, "1.26": true, "1.25.7": true, "1.26.2": false, "1.26.8": false, "1.27": false} {
		if got := atMostEngineGo(v) == ""; got != ok {
			t.Errorf("go %s accepted = %v, want %v", v, got, ok)
		}
	}
}

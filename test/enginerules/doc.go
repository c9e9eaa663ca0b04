// Package enginerules holds the Dagger module "orders" (dagger.json, ci/) to
// the rules the Dagger engine v0.21.8 applies when it loads and calls it. No
// engine runs here, so each rule was read in github.com/dagger/dagger at tag
// v0.21.8 and is turned into a test that fails on the defect, with the
// upstream file named beside it:
//
//   - what a local module loads (dagger.json, its source folder, its include
//     and exclude globs; core/schema/modulesource.go) and that the module
//     builds and vets from exactly that;
//   - the Go version the engine's code generator accepts in a go.mod
//     (cmd/codegen/generator/go/generate_module.go);
//   - the command and flag names the CLI derives from the Go names
//     (core/typedef.go, cmd/dagger/module_inspect.go), checked against every
//     `dagger call` line of the documentation, workflows and Makefile.
//
// The package has tests only.
package enginerules

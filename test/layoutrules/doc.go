// Package layoutrules holds the repository to its layout: a package's folder
// says whether it ships. cmd/, internal/ and pipeline/ hold what the commands
// and the Dagger module (ci/) run; test/ holds what proves them and never
// ships. The tests fail on a package under cmd/, internal/ or pipeline/ that
// only tests import (it belongs under test/), on shipped code that imports
// test/ outside its _test.go files, and on a package in neither place.
//
// The package has tests only.
package layoutrules

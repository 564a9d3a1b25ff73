package plans_test

import (
	"go/build"
	"strings"
	"testing"
)

// plans is the data the layers above it share: neither it nor its
// subpackages import one of them, or anything that talks to a printer.
func TestImportsNothingAbove(t *testing.T) {
	const module = "github.com/inkform/inkform/"
	above := []string{"planner", "apply", "views", "observer", "providers", "cmd"}
	for _, dir := range []string{".", "planfile", "values"} {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			for _, a := range above {
				if imp == module+a || strings.HasPrefix(imp, module+a+"/") {
					t.Errorf("plans/%s imports %s", dir, imp)
				}
			}
		}
	}
}

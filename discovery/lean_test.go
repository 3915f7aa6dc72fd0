package discovery_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCoreImportsNoBackend: the core package must not pull in etcd, Consul or the
// catalog, so a service that does not use them does not import them; and every package
// under discovery/ has a doc.go.
func TestCoreImportsNoBackend(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.etcd.io/", "github.com/hashicorp/", "github.com/paved-road/paved/catalog", "github.com/paved-road/paved/discovery/"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("discovery depends on %s, want no dependency under %s", dep, banned)
			}
		}
	}
}

func TestEveryPackageHasDocGo(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		goFiles, _ := filepath.Glob(filepath.Join(path, "*.go"))
		if len(goFiles) == 0 {
			return nil
		}
		if _, err := os.Stat(filepath.Join(path, "doc.go")); err != nil {
			t.Errorf("package %s: got no doc.go, want one", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paved-road/paved/cmd/paved/internal/check"
)

// TestDocsCoverFlagsAndProbes fails when a command's flag or a probe of paved check is
// missing from docs/paved-cli.md or from the package comment.
func TestDocsCoverFlagsAndProbes(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "paved-cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	pkgDoc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	flagLine := regexp.MustCompile(`(?m)^\s+-([a-z-]+)`)
	for _, cmd := range []string{"check", "new", "export", "manifests", "api check"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append(strings.Fields(cmd), "-h"), &stdout, &stderr); code != exitOK {
			t.Errorf("paved %s -h: got exit %d, want 0", cmd, code)
		}
		flags := flagLine.FindAllStringSubmatch(stderr.String(), -1)
		if len(flags) == 0 {
			t.Errorf("paved %s -h: got no flags in %q", cmd, stderr.String())
		}
		for _, f := range flags {
			for name, doc := range map[string][]byte{"docs/paved-cli.md": guide, "doc.go": pkgDoc} {
				if !strings.Contains(string(doc), "--"+f[1]) {
					t.Errorf("%s does not document paved %s --%s", name, cmd, f[1])
				}
			}
		}
	}
	for _, id := range check.Probes() {
		if !strings.Contains(string(guide), "`"+id+"`") {
			t.Errorf("docs/paved-cli.md does not document the finding %s", id)
		}
		if id != "info" && id != "compliance" && !strings.Contains(string(pkgDoc), id) {
			t.Errorf("doc.go does not document the probe %s", id)
		}
	}
}

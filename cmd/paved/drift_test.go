package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/cmd/paved/internal/scaffold"
)

// drift is a template of `paved new` written from an example service: its service
// package must be the example's, file for file, outside the identity and metadata
// (info.go) and the package comment (doc.go), so that a change to the example reaches
// the template.
type drift struct {
	template, module, owner string
	// pkg is the service package's directory in the template; example, the example's
	// package directory under examples/, whose package clause is renamed to pkg's.
	pkg, example string
	// tests are the example's _test.go files the template carries too (the others
	// need the example's neighbours).
	tests []string
	// atLeast is how many files must have been compared, and which, for the message.
	atLeast int
	which   string
}

func (d drift) check(t *testing.T) {
	t.Helper()
	files, err := scaffold.Render(templates(), d.template, scaffold.Params{Module: d.module, Owner: d.owner, PavedVersion: "v0.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	exampleDir := filepath.Join(repoRoot(t), "examples", filepath.FromSlash(d.example))
	entries, err := os.ReadDir(exampleDir)
	if err != nil {
		t.Fatal(err)
	}
	examplePkg, templatePkg := "package "+filepath.Base(d.example)+"\n", "package "+d.pkg+"\n"
	identity := []string{"info.go", "doc.go"}
	compared := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || slices.Contains(identity, name) ||
			strings.HasSuffix(name, "_test.go") && !slices.Contains(d.tests, name) {
			continue
		}
		got, inTemplate := files[d.pkg+"/"+name]
		if !inTemplate {
			t.Errorf("%s/%s: in examples/%s, missing from the template", d.pkg, name, d.example)
			continue
		}
		want, err := os.ReadFile(filepath.Join(exampleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if rest, ok := bytes.CutPrefix(want, []byte(examplePkg)); ok {
			want = append([]byte(templatePkg), rest...)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s/%s: the template differs from examples/%s/%s; copy it to cmd/paved/templates/%s/%s/%s.tmpl (%s)",
				d.pkg, name, d.example, name, d.template, d.pkg, name, strings.TrimSpace(templatePkg))
		}
		compared++
	}
	if compared < d.atLeast {
		t.Errorf("compared %d files with the example, want at least %d (%s)", compared, d.atLeast, d.which)
	}
	for _, name := range identity {
		if _, ok := files[d.pkg+"/"+name]; !ok {
			t.Errorf("%s/%s: got none, want the template to write it", d.pkg, name)
		}
	}
}

package meta

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated layering section of docs/architecture.md")

// match reports whether rel (a path relative to the module root) matches pattern.
func match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

func layerOf(rel string) (Layer, bool) {
	for _, l := range Layers() {
		if match(l.Package, rel) {
			return l, true
		}
	}
	return Layer{}, false
}

func isStd(imp string) bool { return !strings.Contains(strings.Split(imp, "/")[0], ".") }

// imports lists every package of the workspace with its non-test imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "work")
	cmd.Dir = moduleRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list work: %v", err)
	}
	pkgs := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkgs[f[0]] = f[1:]
	}
	return pkgs
}

// TestLayers fails for a package the layering table does not place, and for an import
// the table does not allow: a Paved package outside the layer's list, or a third-party
// module it does not name.
func TestLayers(t *testing.T) {
	for pkg, imps := range imports(t) {
		rel, ok := strings.CutPrefix(pkg, module+"/")
		if !ok {
			continue // the module root has no package
		}
		layer, ok := layerOf(rel)
		if !ok {
			t.Errorf("%s: no layer in internal/meta/layers.go places it", rel)
			continue
		}
		for _, imp := range imps {
			switch {
			case isStd(imp):
			case strings.HasPrefix(imp, module+"/"):
				own := strings.TrimPrefix(imp, module+"/")
				if strings.HasPrefix(own, rel+"/") {
					continue // its own subpackages, such as internal ones
				}
				if !slices.ContainsFunc(layer.Paved, func(p string) bool { return match(p, own) }) {
					t.Errorf("%s imports %s: its layer (%s) allows %v", rel, own, layer.Package, layer.Paved)
				}
			default:
				if !slices.ContainsFunc(layer.ThirdParty, func(m string) bool { return imp == m || strings.HasPrefix(imp, m+"/") }) {
					t.Errorf("%s imports %s: its layer (%s) allows only the modules %v", rel, imp, layer.Package, layer.ThirdParty)
				}
			}
		}
	}
}

// TestLayersMatch: every pattern of the table places at least one package, so the
// table has no dead rows.
func TestLayersMatch(t *testing.T) {
	var rels []string
	for pkg := range imports(t) {
		if rel, ok := strings.CutPrefix(pkg, module+"/"); ok {
			rels = append(rels, rel)
		}
	}
	for _, l := range Layers() {
		if !slices.ContainsFunc(rels, func(r string) bool { return match(l.Package, r) }) {
			t.Errorf("layer %s matches no package", l.Package)
		}
	}
}

const (
	docBegin = "<!-- layers: generated from internal/meta/layers.go by `go test ./internal/meta -run TestLayersDoc -update`; do not edit -->"
	docEnd   = "<!-- layers: end -->"
)

// layersDoc renders the table: a Mermaid graph of the core's layers (drawn by GitHub
// and pkg.go.dev readers' tools) and a table of every row.
func layersDoc() string {
	var b strings.Builder
	b.WriteString(docBegin + "\n\n```mermaid\ngraph TD\n")
	node := func(p string) string { return strings.NewReplacer("/", "_", ".", "_").Replace(p) }
	for _, l := range Layers() {
		if strings.Contains(l.Package, "...") || strings.HasPrefix(l.Package, "cmd/") || strings.HasSuffix(l.Package, "test") {
			continue // families and programs are in the table below
		}
		for _, p := range l.Paved {
			to := strings.TrimSuffix(p, "/...")
			fmt.Fprintf(&b, "  %s[%s] --> %s[%s]\n", node(l.Package), l.Package, node(to), to)
		}
		if len(l.Paved) == 0 {
			fmt.Fprintf(&b, "  %s[%s]\n", node(l.Package), l.Package)
		}
	}
	b.WriteString("```\n\n| package | may import of Paved | third-party modules | rule |\n| --- | --- | --- | --- |\n")
	list := func(xs []string) string {
		if len(xs) == 0 {
			return "—"
		}
		return "`" + strings.Join(xs, "`, `") + "`"
	}
	for _, l := range Layers() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", l.Package, list(l.Paved), list(l.ThirdParty), l.Why)
	}
	b.WriteString("\n" + docEnd)
	return b.String()
}

// TestLayersDoc fails when docs/architecture.md's layering section is not what the table
// renders; -update rewrites it.
func TestLayersDoc(t *testing.T) {
	path := filepath.Join(moduleRoot(t), "docs", "architecture.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/architecture.md has no generated layering section (%q ... %q)", docBegin, docEnd)
	}
	want := doc[:i] + layersDoc() + doc[j+len(docEnd):]
	if want == doc {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/architecture.md's layering section is stale: go test ./internal/meta -run TestLayersDoc -update")
}

// TestEveryModuleBuildsAlone: the packages of every module, their tests included, resolve
// outside the workspace, as the module's users and `go mod tidy` in a consumer see them.
// A core test importing the catalog server builds in the workspace but breaks every
// service's `go mod tidy` (the server is another module).
func TestEveryModuleBuildsAlone(t *testing.T) {
	for dir := range workspaceModules(t, moduleRoot(t)) {
		cmd := exec.Command("go", "list", "-test", "-deps", "-e", "-f", "{{with .Error}}{{.}}\n{{end}}", "./...")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("%s outside the workspace: %v\n%s", dir, err, out)
		}
	}
}

package meta

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// moduleRoot is the directory holding go.mod, two levels up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// workspaceModules returns the directories of the modules go.work uses (the core and
// the modules split from it), from go work edit -json.
func workspaceModules(t *testing.T, root string) map[string]bool {
	t.Helper()
	cmd := exec.Command("go", "work", "edit", "-json")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go work edit -json: %v", err)
	}
	var w struct{ Use []struct{ DiskPath string } }
	if err := json.Unmarshal(out, &w); err != nil {
		t.Fatal(err)
	}
	dirs := map[string]bool{}
	for _, u := range w.Use {
		dirs[filepath.Join(root, u.DiskPath)] = true
	}
	return dirs
}

// packageDirs lists every directory holding non-test Go files in the modules of the
// workspace, skipping testdata, hidden directories and modules outside go.work (tools
// built for the tests, the footprint consumer).
func packageDirs(t *testing.T, root string) []string {
	t.Helper()
	modules := workspaceModules(t, root)
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			if p != root {
				if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil && !modules[p] {
					return filepath.SkipDir // a module outside the workspace, such as tools/jaeger
				}
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			seen[filepath.Dir(p)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for d := range seen {
		dirs = append(dirs, d)
	}
	return dirs
}

// TestEveryPackageHasDoc fails for a package without a doc.go carrying its package
// comment, and for an exported name without a doc comment.
func TestEveryPackageHasDoc(t *testing.T) {
	root := moduleRoot(t)
	for _, dir := range packageDirs(t, root) {
		rel, _ := filepath.Rel(root, dir)
		fset := token.NewFileSet()
		pkgs, err := parsePackages(fset, dir)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		for _, pkg := range pkgs {
			doc, ok := pkg.files[filepath.Join(dir, "doc.go")]
			if !ok {
				t.Errorf("%s: package %s has no doc.go", rel, pkg.name)
			} else if doc.Doc == nil || len(strings.TrimSpace(doc.Doc.Text())) < 20 {
				t.Errorf("%s: doc.go has no package comment (or one too short to say anything)", rel)
			}
			if pkg.name == "main" {
				continue // commands document themselves in their package comment
			}
			for name, f := range pkg.files {
				for _, miss := range undocumented(f) {
					pos := fset.Position(miss.Pos())
					t.Errorf("%s:%d: exported %s has no doc comment", filepath.Join(rel, filepath.Base(name)), pos.Line, miss.Name)
				}
			}
		}
	}
}

type parsedPackage struct {
	name  string
	files map[string]*ast.File
}

// parsePackages parses the non-test Go files of dir, grouped by package name.
func parsePackages(fset *token.FileSet, dir string) (map[string]*parsedPackage, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	pkgs := map[string]*parsedPackage{}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		path := filepath.Join(dir, n)
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		p := pkgs[f.Name.Name]
		if p == nil {
			p = &parsedPackage{name: f.Name.Name, files: map[string]*ast.File{}}
			pkgs[f.Name.Name] = p
		}
		p.files[path] = f
	}
	return pkgs, nil
}

// undocumented returns the exported top-level names of f that have no doc comment:
// functions, methods on exported types, types, and constants and variables outside a
// documented group.
func undocumented(f *ast.File) []*ast.Ident {
	var out []*ast.Ident
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() || d.Doc != nil {
				continue
			}
			if d.Recv != nil && !exportedRecv(d.Recv) {
				continue
			}
			out = append(out, d.Name)
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() && s.Doc == nil && d.Doc == nil {
						out = append(out, s.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() && s.Doc == nil && s.Comment == nil && d.Doc == nil {
							out = append(out, n)
						}
					}
				}
			}
		}
	}
	return out
}

func exportedRecv(fl *ast.FieldList) bool {
	if len(fl.List) == 0 {
		return false
	}
	t := fl.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}

// TestEveryPackageHasExample fails for a library package (not a command, not under
// internal/, and exporting something) without a runnable Example function in its tests.
func TestEveryPackageHasExample(t *testing.T) {
	root := moduleRoot(t)
	for _, dir := range packageDirs(t, root) {
		rel, _ := filepath.Rel(root, dir)
		if strings.HasPrefix(rel, "internal") || strings.HasPrefix(rel, "bench") || strings.Contains(rel, string(filepath.Separator)+"internal") {
			continue
		}
		fset := token.NewFileSet()
		pkgs, err := parsePackages(fset, dir)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		exports := false
		for _, pkg := range pkgs {
			if pkg.name == "main" {
				continue
			}
			for _, f := range pkg.files {
				for _, d := range f.Decls {
					if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.IsExported() {
						exports = true
					}
					if gd, ok := d.(*ast.GenDecl); ok {
						for _, sp := range gd.Specs {
							if ts, ok := sp.(*ast.TypeSpec); ok && ts.Name.IsExported() {
								exports = true
							}
						}
					}
				}
			}
		}
		if !exports {
			continue
		}
		tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		found := false
		for _, tf := range tests {
			f, err := parser.ParseFile(fset, tf, nil, parser.SkipObjectResolution)
			if err != nil {
				continue
			}
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Example") {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: no runnable Example function shows the package's main use", rel)
		}
	}
}

const module = "github.com/paved-road/paved"

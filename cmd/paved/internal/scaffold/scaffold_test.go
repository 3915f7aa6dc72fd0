package scaffold_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paved-road/paved/cmd/paved/internal/scaffold"
)

// templates is the command's template directory, as the binary embeds it.
var templates = os.DirFS("../../templates")

func TestComponentName(t *testing.T) {
	tests := []struct{ module, want string }{
		{"github.com/acme/orders", "orders"},
		{"github.com/acme/Shop_API", "shop-api"},
		{"github.com/acme/orders/v2", "orders"},
		{"example.com/x/--weird..name--", "weird-name"},
		{"orders", "orders"},
		{"example.com/" + strings.Repeat("a", 70), strings.Repeat("a", 63)},
	}
	for _, tt := range tests {
		if got, err := scaffold.ComponentName(tt.module); err != nil || got != tt.want {
			t.Errorf("ComponentName(%q): got %q, %v, want %q", tt.module, got, err, tt.want)
		}
	}
	if _, err := scaffold.ComponentName("example.com/___"); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("ComponentName of an element without letters: got %v, want an error suggesting --name", err)
	}
}

// TestValidateNamesEachProblem: every invalid input is named, with what would be valid.
func TestValidateNamesEachProblem(t *testing.T) {
	tests := []struct {
		p    scaffold.Params
		want []string
	}{
		{scaffold.Params{Owner: "team-a"}, []string{"module path is required"}},
		{scaffold.Params{Module: "github.com/acme/has space", Owner: "team-a"}, []string{`module path "github.com/acme/has space" is not valid`}},
		{scaffold.Params{Module: "github.com/acme/orders/v1", Owner: "team-a"}, []string{"major version"}},
		{scaffold.Params{Module: "github.com/acme/orders"}, []string{"--owner is required"}},
		{scaffold.Params{Module: "github.com/acme/orders", Owner: "Team A"}, []string{`--owner "Team A" is not a DNS label`}},
		{scaffold.Params{Module: "github.com/acme/orders", Owner: "team-a", Name: "-x-"}, []string{`--name "-x-" is not a DNS label`}},
		{scaffold.Params{Module: "github.com/acme/orders", Owner: "team-a", PavedReplace: t.TempDir()}, []string{"--paved-replace", "not a Paved checkout"}},
		{scaffold.Params{Module: "x y", Owner: "A"}, []string{"module path", "--owner"}},
	}
	for _, tt := range tests {
		err := tt.p.Validate()
		for _, w := range tt.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%+v): got %v, want mention of %q", tt.p, err, w)
			}
		}
	}
}

func TestRenderFillsTheTemplate(t *testing.T) {
	root, ok := scaffold.FindPavedRoot()
	if !ok {
		t.Fatal("FindPavedRoot: got false, want the checkout these tests run in")
	}
	files, err := scaffold.Render(templates, "hello", scaffold.Params{Module: "github.com/acme/shop-api", Owner: "team-shop", PavedReplace: root})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	if got, want := strings.Join(names, " "), ".dockerignore Dockerfile README.md catalog-info.yaml doc.go go.mod info.go main.go main_test.go setup.go"; got != want {
		t.Errorf("files: got %s, want %s", got, want)
	}
	for name, want := range map[string][]string{
		"go.mod":            {"module github.com/acme/shop-api", "go 1.26", "require github.com/paved-road/paved v0.0.0-00010101000000-000000000000", "replace github.com/paved-road/paved => " + root},
		"main.go":           {"service.Main(info, setup, service.WithOTelExport(otelexport.Signals()))"},
		"info.go":           {`Name:        "shop-api"`, `Owner:       "team-shop"`, `Repository: "https://github.com/acme/shop-api"`},
		"main_test.go":      {`got.Name != "shop-api"`},
		"catalog-info.yaml": {`name: "shop-api"`, `owner: "group:team-shop"`, `lifecycle: "experimental"`},
		"README.md":         {"# shop-api", "`team-shop`"},
	} {
		for _, w := range want {
			if !strings.Contains(string(files[name]), w) {
				t.Errorf("%s: got\n%s\nwant it to contain %q", name, files[name], w)
			}
		}
	}
	if _, err := scaffold.Render(templates, "nope", scaffold.Params{Module: "example.com/a", Owner: "t"}); err == nil || !strings.Contains(err.Error(), "hello") {
		t.Errorf("unknown template: got %v, want an error listing hello", err)
	}
}

// TestDescriptionCannotBreakTheCode: values land in Go string literals, quoted.
func TestDescriptionCannotBreakTheCode(t *testing.T) {
	files, err := scaffold.Render(templates, "hello", scaffold.Params{Module: "example.com/a", Owner: "t", Description: `says "hi"` + "`; panic(1)"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Description: \"says \\\"hi\\\"`; panic(1)\","; !strings.Contains(string(files["info.go"]), want) {
		t.Errorf("info.go: got\n%s\nwant %s", files["info.go"], want)
	}
}

// TestHelloTemplateMatchesExample fails when the template's service code and
// examples/hello drift apart: rendered for hello, main.go and setup.go must equal the
// example's, and info.go too but for the Info block.
func TestHelloTemplateMatchesExample(t *testing.T) {
	root, _ := scaffold.FindPavedRoot()
	files, err := scaffold.Render(templates, "hello", scaffold.Params{Module: "example.com/hello", Owner: "team-platform"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"main.go", "setup.go", "info.go"} {
		example, err := os.ReadFile(filepath.Join(root, "examples", "hello", name))
		if err != nil {
			t.Fatal(err)
		}
		got, want := string(files[name]), string(example)
		if name == "info.go" {
			got, want = withoutInfo(t, got), withoutInfo(t, want)
		}
		if got != want {
			t.Errorf("templates/hello/%s.tmpl and examples/hello/%s differ:\n--- template\n%s\n--- example\n%s", name, name, got, want)
		}
	}
}

// TestNewServiceScoresOnCallAndRegistry: the on-call link is set (a marked placeholder
// by default, or --on-call), and --registry etcd writes the backend's import, its
// option in main and its module in go.mod, replaced with the checkout's directory.
func TestNewServiceScoresOnCallAndRegistry(t *testing.T) {
	root, _ := scaffold.FindPavedRoot()
	files, err := scaffold.Render(templates, "hello", scaffold.Params{Module: "example.com/a/shop", Owner: "team-shop", PavedReplace: root})
	if err != nil {
		t.Fatal(err)
	}
	info := string(files["info.go"])
	if !strings.Contains(info, `"https://oncall.example.com/team-shop",`) || !strings.Contains(info, "A placeholder: replace it") {
		t.Errorf("info.go: got\n%s\nwant a marked on-call placeholder", info)
	}
	if n := strings.Count(string(files["main.go"]), "\n"); n > 25 {
		t.Errorf("main.go has %d lines, want at most 25:\n%s", n, files["main.go"])
	}
	files, err = scaffold.Render(templates, "hello", scaffold.Params{Module: "example.com/a/shop", Owner: "team-shop",
		PavedReplace: root, OnCall: "https://pager.acme.dev/shop", Registry: "etcd"})
	if err != nil {
		t.Fatal(err)
	}
	if info := string(files["info.go"]); !strings.Contains(info, `"https://pager.acme.dev/shop"`) || strings.Contains(info, "placeholder") {
		t.Errorf("info.go: got\n%s\nwant the given on-call link, no placeholder note", info)
	}
	main := string(files["main.go"])
	for _, want := range []string{`"github.com/paved-road/paved/discovery/etcd"`, "service.Main(info, setup, service.WithRegistryBackend(etcd.Backend()), service.WithOTelExport(otelexport.Signals()))"} {
		if !strings.Contains(main, want) {
			t.Errorf("main.go: got\n%s\nwant %s", main, want)
		}
	}
	gomod := string(files["go.mod"])
	for _, want := range []string{"github.com/paved-road/paved/discovery/etcd v0.0.0-00010101000000-000000000000",
		"github.com/paved-road/paved/discovery/etcd => " + filepath.Join(root, "discovery", "etcd")} {
		if !strings.Contains(gomod, want) {
			t.Errorf("go.mod: got\n%s\nwant %s", gomod, want)
		}
	}
	for _, bad := range []scaffold.Params{
		{Module: "example.com/a/shop", Owner: "team-shop", Registry: "zookeeper"},
		{Module: "example.com/a/shop", Owner: "team-shop", OnCall: "pager"},
	} {
		if _, err := scaffold.Render(templates, "hello", bad); err == nil {
			t.Errorf("Render(%+v): got nil error, want one naming the flag", bad)
		}
	}
}

// withoutInfo cuts the `var info = service.Info{...}` block out of src.
func withoutInfo(t *testing.T, src string) string {
	t.Helper()
	start := strings.Index(src, "var info = service.Info{")
	end := strings.Index(src[max(start, 0):], "\n}\n")
	if start < 0 || end < 0 {
		t.Fatalf("no Info block in\n%s", src)
	}
	return src[:start] + src[start+end+3:]
}

// TestWriteRefusesNonEmptyDir: nothing is written into a directory that holds files.
func TestWriteRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := scaffold.Write(dir, map[string][]byte{"main.go": []byte("package main\n")})
	if !errors.Is(err, scaffold.ErrNotEmpty) || !strings.Contains(err.Error(), "keep.txt") {
		t.Errorf("got %v, want ErrNotEmpty naming keep.txt", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("entries after refusal: got %d, want 1", len(entries))
	}
	file := filepath.Join(dir, "keep.txt")
	if err := scaffold.Write(file, map[string][]byte{"main.go": nil}); !errors.Is(err, scaffold.ErrNotEmpty) || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("a file as the directory: got %v, want ErrNotEmpty saying it is a file", err)
	}
}

// TestWriteCleansUpOnFailure: a failed write leaves no half-written service behind.
func TestWriteCleansUpOnFailure(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "svc")
	// "a" as a file, then "a/b" needs "a" as a directory: the second write fails.
	err := scaffold.Write(dir, map[string][]byte{"a": []byte("x"), "a/b": []byte("y")})
	if err == nil {
		t.Fatal("got nil, want an error")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat %s after failure: got %v, want it gone", dir, err)
	}
	// In an existing empty directory, the directory stays and is empty again.
	empty := t.TempDir()
	if err := scaffold.Write(empty, map[string][]byte{"a": []byte("x"), "a/b": []byte("y")}); err == nil {
		t.Fatal("got nil, want an error")
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("entries after failure: got %d, want 0", len(entries))
	}
}

func TestTemplatesListsDirectories(t *testing.T) {
	if got := scaffold.Templates(templates); !slices.Contains(got, "hello") {
		t.Errorf("got %v, want hello among them", got)
	}
}

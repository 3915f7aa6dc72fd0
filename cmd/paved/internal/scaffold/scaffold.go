package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	"github.com/paved-road/paved/catalog"
)

// PavedModule is the module path of Paved, which every generated service requires.
const PavedModule = "github.com/paved-road/paved"

// unpublishedVersion is the version a go.mod requires for a module replaced by a
// directory.
const unpublishedVersion = "v0.0.0-00010101000000-000000000000"

// ErrNotEmpty is returned by [Write] for a directory that already holds files, or a
// path that is a file.
var ErrNotEmpty = errors.New("scaffold: not an empty directory")

// Params fills in a template.
type Params struct {
	// Module is the new module's path, such as github.com/acme/orders. Required.
	Module string
	// Name is the component name, a DNS label. Empty means derived from the last
	// element of Module (see [ComponentName]).
	Name string
	// Owner is the owning team, a DNS label. Required.
	Owner string
	// Description says in a sentence what the service does. Empty means a sentence
	// naming the service, to be replaced.
	Description string
	// PavedReplace, when set, is the directory of a Paved checkout the go.mod replaces
	// the Paved module with (Paved is not published yet). Made absolute.
	PavedReplace string
	// PavedVersion is the Paved version the go.mod requires. Empty means the
	// placeholder version a replaced module takes; without PavedReplace it means no
	// require line (go mod tidy adds one).
	PavedVersion string
	// OnCall is the http(s) URL of the owning team's on-call rota, for
	// Info.Links.OnCall. Empty means a placeholder under oncall.example.com that
	// passes the compliance rule and is marked in the code to be replaced.
	OnCall string
	// Registry is the registry backend the service links in: "" or "catalog" (built
	// in), "etcd" or "consul", whose module the go.mod then requires and whose
	// service.WithRegistryBackend line the main holds.
	Registry string
}

// Registries are the values Params.Registry takes.
var registries = []string{"catalog", "etcd", "consul"}

// Data is what a template's *.tmpl files see.
type Data struct {
	Module              string            // module path
	Name                string            // component name
	Owner               string            // owning team
	Description         string            // one sentence
	Tier                int               // 1 to 4
	Lifecycle           string            // experimental
	Links               catalog.Links     // repository, runbook (when derivable) and on-call
	OnCallIsPlaceholder bool              // Links.OnCall is the placeholder, to be replaced
	Registry            string            // "etcd" or "consul" when a backend is linked in; else empty
	Labels              map[string]string // none by default
}

// ComponentName derives a component name from a module path: its last element without
// a major-version suffix, lower-cased, with every run of characters other than letters
// and digits made one '-', trimmed to 63 characters.
func ComponentName(modulePath string) (string, error) {
	prefix, _, ok := module.SplitPathVersion(modulePath)
	if !ok {
		prefix = modulePath
	}
	last := path.Base(prefix)
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(last) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.TrimRight(b.String(), "-")
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	if !catalog.IsDNSLabel(name) {
		return "", fmt.Errorf("scaffold: cannot make a component name (a DNS label) of %q, the last element of %q; pass --name", last, modulePath)
	}
	return name, nil
}

// Validate checks p and fills in the derived fields: Name, Description, an absolute
// PavedReplace. Every problem is named with its flag.
func (p *Params) Validate() error {
	var errs []error
	if p.Module == "" {
		errs = append(errs, errors.New("module path is required, such as github.com/acme/orders"))
	} else if err := module.CheckImportPath(p.Module); err != nil {
		errs = append(errs, fmt.Errorf("module path %q is not valid: %w", p.Module, err))
	} else if _, _, ok := module.SplitPathVersion(p.Module); !ok {
		errs = append(errs, fmt.Errorf("module path %q has an invalid major version suffix; use /v2 or higher, or none", p.Module))
	}
	if p.Name == "" && len(errs) == 0 {
		name, err := ComponentName(p.Module)
		if err != nil {
			errs = append(errs, err)
		}
		p.Name = name
	} else if p.Name != "" && !catalog.IsDNSLabel(p.Name) {
		errs = append(errs, fmt.Errorf("--name %q is not a DNS label: %s", p.Name, catalog.DNSLabelRule))
	}
	if p.Owner == "" {
		errs = append(errs, errors.New("--owner is required: the team that owns the service, such as team-payments"))
	} else if !catalog.IsDNSLabel(p.Owner) {
		errs = append(errs, fmt.Errorf("--owner %q is not a DNS label: %s", p.Owner, catalog.DNSLabelRule))
	}
	if p.Description == "" && p.Name != "" {
		p.Description = fmt.Sprintf("%s is a Paved service (say here in a sentence what it does).", p.Name)
	}
	if len(p.Description) > catalog.MaxDescriptionLength || strings.ContainsAny(p.Description, "\n\r") {
		errs = append(errs, fmt.Errorf("--description must be one line of at most %d characters", catalog.MaxDescriptionLength))
	}
	if p.OnCall != "" {
		if u, err := url.Parse(p.OnCall); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--on-call %q must be the http or https URL of the team's on-call rota, such as https://oncall.example.com/team-a", p.OnCall))
		}
	}
	if p.Registry != "" && !slices.Contains(registries, p.Registry) {
		errs = append(errs, fmt.Errorf("--registry %q is not a registry backend: use %s", p.Registry, strings.Join(registries, ", ")))
	}
	if p.PavedReplace != "" {
		abs, err := filepath.Abs(p.PavedReplace)
		if err == nil {
			p.PavedReplace = abs
			err = checkPavedRoot(abs)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--paved-replace %q: %w", p.PavedReplace, err))
		}
	}
	return errors.Join(errs...)
}

// checkPavedRoot reports whether dir holds the Paved module's go.mod.
func checkPavedRoot(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("not a Paved checkout: %w", err)
	}
	if got := modfile.ModulePath(b); got != PavedModule {
		return fmt.Errorf("not a Paved checkout: its go.mod declares module %q, want %q", got, PavedModule)
	}
	return nil
}

// FindPavedRoot returns the Paved checkout this program was built from, when its
// source is still where it was compiled (a `go build` or `go install` from a
// checkout, without -trimpath).
func FindPavedRoot() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if checkPavedRoot(dir) == nil {
			return dir, true
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

// Templates lists the templates in fsys: its top-level directories.
func Templates(fsys fs.FS) []string {
	entries, _ := fs.ReadDir(fsys, ".")
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// Render validates p and renders the template named name from fsys: every file under
// the template's directory, *.tmpl ones executed with [Data] and stripped of the
// suffix (Go files formatted with go/format), plus go.mod and catalog-info.yaml. It returns the files by slash-separated
// path.
func Render(fsys fs.FS, name string, p Params) (map[string][]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if !slices.Contains(Templates(fsys), name) {
		return nil, fmt.Errorf("--template %q is not a template; have %s", name, strings.Join(Templates(fsys), ", "))
	}
	d := Data{Module: p.Module, Name: p.Name, Owner: p.Owner, Description: p.Description, Tier: 3, Lifecycle: string(catalog.LifecycleExperimental)}
	if first, _, _ := strings.Cut(p.Module, "/"); strings.Contains(first, ".") {
		d.Links.Repository = "https://" + p.Module
		d.Links.Runbook = "https://" + p.Module + "#runbook"
	}
	d.Links.OnCall = p.OnCall
	if d.Links.OnCall == "" {
		d.Links.OnCall, d.OnCallIsPlaceholder = "https://oncall.example.com/"+p.Owner, true
	}
	if p.Registry != "catalog" {
		d.Registry = p.Registry
	}
	funcs := template.FuncMap{"quote": strconv.Quote}
	files := map[string][]byte{}
	sub, err := fs.Sub(fsys, name)
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(sub, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		out, isTmpl := strings.CutSuffix(p, ".tmpl")
		if isTmpl {
			t, err := template.New(p).Funcs(funcs).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, d); err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			b = buf.Bytes()
			if strings.HasSuffix(out, ".go") {
				if b, err = format.Source(b); err != nil {
					return fmt.Errorf("template %s renders invalid Go: %w", p, err)
				}
			}
		}
		files[out] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	gomod, err := goMod(p, name)
	if err != nil {
		return nil, err
	}
	files["go.mod"] = gomod
	c := catalog.Component{Name: d.Name, Owner: d.Owner, Description: d.Description, Tier: d.Tier,
		Lifecycle: catalog.Lifecycle(d.Lifecycle), Links: d.Links}.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	files["catalog-info.yaml"] = catalog.BackstageYAML(c)
	return files, nil
}

// templateModules lists, per template, the Paved modules other than the core its code
// imports (paths below PavedModule), released with the core and replaced like it.
var templateModules = map[string][]string{
	"orders":   {"transport/messaging/natsjs"},
	"consumer": {"transport/messaging/natsjs"},
}

// templateRequires lists, per template, third-party modules its go.mod pins: the NATS
// server its tests run in process, at the version Paved is tested with (go mod tidy
// would take the newest).
var templateRequires = map[string][][2]string{
	"consumer": {{"github.com/nats-io/nats-server/v2", "v2.15.3"}},
}

// goMod writes the new module's go.mod for the template named tmpl.
func goMod(p Params, tmpl string) ([]byte, error) {
	f := new(modfile.File)
	if err := f.AddModuleStmt(p.Module); err != nil {
		return nil, err
	}
	if err := f.AddGoStmt("1.26"); err != nil {
		return nil, err
	}
	version := p.PavedVersion
	if version == "" && p.PavedReplace != "" {
		version = unpublishedVersion
	}
	if version != "" {
		if err := f.AddRequire(PavedModule, version); err != nil {
			return nil, err
		}
	}
	if p.PavedReplace != "" {
		if err := f.AddReplace(PavedModule, "", p.PavedReplace, ""); err != nil {
			return nil, err
		}
	}
	var sub []string
	if p.Registry == "etcd" || p.Registry == "consul" {
		sub = append(sub, "discovery/"+p.Registry)
	}
	for _, m := range append(sub, templateModules[tmpl]...) {
		// A backend or binding is a module of its own, released with the core.
		mod := PavedModule + "/" + m
		if version != "" {
			if err := f.AddRequire(mod, version); err != nil {
				return nil, err
			}
		}
		if p.PavedReplace != "" {
			if err := f.AddReplace(mod, "", filepath.Join(p.PavedReplace, filepath.FromSlash(m)), ""); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range templateRequires[tmpl] {
		if err := f.AddRequire(r[0], r[1]); err != nil {
			return nil, err
		}
	}
	return modfile.Format(f.Syntax), nil
}

// Write writes files (by slash-separated path) into dir, creating it when missing. It
// refuses, writing nothing, when dir exists and is not an empty directory; when a write
// fails it removes what it wrote.
func Write(dir string, files map[string][]byte) (err error) {
	entries, rerr := os.ReadDir(dir)
	created := false
	switch {
	case errors.Is(rerr, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		created = true
	case rerr != nil:
		if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
			return fmt.Errorf("%w: %s is a file; choose another --dir", ErrNotEmpty, dir)
		}
		return fmt.Errorf("--dir %q: %w", dir, rerr)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s holds %d entries (such as %s); choose another --dir or remove them", ErrNotEmpty, dir, len(entries), entries[0].Name())
	}
	var written []string
	defer func() {
		if err == nil {
			return
		}
		if created {
			os.RemoveAll(dir)
			return
		}
		for _, p := range slices.Backward(written) {
			os.Remove(p)
		}
	}()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if d := filepath.Dir(p); d != dir {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			written = append(written, d)
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
		written = append(written, p)
	}
	return nil
}

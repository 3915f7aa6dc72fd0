package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/mod/module"

	"github.com/paved-road/paved/cmd/paved/internal/check"
	"github.com/paved-road/paved/cmd/paved/internal/export"
	"github.com/paved-road/paved/cmd/paved/internal/scaffold"
)

// Exit codes.
const (
	exitOK    = 0 // success: compliant and every probe passed, files written
	exitFail  = 1 // the check failed, or the service's data is unusable
	exitUsage = 2 // bad arguments, bad URL, unreachable service
)

// templateFiles holds the service templates, one directory each.
//
//go:embed all:templates
var templateFiles embed.FS

const usage = `paved: the Paved command-line tool.

Usage:
  paved check <admin-url> [--public-url URL] [--format text|json] [--min-score N] [--timeout D] [--wait D]
  paved new <module-path> [--template hello|orders|consumer] [--dir D] [--name NAME] [--owner TEAM] [--description S] [--paved-replace DIR]
  paved check --manifests DIR [--config-reference FILE]... [--probe-wait D] [--format text|json]
  paved new <module-path> ... [--kubernetes] [--image REF]
  paved export [--format backstage|compass|both] [--out DIR] <admin-url>
  paved manifests --name NAME --image REF [--env NAME=VALUE]... [--out DIR] (see paved manifests -h)
  paved api check --against CATALOG_URL (--admin ADMIN_URL | --file NAME=PATH...) (see paved api -h)

Exit codes: 0 success, 1 check failed, 2 usage error or service unreachable.
Run "paved <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "new":
		return runNew(args[1:], stdout, stderr)
	case "export":
		return runExport(ctx, args[1:], stdout, stderr)
	case "manifests":
		return runManifests(args[1:], stdout, stderr)
	case "api":
		return runAPI(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "paved: unknown command %q; want check, new, export, manifests or api\n\n%s", args[0], usage)
	return exitUsage
}

// parse parses flags placed before or after the positional arguments and returns the
// positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// flagExit is the exit code for a flag parsing error: 0 for -h, which printed the
// flags, else exitUsage (the flag package printed the problem).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("paved "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// usageError prints a usage error and returns exitUsage.
func usageError(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "paved %s: %v\n", cmd, err)
	return exitUsage
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr)
	var opts check.Options
	fs.StringVar(&opts.PublicURL, "public-url", "", "public base URL to probe (default: addresses.http from /info)")
	format := fs.String("format", "text", "report format: text or json")
	fs.IntVar(&opts.MinScore, "min-score", 0, "fail below this compliance score, 0 to 100")
	fs.DurationVar(&opts.Timeout, "timeout", check.DefaultTimeout, "bound on the whole check")
	fs.DurationVar(&opts.Wait, "wait", 0, "keep asking this long while /readyz or /compliance answer 503")
	mf := manifestCheckFlags(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if mf.dir != "" {
		return runManifestCheck(mf, pos, *format, stdout, stderr)
	}
	if len(pos) != 1 {
		return usageError(stderr, "check", fmt.Errorf("want one admin URL, such as http://127.0.0.1:9090, got %d arguments", len(pos)))
	}
	if *format != "text" && *format != "json" {
		return usageError(stderr, "check", fmt.Errorf("--format must be text or json, got %q", *format))
	}
	opts.AdminURL = pos[0]
	res, err := check.Run(ctx, opts)
	if err != nil {
		return usageError(stderr, "check", err)
	}
	if *format == "json" {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "paved check: writing the report: %v\n", err)
		return exitFail
	}
	if !res.Passed {
		return exitFail
	}
	return exitOK
}

func runNew(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("new", stderr)
	var p scaffold.Params
	tmpl := fs.String("template", "hello", "template: "+strings.Join(scaffold.Templates(templates()), ", "))
	dir := fs.String("dir", "", "directory to write into, empty or missing (default: ./<name>)")
	fs.StringVar(&p.Name, "name", "", "component name, a DNS label (default: the module path's last element)")
	fs.StringVar(&p.Owner, "owner", "", "owning team, a DNS label (required)")
	fs.StringVar(&p.Description, "description", "", "one sentence saying what the service does")
	fs.StringVar(&p.OnCall, "on-call", "", "http(s) URL of the owning team's on-call rota (default: a marked placeholder to replace)")
	fs.StringVar(&p.Registry, "registry", "", "registry backend to link in: catalog (built in, the default), etcd or consul")
	fs.StringVar(&p.PavedReplace, "paved-replace", "", "Paved checkout the go.mod replaces the Paved module with (default: the checkout this paved was built from, if any)")
	kube := fs.Bool("kubernetes", false, "also write deploy/, the service's Kubernetes manifests (paved manifests)")
	image := fs.String("image", "", "with --kubernetes: the container image (default: registry.example.com/<name>:0.1.0)")
	pos, err := parse(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		return usageError(stderr, "new", fmt.Errorf("want one module path, such as github.com/acme/orders, got %d arguments", len(pos)))
	}
	p.Module = pos[0]
	if p.PavedReplace == "" && develBuild() {
		if root, ok := scaffold.FindPavedRoot(); ok {
			p.PavedReplace = root
			fmt.Fprintf(stderr, "paved new: Paved is not published; replacing it with the checkout this paved was built from, %s\n", root)
		}
	}
	if p.PavedReplace == "" {
		p.PavedVersion = pavedVersion()
	}
	files, err := scaffold.Render(templates(), *tmpl, p)
	if err != nil {
		return usageError(stderr, "new", err)
	}
	if err := p.Validate(); err != nil { // fills in the derived name
		return usageError(stderr, "new", err)
	}
	if *dir == "" {
		*dir = p.Name
	}
	if *kube {
		if err := addManifests(files, p.Name, *image); err != nil {
			return usageError(stderr, "new", err)
		}
	}
	if err := scaffold.Write(*dir, files); err != nil {
		if errors.Is(err, scaffold.ErrNotEmpty) {
			return usageError(stderr, "new", err)
		}
		fmt.Fprintf(stderr, "paved new: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "wrote %s (%s, owner %s) into %s from template %s\n\nnext:\n  cd %s\n  go mod tidy\n  go test ./...\n  go run .\n",
		p.Module, p.Name, p.Owner, *dir, *tmpl, *dir)
	return exitOK
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("export", stderr)
	format := fs.String("format", export.FormatBoth, "descriptor: backstage (catalog-info.yaml), compass (compass.yml) or both")
	out := fs.String("out", ".", "directory to write the descriptors into")
	timeout := fs.Duration("timeout", 10*time.Second, "bound on reading /info")
	pos, err := parse(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		return usageError(stderr, "export", fmt.Errorf("want one admin URL, such as http://127.0.0.1:9090, got %d arguments", len(pos)))
	}
	admin, err := check.ParseBaseURL("admin-url", pos[0])
	if err != nil {
		return usageError(stderr, "export", err)
	}
	if err := export.CheckFormat(*format); err != nil {
		return usageError(stderr, "export", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	info, err := export.FetchInfo(ctx, client, admin.String())
	if err != nil {
		if errors.Is(err, export.ErrUnreachable) {
			return usageError(stderr, "export", fmt.Errorf("admin URL %s: %w; is the service running and is this its admin address (ADMIN_ADDR)?", admin, err))
		}
		fmt.Fprintf(stderr, "paved export: %v\n", err)
		return exitFail
	}
	c, err := export.Component(info)
	if err != nil {
		fmt.Fprintf(stderr, "paved export: the service's Info is not a valid catalog component: %v\n", err)
		return exitFail
	}
	files, _ := export.Files(c, *format)
	paths, err := export.Write(*out, files)
	if err != nil {
		fmt.Fprintf(stderr, "paved export: %v\n", err)
		return exitFail
	}
	for _, p := range paths {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Clean(p))
	}
	return exitOK
}

// templates returns the embedded templates, one directory each.
func templates() fs.FS {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err) // the directory is embedded: unreachable
	}
	return sub
}

// develBuild reports whether this binary was built from a checkout rather than
// installed at a released version.
func develBuild() bool { return pavedVersion() == "" }

// pavedVersion is the released version of the Paved core this binary was built with
// (its dependency on github.com/paved-road/paved, so the version a new service should
// require), or "" when that is not a published version: a workspace or replaced build
// ("(devel)", or a dependency with a replace), or a pseudo-version of a commit stamped
// from a checkout, which the module proxy has never seen.
func pavedVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	return pavedVersionOf(bi)
}

// pavedVersionOf is pavedVersion for the build information bi.
func pavedVersionOf(bi *debug.BuildInfo) string {
	for _, d := range bi.Deps {
		if d.Path != scaffold.PavedModule {
			continue
		}
		if d.Replace != nil || d.Version == "" || d.Version == "(devel)" || module.IsPseudoVersion(d.Version) {
			return ""
		}
		return d.Version
	}
	return ""
}

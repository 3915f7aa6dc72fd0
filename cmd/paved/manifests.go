package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paved-road/paved/cmd/paved/internal/manifests"
	"github.com/paved-road/paved/health"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// manifestFlags are the flags of paved check --manifests.
type manifestFlags struct {
	dir       string
	refs      listFlag
	probeWait time.Duration
}

func manifestCheckFlags(fs *flag.FlagSet) *manifestFlags {
	mf := &manifestFlags{}
	fs.StringVar(&mf.dir, "manifests", "", "check the Kubernetes manifests under DIR against the service's settings, instead of a running service")
	fs.Var(&mf.refs, "config-reference", "with --manifests: a Markdown configuration reference (service.WriteConfigReference) listing the service's own variables; repeatable")
	fs.DurationVar(&mf.probeWait, "probe-wait", health.DefaultProbeWait, "with --manifests: the service's health.Options.ProbeWait")
	return mf
}

// readReferences reads the variables of each configuration reference.
func readReferences(paths []string) ([]string, error) {
	var names []string
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("--config-reference: %w", err)
		}
		n, err := manifests.ReadReference(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--config-reference %s: %w", p, err)
		}
		if len(n) == 0 {
			return nil, fmt.Errorf("--config-reference %s holds no configuration table (rows such as | `GREETING` | string | ..., as service.WriteConfigReference writes them)", p)
		}
		names = append(names, n...)
	}
	return names, nil
}

// runManifestCheck is paved check --manifests DIR.
func runManifestCheck(mf *manifestFlags, pos []string, format string, stdout, stderr io.Writer) int {
	if len(pos) != 0 {
		return usageError(stderr, "check", fmt.Errorf("--manifests takes no admin URL, got %q", pos))
	}
	if format != "text" && format != "json" {
		return usageError(stderr, "check", fmt.Errorf("--format must be text or json, got %q", format))
	}
	if mf.probeWait <= 0 {
		return usageError(stderr, "check", fmt.Errorf("--probe-wait must be positive, got %v", mf.probeWait))
	}
	known, err := readReferences(mf.refs)
	if err != nil {
		return usageError(stderr, "check", err)
	}
	if fi, err := os.Stat(mf.dir); err != nil || !fi.IsDir() {
		return usageError(stderr, "check", fmt.Errorf("--manifests %q is not a directory", mf.dir))
	}
	docs, err := manifests.ReadDir(os.DirFS(mf.dir))
	if err != nil {
		fmt.Fprintf(stderr, "paved check: %v\n", err)
		return exitFail
	}
	r, err := manifests.Check(mf.dir, docs, manifests.CheckOptions{Known: known, ProbeWait: mf.probeWait})
	if err != nil {
		fmt.Fprintf(stderr, "paved check: %v\n", err)
		return exitFail
	}
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "paved check: writing the report: %v\n", err)
		return exitFail
	}
	if !r.Passed {
		return exitFail
	}
	return exitOK
}

// runManifests is paved manifests: the Kubernetes manifests of a service, from its
// settings.
func runManifests(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("manifests", stderr)
	var p manifests.Params
	var env, secretFiles, refs listFlag
	fs.StringVar(&p.Name, "name", "", "component name, a DNS label (required)")
	fs.StringVar(&p.Image, "image", "", "container image, such as registry.example.com/hello:1.0.0 (required)")
	fs.StringVar(&p.Namespace, "namespace", "", "namespace of every object (default: none, kubectl's context decides)")
	fs.IntVar(&p.Replicas, "replicas", 0, "replicas (default 3, or 1 with --data)")
	fs.Var(&env, "env", "a variable of the service, NAME=VALUE, or NAME=secret:SECRET:KEY to read it from a Secret; repeatable")
	fs.Var(&secretFiles, "secret-file", "VARIABLE=SECRET:KEY mounts a Secret's key as a file and sets VARIABLE to its path; repeatable")
	fs.StringVar(&p.DataDir, "data", "", "mount a PersistentVolumeClaim at this path (one replica, Recreate strategy)")
	fs.StringVar(&p.DataSize, "data-size", manifests.DefaultDataSize, "size of the --data claim")
	fs.StringVar(&p.MonitoringNamespace, "monitoring-namespace", manifests.DefaultMonitoringNamespace, "namespace whose pods may scrape the admin port")
	fs.StringVar(&p.NodeCIDR, "node-cidr", "", "nodes' address range, let in to the admin port for the kubelet's probes where the network plugin needs a rule")
	fs.Var(&refs, "config-reference", "a Markdown configuration reference listing the service's own variables; repeatable")
	out := fs.String("out", "", "directory to write one file an object into (default: one YAML stream on stdout)")
	pos, err := parse(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 0 {
		return usageError(stderr, "manifests", fmt.Errorf("takes no arguments, got %q; give the service with --name and --image", pos))
	}
	var errs []error
	for _, e := range env {
		v, err := manifests.ParseEnv(e)
		errs = append(errs, err)
		p.Env = append(p.Env, v)
	}
	for _, s := range secretFiles {
		v, err := manifests.ParseSecretFile(s)
		errs = append(errs, err)
		p.SecretFiles = append(p.SecretFiles, v)
	}
	if p.Known, err = readReferences(refs); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return usageError(stderr, "manifests", err)
	}
	files, err := manifests.Generate(p)
	if err != nil {
		return usageError(stderr, "manifests", err)
	}
	if *out == "" {
		if _, err := stdout.Write(manifests.Join(files)); err != nil {
			return exitFail
		}
		return exitOK
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "paved manifests: %v\n", err)
		return exitFail
	}
	for _, f := range files {
		path := filepath.Join(*out, f.Name)
		if err := os.WriteFile(path, f.Content, 0o644); err != nil {
			fmt.Fprintf(stderr, "paved manifests: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "wrote %s\n", path)
	}
	return exitOK
}

// addManifests adds deploy/, the new service's manifests, to the files of paved new.
func addManifests(files map[string][]byte, name, image string) error {
	if image == "" {
		image = "registry.example.com/" + name + ":0.1.0"
	}
	set, err := manifests.Generate(manifests.Params{Name: name, Image: image})
	if err != nil {
		return err
	}
	for _, f := range set {
		files["deploy/"+f.Name] = f.Content
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite deploy/ from paved manifests")

// deploySets are the manifest sets the repository ships under deploy/, each written by
// paved manifests with these flags: hello as an example service, and the catalog on
// bbolt (one replica on a PersistentVolumeClaim) and on etcd (three replicas).
var deploySets = []struct {
	dir  string
	args []string
}{
	{"hello", []string{"--name", "hello", "--image", "registry.example.com/paved/hello:0.1.0",
		"--env", "SERVICE_ENV=production", "--env", "CATALOG_URL=http://catalog.platform:8080",
		"--env", "CATALOG_TOKEN=secret:hello-catalog:token",
		"--env", "OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector.observability:4318",
		"--env", "COMPLIANCE_MODE=enforce"}},
	{"catalog-bbolt", []string{"--name", "catalog", "--namespace", "platform", "--image", "registry.example.com/paved/catalog:0.1.0",
		"--env", "SERVICE_ENV=production", "--env", "CATALOG_STORE=bbolt", "--env", "CATALOG_DATA_DIR=/var/lib/catalog",
		"--data", "/var/lib/catalog", "--data-size", "2Gi",
		"--secret-file", "CATALOG_TOKENS_FILE=catalog-tokens:tokens",
		"--env", "CATALOG_ADMIN_TOKEN=secret:catalog-admin:token",
		"--config-reference", "docs/catalog.md"}},
	{"catalog-etcd", []string{"--name", "catalog", "--namespace", "platform", "--image", "registry.example.com/paved/catalog:0.1.0",
		"--replicas", "3",
		"--env", "SERVICE_ENV=production", "--env", "CATALOG_STORE=etcd",
		"--env", "ETCD_ENDPOINTS=http://etcd-0.etcd.platform:2379,http://etcd-1.etcd.platform:2379,http://etcd-2.etcd.platform:2379",
		"--secret-file", "CATALOG_TOKENS_FILE=catalog-tokens:tokens",
		"--env", "CATALOG_ADMIN_TOKEN=secret:catalog-admin:token",
		"--config-reference", "docs/catalog.md"}},
}

// TestDeployIsFresh fails when a set under deploy/ is not what paved manifests writes
// today (go test ./cmd/paved -run TestDeployIsFresh -update rewrites them), and checks
// each shipped set with paved check --manifests.
func TestDeployIsFresh(t *testing.T) {
	root := repoRoot(t)
	t.Chdir(root) // --config-reference paths are the repository's
	for _, set := range deploySets {
		out := filepath.Join(t.TempDir(), set.dir)
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"manifests", "--out", out}, set.args...), &stdout, &stderr); code != 0 {
			t.Fatalf("paved manifests for %s: exit %d\n%s", set.dir, code, stderr.String())
		}
		shipped := filepath.Join(root, "deploy", set.dir)
		entries, err := os.ReadDir(out)
		if err != nil {
			t.Fatal(err)
		}
		have, _ := os.ReadDir(shipped)
		if len(have) != len(entries) && !*update {
			t.Errorf("deploy/%s holds %d files, paved manifests writes %d: run go test ./cmd/paved -run TestDeployIsFresh -update", set.dir, len(have), len(entries))
		}
		for _, e := range entries {
			want, _ := os.ReadFile(filepath.Join(out, e.Name()))
			got, _ := os.ReadFile(filepath.Join(shipped, e.Name()))
			if bytes.Equal(got, want) {
				continue
			}
			if *update {
				if err := os.MkdirAll(shipped, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shipped, e.Name()), want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("deploy/%s/%s is stale: run go test ./cmd/paved -run TestDeployIsFresh -update", set.dir, e.Name())
		}
		args := []string{"check", "--manifests", shipped}
		for i, a := range set.args {
			if a == "--config-reference" {
				args = append(args, a, set.args[i+1])
			}
		}
		stdout.Reset()
		stderr.Reset()
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "PASS: the manifests agree") {
			t.Errorf("paved %s: exit %d, want 0\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
	}
}

// TestManifestCheckCommand: paved check --manifests exits 1 on a broken set, naming
// the rule, and 2 on bad arguments.
func TestManifestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"manifests", "--name", "shop", "--image", "x/shop:1", "--out", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("paved manifests: exit %d\n%s", code, stderr.String())
	}
	dep := filepath.Join(dir, "deployment.yaml")
	b, _ := os.ReadFile(dep)
	broken := strings.Replace(string(b), "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 10", 1)
	if broken == string(b) {
		t.Fatal("no terminationGracePeriodSeconds: 30 in the Deployment")
	}
	if err := os.WriteFile(dep, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"check", "--manifests", dir}, &stdout, &stderr); code != 1 || !strings.Contains(stdout.String(), "FAIL  grace-period") {
		t.Errorf("broken set: got exit %d\n%s\nwant 1 and FAIL grace-period", code, stdout.String())
	}
	// paved new --kubernetes writes a set that passes.
	svc := filepath.Join(t.TempDir(), "svc")
	if code := run(context.Background(), []string{"new", "example.com/acme/svc", "--owner", "team-a", "--kubernetes", "--image", "x/svc:2", "--dir", svc, "--paved-replace", repoRoot(t)}, &stdout, &stderr); code != 0 {
		t.Fatalf("paved new --kubernetes: exit %d\n%s", code, stderr.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"check", "--manifests", filepath.Join(svc, "deploy")}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "deployment/svc") {
		t.Errorf("check of paved new's deploy/: got exit %d\n%s\nwant 0 for deployment/svc", code, stdout.String())
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--manifests", filepath.Join(dir, "missing")}, "is not a directory"},
		{[]string{"check", "--manifests", dir, "http://127.0.0.1:9090"}, "takes no admin URL"},
		{[]string{"check", "--manifests", dir, "--config-reference", dep}, "holds no configuration table"},
		{[]string{"manifests", "--name", "Shop", "--image", "x"}, `--name "Shop" is not a DNS label`},
		{[]string{"manifests", "--name", "shop", "--image", "x", "--env", "SHUTDOWN_TIMOUT=1s"}, "did you mean SHUTDOWN_TIMEOUT?"},
		{[]string{"manifests", "--name", "shop", "--image", "x", "--data", "/d", "--replicas", "3"}, "1 with --data"},
		{[]string{"manifests", "--name", "shop", "--image", "x", "--env", "DRAIN_DELAY=5"}, `DRAIN_DELAY="5"`},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("paved %v: got exit %d, stderr %q, want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

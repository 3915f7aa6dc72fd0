package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kubeconform returns the kubeconform binary the tests validate manifests with
// (PAVED_TEST_KUBECONFORM, which scripts/testenv.sh builds from tools/kubeconform),
// skipping the test when it is unset, unless PAVED_TEST_REQUIRE_SERVERS=1.
func kubeconform(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PAVED_TEST_KUBECONFORM")
	if path == "" {
		if os.Getenv("PAVED_TEST_REQUIRE_SERVERS") == "1" {
			t.Fatal("PAVED_TEST_KUBECONFORM is not set, and PAVED_TEST_REQUIRE_SERVERS=1: build it with tools/build.sh tools/kubeconform kubeconform github.com/yannh/kubeconform/cmd/kubeconform")
		}
		t.Skip("PAVED_TEST_KUBECONFORM is not set")
	}
	return path
}

// validate runs kubeconform in strict mode on paths against the schemas kept in
// deploy/testdata/schemas (Kubernetes 1.35 and the PodMonitor CRD), with no schema
// fetched from the network and a missing schema an error.
func validate(t *testing.T, paths ...string) (string, error) {
	t.Helper()
	schemas := filepath.Join(repoRoot(t), "deploy", "testdata", "schemas")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"-strict", "-summary", "-schema-location", schemas + "/{{.ResourceKind}}{{.KindSuffix}}.json"}, paths...)
	out, err := exec.CommandContext(ctx, kubeconform(t), args...).CombinedOutput()
	return string(out), err
}

// TestManifestsAreSchemaValid: every set the repository ships under deploy/, and what
// paved manifests and paved new --kubernetes write in each shape (gRPC, data on a
// claim, a node range), is valid against the Kubernetes schemas.
func TestManifestsAreSchemaValid(t *testing.T) {
	kubeconform(t)
	dirs := []string{}
	for _, set := range deploySets {
		dirs = append(dirs, filepath.Join(repoRoot(t), "deploy", set.dir))
	}
	for i, args := range [][]string{
		{"--name", "shop", "--image", "x/shop:1", "--env", "GRPC_ADDR=:8081", "--node-cidr", "10.0.0.0/16", "--namespace", "shop"},
		{"--name", "store", "--image", "x/store:1", "--data", "/var/lib/store", "--env", "ADMIN_ADDR=:7070", "--env", "HTTP_ADDR=0.0.0.0:7000"},
	} {
		dir := filepath.Join(t.TempDir(), "set")
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"manifests", "--out", dir}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("paved manifests %d: exit %d\n%s", i, code, stderr.String())
		}
		dirs = append(dirs, dir)
	}
	newDir := filepath.Join(t.TempDir(), "svc")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"new", "example.com/acme/svc", "--owner", "team-a", "--kubernetes", "--dir", newDir, "--paved-replace", repoRoot(t)}, &stdout, &stderr); code != 0 {
		t.Fatalf("paved new --kubernetes: exit %d\n%s", code, stderr.String())
	}
	dirs = append(dirs, filepath.Join(newDir, "deploy"))
	out, err := validate(t, dirs...)
	if err != nil || !strings.Contains(out, "Invalid: 0, Errors: 0, Skipped: 0") {
		t.Errorf("kubeconform: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Valid: 32,") {
		t.Errorf("kubeconform: got %s, want 32 objects valid (16 shipped, 5 and 6 generated, 5 of paved new)", out)
	}
}

// TestSchemaValidationCatchesMistakes: a manifest with a misspelt field, a wrong type
// or a kind without a schema fails validation, naming what is wrong, so a pass above
// means something.
func TestSchemaValidationCatchesMistakes(t *testing.T) {
	kubeconform(t)
	hello := filepath.Join(repoRoot(t), "deploy", "hello")
	tests := []struct {
		file, old, new, want string
	}{
		{"deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", "additional properties 'readOnlyRootFileSystem' not allowed"},
		{"deployment.yaml", "containerPort: 8080", `containerPort: "8080"`, "got string, want integer"},
		{"deployment.yaml", "timeoutSeconds: 1", "timeoutSeconds: 1s", "got string, want integer"},
		{"service.yaml", "spec:", "spek:", "additional properties 'spek' not allowed"},
		{"networkpolicy.yaml", "policyTypes:", "policyType:", "additional properties 'policyType' not allowed"},
		{"poddisruptionbudget.yaml", "maxUnavailable: 1", "maxUnavailable: [1]", "maxUnavailable"},
		{"podmonitor.yaml", "podMetricsEndpoints:", "podMetricEndpoints:", "additional properties 'podMetricEndpoints' not allowed"},
		{"service.yaml", "kind: Service", "kind: Servce", "could not find schema for Servce"},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join(hello, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(tt.old)) {
			t.Fatalf("%s holds no %q", tt.file, tt.old)
		}
		bad := filepath.Join(t.TempDir(), tt.file)
		if err := os.WriteFile(bad, bytes.Replace(b, []byte(tt.old), []byte(tt.new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := validate(t, bad)
		if err == nil || !strings.Contains(out, tt.want) {
			t.Errorf("%s with %q: got %v\n%s\nwant a failure saying %q", tt.file, tt.new, err, out, tt.want)
		}
	}
}

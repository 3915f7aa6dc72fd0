package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	binDir    string // the binaries built for this run
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "paved-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// repoRoot is the Paved checkout these tests run in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// bin builds paved, examples/hello and testdata/badsvc once per test run, as users
// would, and returns the path of the one named.
func bin(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", binDir+string(filepath.Separator),
			"./cmd/paved", "./examples/hello", "./cmd/paved/testdata/badsvc")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// startService runs a service binary on free loopback ports and returns its admin and
// public addresses, read from its "service ready" log line. It is killed when the test
// ends.
func startService(t *testing.T, path string, env ...string) (admin, public string) {
	t.Helper()
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), "HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s", "LOG_FORMAT=json")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	type addrs struct{ admin, public string }
	ready := make(chan addrs, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct {
				Msg       string `json:"msg"`
				HTTPAddr  string `json:"http_addr"`
				AdminAddr string `json:"admin_addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "service ready" {
				ready <- addrs{rec.AdminAddr, rec.HTTPAddr}
			}
		}
		close(ready)
	}()
	select {
	case a, ok := <-ready:
		if !ok {
			t.Fatalf("%s exited without logging \"service ready\"", filepath.Base(path))
		}
		return a.admin, a.public
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not log \"service ready\" within 30s", filepath.Base(path))
	}
	return "", ""
}

// paved runs the built paved with args and returns its exit code and output.
func paved(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin(t, "paved"), args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("paved %v: %v", args, err)
	}
	return code, out.String(), errb.String()
}

// TestCheckCompliantHello: the compliant example passes every probe: exit 0.
func TestCheckCompliantHello(t *testing.T) {
	admin, public := startService(t, bin(t, "hello"))
	code, out, errOut := paved(t, "", "check", "http://"+admin)
	if code != 0 {
		t.Fatalf("exit: got %d, want 0\n%s%s", code, out, errOut)
	}
	for _, w := range []string{"service hello", "PASS  readyz", "PASS  metrics-openmetrics", "PASS  public-pprof", "GET http://" + public + "/debug/pprof/ answered 404", "PASS: compliant"} {
		if !strings.Contains(out, w) {
			t.Errorf("report: got\n%s\nwant it to contain %q", out, w)
		}
	}

	// The same as JSON, flags after the URL, with a bar of 100.
	code, out, _ = paved(t, "", "check", "http://"+admin, "--format", "json", "--min-score", "100")
	var res struct {
		Passed     bool
		PublicURL  string
		Compliance struct{ Score int }
		Findings   []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Passed || res.Compliance.Score != 100 || res.PublicURL != "http://"+public {
		t.Errorf("json: got exit %d, %+v (%v), want 0, passed, score 100, public %s\n%s", code, res, err, public, out)
	}
}

// TestCheckNonCompliantService: a service without owner, with pprof on in production
// and on its public port, and /metrics public: exit 1, each failure named with its fix.
func TestCheckNonCompliantService(t *testing.T) {
	admin, _ := startService(t, bin(t, "badsvc"), "PPROF_ENABLED=true", "SERVICE_ENV=production")
	code, out, errOut := paved(t, "", "check", "http://"+admin)
	if code != 1 {
		t.Fatalf("exit: got %d, want 1\n%s%s", code, out, errOut)
	}
	for _, w := range []string{
		"FAIL  compliance/owner-set", "Set Info.Owner",
		"FAIL  compliance/pprof-off",
		"FAIL  public-pprof", "answered 200: profiles are public",
		"FAIL  public-admin-endpoints", "the public port answers 200 on /metrics",
		"FAIL: ",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("report: got\n%s\nwant it to contain %q", out, w)
		}
	}
	if strings.Contains(out, "FAIL  readyz") || strings.Contains(out, "FAIL  metrics-text") {
		t.Errorf("report: got\n%s\nwant readyz and metrics to pass", out)
	}
}

// TestCheckUsageErrors: bad arguments and an unreachable service exit 2, saying which.
func TestCheckUsageErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"check"}, "want one admin URL"},
		{[]string{"check", "ftp://127.0.0.1:9090"}, "scheme must be http or https"},
		{[]string{"check", "127.0.0.1:9090"}, "did you mean http://127.0.0.1:9090?"},
		{[]string{"check", closed}, "does not answer"},
		{[]string{"check", closed, "--format", "xml"}, "--format must be text or json"},
		{[]string{"check", "--min-score", "ten", closed}, "invalid value"},
		{[]string{"export", "--format", "yaml", closed}, `backstage, compass or both, got "yaml"`},
		{[]string{"export", closed}, "does not answer"},
		{[]string{"new"}, "want one module path"},
		{[]string{"new", "github.com/acme/has space", "--owner", "team-a"}, "is not valid"},
		{[]string{"new", "github.com/acme/orders"}, "--owner is required"},
	}
	for _, tt := range tests {
		code, out, errOut := paved(t, t.TempDir(), tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("paved %v: got exit %d, stderr %q (stdout %q), want 2 and %q", tt.args, code, errOut, out, tt.want)
		}
	}
}

// TestExportHello: the descriptors written from hello's /info parse back to its name,
// owner, lifecycle and links.
func TestExportHello(t *testing.T) {
	admin, _ := startService(t, bin(t, "hello"))
	out := t.TempDir()
	code, stdout, errOut := paved(t, "", "export", "--out", out, "--format", "both", "http://"+admin)
	if code != 0 {
		t.Fatalf("exit: got %d, want 0\n%s%s", code, stdout, errOut)
	}
	backstage := yamlScalars(t, filepath.Join(out, "catalog-info.yaml"))
	for k, want := range map[string]string{
		"metadata.name": "hello", "spec.owner": "group:team-platform", "spec.lifecycle": "production",
		"spec.type": "service", "metadata.links.url": "https://github.com/paved-road/paved/tree/main/examples/hello",
	} {
		if got := backstage[k]; !contains(got, want) {
			t.Errorf("catalog-info.yaml %s: got %v, want %q", k, got, want)
		}
	}
	if got := backstage["metadata.links.url"]; !contains(got, "https://oncall.example.com/team-platform") {
		t.Errorf("catalog-info.yaml links: got %v, want the on-call link", got)
	}
	compass := yamlScalars(t, filepath.Join(out, "compass.yml"))
	for k, want := range map[string]string{
		"name": "hello", "labels": "owner:team-platform", "fields.lifecycle": "Active", "links.url": "https://oncall.example.com/team-platform",
	} {
		if got := compass[k]; !contains(got, want) {
			t.Errorf("compass.yml %s: got %v, want %q", k, got, want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// yamlScalars reads the block-style YAML the exporters write (mappings and lists of
// double-quoted or plain scalars) into dotted paths, each with every value found there.
// It fails the test on a line it cannot place, so malformed output does not pass.
func yamlScalars(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	type level struct {
		indent int
		key    string
	}
	var stack []level
	for n, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		text := strings.TrimSpace(line)
		item := strings.HasPrefix(text, "- ")
		if item {
			text = strings.TrimPrefix(text, "- ")
			indent += 2
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		var keys []string
		for _, l := range stack {
			keys = append(keys, l.key)
		}
		k, v, isMap := strings.Cut(text, ": ")
		if !isMap && strings.HasSuffix(text, ":") {
			stack = append(stack, level{indent, unquote(t, strings.TrimSuffix(text, ":"))})
			continue
		}
		if !isMap { // a list item scalar
			p := strings.Join(keys, ".")
			out[p] = append(out[p], unquote(t, text))
			continue
		}
		p := strings.Join(append(keys, unquote(t, k)), ".")
		if v == "" {
			t.Fatalf("%s:%d: cannot read %q", path, n+1, line)
		}
		out[p] = append(out[p], unquote(t, v))
	}
	return out
}

func unquote(t *testing.T, s string) string {
	t.Helper()
	if !strings.HasPrefix(s, `"`) {
		return s
	}
	var v string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad quoted scalar %s: %v", s, err)
	}
	return v
}

// TestNewServiceBuildsTestsAndChecks: a service made by paved new (linking the etcd
// backend, a module of its own) tidies, builds, passes its own tests, runs, and passes
// paved check with a score of 100.
func TestNewServiceBuildsTestsAndChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a whole new module")
	}
	root := repoRoot(t)
	dir := filepath.Join(t.TempDir(), "shop")
	code, out, errOut := paved(t, "", "new", "example.com/acme/shop-api", "--owner", "team-shop", "--dir", dir, "--paved-replace", root, "--registry", "etcd")
	if code != 0 {
		t.Fatalf("paved new: exit %d, want 0\n%s%s", code, out, errOut)
	}
	goCmd := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return string(b)
	}
	goCmd("mod", "tidy")
	goCmd("vet", "./...")
	goCmd("build", "-o", filepath.Join(dir, "shop-api.bin"), ".")
	if testOut := goCmd("test", "-count=1", "-v", "./..."); !strings.Contains(testOut, "--- PASS: TestService") {
		t.Errorf("go test: got\n%s\nwant TestService to pass", testOut)
	}
	admin, public := startService(t, filepath.Join(dir, "shop-api.bin"))
	resp, err := http.Get("http://" + public + "/hello?name=Ada")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "Hello, Ada!\n" {
		t.Errorf("/hello: got %q, want %q", body, "Hello, Ada!\n")
	}
	code, out, errOut = paved(t, "", "check", "http://"+admin, "--min-score", "100")
	if code != 0 || !strings.Contains(out, "service shop-api") {
		t.Errorf("paved check --min-score 100 of the new service: got exit %d, want 0 for shop-api\n%s%s", code, out, errOut)
	}
	desc, _ := os.ReadFile(filepath.Join(dir, "catalog-info.yaml"))
	if !strings.Contains(string(desc), `name: "shop-api"`) || !strings.Contains(string(desc), `owner: "group:team-shop"`) {
		t.Errorf("catalog-info.yaml: got\n%s\nwant shop-api owned by team-shop", desc)
	}
}

// TestNewRefusesNonEmptyDir: paved new writes nothing into a directory holding files.
func TestNewRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := paved(t, "", "new", "example.com/acme/orders", "--owner", "team-a", "--dir", dir, "--paved-replace", repoRoot(t))
	if code != 2 || !strings.Contains(errOut, "not an empty directory") || !strings.Contains(errOut, "notes.txt") {
		t.Errorf("got exit %d, stderr %q, want 2 naming the directory's content", code, errOut)
	}
	entries, _ := os.ReadDir(dir)
	if b, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); len(entries) != 1 || string(b) != "mine" {
		t.Errorf("directory after refusal: got %d entries, notes %q, want it untouched", len(entries), b)
	}
}

// TestNewFindsItsCheckout: a paved built from a checkout replaces Paved with that
// checkout when --paved-replace is not given; the default directory is the name.
func TestNewFindsItsCheckout(t *testing.T) {
	work := t.TempDir()
	code, out, errOut := paved(t, work, "new", "example.com/acme/Billing_Svc", "--owner", "team-b")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	gomod, err := os.ReadFile(filepath.Join(work, "billing-svc", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "replace github.com/paved-road/paved => " + repoRoot(t); !strings.Contains(string(gomod), want) {
		t.Errorf("go.mod: got\n%s\nwant %q", gomod, want)
	}
}

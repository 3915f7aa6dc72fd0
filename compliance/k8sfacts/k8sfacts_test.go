package k8sfacts_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"go.uber.org/goleak"

	"github.com/paved-road/paved/compliance"
	"github.com/paved-road/paved/compliance/k8sfacts"
	"github.com/paved-road/paved/service"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// helloManifests returns the manifests the project ships for hello (deploy/hello) as
// an embedded file system would hold them, with the admin containerPort moved to port
// and each edit applied (old, new pairs).
func helloManifests(t *testing.T, port int, edits ...string) fstest.MapFS {
	t.Helper()
	dir := filepath.Join("..", "..", "deploy", "hello")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "containerPort: 9090", "containerPort: "+strconv.Itoa(port))
		for i := 0; i+1 < len(edits); i += 2 {
			s = strings.Replace(s, edits[i], edits[i+1], 1)
		}
		fsys["deploy/hello/"+e.Name()] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

// freePort returns a loopback port free at the time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runHello runs a service named hello, told its manifests are fsys, with its admin
// server on port, and returns the kubernetes-manifests result its /compliance serves.
func runHello(t *testing.T, port int, fsys fstest.MapFS) compliance.RuleResult {
	t.Helper()
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{
		"SERVICE_NAME": "hello", "HTTP_ADDR": "127.0.0.1:0", "ADMIN_ADDR": "127.0.0.1:" + strconv.Itoa(port),
		"DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "5s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{Version: "1.0.0"}, &cfg, service.WithLogOutput(io.Discard), service.WithManifests(k8sfacts.FS(fsys)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-s.Ready():
	case err := <-done:
		done <- err
		t.Fatalf("the service stopped before it was ready: %v", err)
	}
	req, _ := http.NewRequest("GET", "http://"+s.AdminAddr().String()+"/compliance", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep compliance.Report
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	r, ok := rep.Result("kubernetes-manifests")
	if !ok {
		t.Fatalf("no kubernetes-manifests in /compliance: %+v", rep)
	}
	return r
}

// The manifests the project ships for hello agree with a hello running on their admin
// port: the rule passes in the running service's /compliance, citing the Deployment.
func TestRunningServiceManifestsAgree(t *testing.T) {
	port := freePort(t)
	r := runHello(t, port, helloManifests(t, port))
	if r.Status != compliance.StatusPass || !strings.Contains(r.Message, "deployment/hello (deploy/hello/deployment.yaml)") {
		t.Errorf("kubernetes-manifests: got %s %q, want a pass citing deployment/hello", r.Status, r.Message)
	}
}

// A readiness probe on the public port instead of the admin port fails the rule in the
// running service, naming the probe and both ports.
func TestRunningServiceWrongProbePort(t *testing.T) {
	port := freePort(t)
	fsys := helloManifests(t, port, "path: /readyz\n              port: admin", "path: /readyz\n              port: http")
	r := runHello(t, port, fsys)
	want := "the readiness probe is on port 8080, not the admin port " + strconv.Itoa(port)
	if r.Status != compliance.StatusFail || !strings.Contains(r.Message, want) {
		t.Errorf("kubernetes-manifests: got %s %q, want a failure with %q", r.Status, r.Message, want)
	}
}

// Without manifests the rule stays not applicable: nothing is read behind the team's back.
func TestRunningServiceWithoutManifests(t *testing.T) {
	cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{"SERVICE_NAME": "hello"}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := service.New(service.Info{}, &cfg, service.WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if k := s.Facts().Kubernetes; k != nil {
		t.Errorf("facts without WithManifests: got %+v, want none", k)
	}
}

// Manifests that hold no Deployment for the service, or do not parse, are a
// configuration error of New naming the option and what was found.
func TestManifestsConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, service string
		fsys          fstest.MapFS
		want          string
	}{
		{"no deployment for the service", "orders", helloManifests(t, 9090), `no Deployment named "orders" or labelled app.kubernetes.io/name=orders among deployment/hello (deploy/hello/deployment.yaml)`},
		{"no deployment at all", "hello", fstest.MapFS{"a.yaml": {Data: []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: hello\n")}}, "no Deployment among the 1 objects"},
		{"bad yaml", "hello", fstest.MapFS{"deploy/bad.yaml": {Data: []byte("kind: Deployment\nspec: [\n")}}, "deploy/bad.yaml"},
		{"two deployments", "hello", fstest.MapFS{
			"a.yaml": {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hello\n  namespace: a\n")},
			"b.yaml": {Data: []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: hello\n  namespace: b\n")},
		}, "2 Deployments run the service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := service.Load[service.Config](service.WithEnviron(map[string]string{"SERVICE_NAME": tc.service}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = service.New(service.Info{}, &cfg, service.WithLogOutput(io.Discard), service.WithManifests(k8sfacts.FS(tc.fsys)))
			var ce *service.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), "service.WithManifests") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: got %v, want a ConfigError naming service.WithManifests and %q", err, tc.want)
			}
		})
	}
}

// Dir reads a directory and names it in its errors.
func TestDir(t *testing.T) {
	k, err := k8sfacts.Dir(filepath.Join("..", "..", "deploy", "hello"))("hello")
	if err != nil || k.Source != "deployment/hello (deployment.yaml)" {
		t.Errorf("Dir: got %+v, %v", k, err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := k8sfacts.Dir(missing)("hello"); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Dir of a missing directory: got %v, want an error naming it", err)
	}
}

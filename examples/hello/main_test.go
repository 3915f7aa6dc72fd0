package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBuiltBinary builds the example as a user would and checks both ports.
func TestBuiltBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"HTTP_ADDR=127.0.0.1:0", "ADMIN_ADDR=127.0.0.1:0", "DRAIN_DELAY=0s", "SERVICE_VERSION=1.4.2"}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var httpAddr, adminAddr string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "service ready" {
			httpAddr, adminAddr = rec["http_addr"].(string), rec["admin_addr"].(string)
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	if httpAddr == "" {
		t.Fatal("no ready log line")
	}
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("http://" + httpAddr + "/hello?name=Ada"); code != 200 || body != "Hello, Ada!\n" {
		t.Errorf("/hello: got %d %q, want 200 %q", code, body, "Hello, Ada!\n")
	}
	if code, _ := get("http://" + adminAddr + "/readyz"); code != 200 {
		t.Errorf("/readyz: got %d, want 200", code)
	}
	if _, body := get("http://" + adminAddr + "/metrics"); !strings.Contains(body, `build_info{goversion="go1.`) ||
		!strings.Contains(body, `service="hello",version="1.4.2"`) || !strings.Contains(body, "go_memstats_alloc_bytes") {
		t.Errorf("/metrics lacks build_info or Go runtime metrics:\n%.800s", body)
	}
	var info struct{ Name, Version, Owner string }
	_, body := get("http://" + adminAddr + "/info")
	if err := json.Unmarshal([]byte(body), &info); err != nil || info.Version != "1.4.2" || info.Name != "hello" || info.Owner == "" {
		t.Errorf("/info: got %+v (%v), want hello 1.4.2 with an owner", info, err)
	}
	var rep struct {
		Compliant bool
		Score     int
	}
	_, body = get("http://" + adminAddr + "/compliance?format=json")
	if err := json.Unmarshal([]byte(body), &rep); err != nil || !rep.Compliant || rep.Score != 100 {
		t.Errorf("/compliance: got %+v (%v), want compliant with score 100:\n%s", rep, err, body)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("hello did not stop within 20s of SIGTERM")
	}
}
